"""The outbox in the console: read-only (messages are rows written by services).

The recipient's mobile / email is personal information: the list always shows it masked; the
detail page shows it in full only to holders of ``members.view_pii`` and writes a 'pii.view'
audit row when it does. The object rule applies: without ``members.see_group_members`` the
messages of group-account members are not listed.
"""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import ReadOnlyAdmin
from laoke.core.audit import audit_write
from laoke.members.selectors import can_see_pii, member_visible_queryset
from laoke.members.validation import mask_email, mask_mobile, mobile_national

from .models import InboundMessage, Message

HIDDEN = {"to_address", "member"}


def _masked(message: Message) -> str:
    if message.channel == Message.Channel.WEBHOOK:  # the member's code, not personal data
        return message.to_address
    if message.channel == Message.Channel.SMS:
        return mask_mobile(message.to_address)
    return mask_email(message.to_address)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "purpose",
        "member_code",
        "recipient_masked",
        "channel",
        "kind",
        "state",
        "delivery",
        "attempts",
        "sent_at",
        "error",
    )
    list_filter = ("state", "delivery", "channel", "kind")
    search_fields = ("purpose", "job_id", "provider_message_id", "member__code")
    date_hierarchy = "created_at"
    list_select_related = ("member",)
    ordering = ("-id",)

    def get_queryset(self, request):
        visible = member_visible_queryset(request.user, include_inactive=True)
        return super().get_queryset(request).filter(member__in=visible.values("pk"))

    def get_fields(self, request, obj=None):
        names = [f.name for f in Message._meta.fields if f.name not in HIDDEN and f.name != "id"]
        return ["member_code", "recipient", *names]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("member"), ordering="member__code")
    def member_code(self, obj):
        return obj.member.code

    @admin.display(description=_("to"))
    def recipient_masked(self, obj):
        return _masked(obj)

    @admin.display(description=_("to"))
    def recipient(self, obj):
        if getattr(obj, "_show_pii", False):
            return mobile_national(obj.to_address) if obj.channel == Message.Channel.SMS else obj.to_address
        return _masked(obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and obj.to_address and can_see_pii(request.user) and request.method == "GET":
            obj._show_pii = True
            with transaction.atomic():
                audit_write(
                    action="pii.view",
                    obj=obj.member,
                    after={
                        "fields": ["mobile" if obj.channel == Message.Channel.SMS else "email"],
                        "message": obj.pk,
                    },
                    actor=request.user,
                )
        return obj


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    """Replies to our SMS (上行) for the service desk; unsubscribes were already acted on. The
    sender's number is masked like the outbox's recipients."""

    list_display = ("received_at", "sender_masked", "member_code", "text", "action", "provider")
    list_filter = ("action", "handled", "provider")
    search_fields = ("text", "member__code")
    date_hierarchy = "received_at"
    list_select_related = ("member",)
    ordering = ("-id",)
    fields = ("received_at", "sender_masked", "member_code", "text", "action", "provider", "provider_ref")
    readonly_fields = fields

    def get_queryset(self, request):
        visible = member_visible_queryset(request.user, include_inactive=True)
        qs = super().get_queryset(request)
        return qs.filter(member__isnull=True) | qs.filter(member__in=visible.values("pk"))

    @admin.display(description=_("from"))
    def sender_masked(self, obj):
        return mask_mobile(obj.from_address)

    @admin.display(description=_("member"), ordering="member__code")
    def member_code(self, obj):
        return obj.member.code if obj.member_id else ""
