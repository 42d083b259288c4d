"""Admin lists of the channels app (read-only): templates are edited on the console's template
editor (validated and audited by the services), staff tasks are worked on the call list."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import ReadOnlyAdmin

from . import selectors
from .models import MessageTemplate, StaffTask


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ReadOnlyAdmin):
    list_display = ("name", "channel", "kind", "is_active", "updated_at", "editor")
    list_filter = ("channel", "kind", "is_active")
    search_fields = ("name", "body")
    fields = (
        "name",
        "channel",
        "kind",
        "signature",
        "subject",
        "body",
        "html_body",
        "is_active",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description=_("editor"))
    def editor(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("channels_template_edit", args=[obj.pk]), _("edit"))


@admin.register(StaffTask)
class StaffTaskAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "member", "purpose", "assignee", "due_at", "state", "outcome", "done_at")
    list_filter = ("kind", "state", "outcome")
    search_fields = ("purpose", "member__code", "channel_code")
    list_select_related = ("member", "assignee")
    fields = (
        "kind",
        "member",
        "purpose",
        "body",
        "channel_code",
        "assignee",
        "due_at",
        "state",
        "outcome",
        "note",
        "created_at",
        "done_at",
        "done_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # the same visibility as the call list: agents see theirs and the unassigned ones
        return selectors.task_list(request.user)
