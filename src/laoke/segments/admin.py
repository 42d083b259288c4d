"""Segments in the admin: read-only lists (segments are edited in the console builder through the
services; snapshots are audit records)."""

from django.contrib import admin

from laoke.core.admin import ReadOnlyAdmin

from .models import Segment, SegmentSnapshot


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "kind", "preset", "archived", "updated_at")
    list_filter = ("kind", "archived")
    search_fields = ("name",)


@admin.register(SegmentSnapshot)
class SegmentSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("id", "segment", "key", "state", "member_count", "taken_at", "completed_at", "job_id")
    list_filter = ("state",)
    search_fields = ("key", "job_id")
