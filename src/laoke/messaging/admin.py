"""The outbox in the console: read-only (messages are rows written by services)."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from .models import Message


@admin.register(Message)
class MessageAdmin(ModelAdmin):
    list_display = ("created_at", "purpose", "member", "channel", "kind", "state", "attempts", "sent_at")
    list_filter = ("state", "channel", "kind")
    search_fields = ("purpose", "provider_message_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
