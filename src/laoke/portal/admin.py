"""Console pages for member sign-in: read-only (codes show no hash, sessions no token)."""

from __future__ import annotations

from django.contrib import admin

from laoke.core.admin import ReadOnlyAdmin

from .models import LoginCode, MemberSession


@admin.register(MemberSession)
class MemberSessionAdmin(ReadOnlyAdmin):
    list_display = ("member", "created_at", "expires_at", "revoked_at", "ip")
    list_filter = ("revoked_at",)
    search_fields = ("member__code", "member__mobile", "ip")
    raw_id_fields = ("member",)
    date_hierarchy = "created_at"
    exclude = ("token_hash",)
    actions = None


@admin.register(LoginCode)
class LoginCodeAdmin(ReadOnlyAdmin):
    list_display = ("pk", "member", "created_at", "expires_at", "attempts", "used_at", "ip")
    search_fields = ("member__code", "ip")
    raw_id_fields = ("member",)
    date_hierarchy = "created_at"
    exclude = ("code_hash", "mobile")
    actions = None
