"""The outbox in the console: read-only (messages are rows written by services)."""

from django.contrib import admin

from laoke.core.admin import ReadOnlyAdmin

from .models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "purpose", "member", "channel", "kind", "state", "attempts", "sent_at")
    list_filter = ("state", "channel", "kind")
    search_fields = ("purpose", "provider_message_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Message._meta.fields]
