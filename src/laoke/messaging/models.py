"""The outbox: every message is a row first and sent second (ARCHITECTURE rule 7).

States: waiting → sending (claimed with a lease) → sent | failed. A row is unique per
(purpose, member): enqueueing the same purpose twice for a member is a no-op, which is
what makes retries and campaign restarts safe.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.members.models import Member


class Message(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Suppressed")

    class Kind(models.TextChoices):
        TRANSACTIONAL = "transactional", _("Transactional")
        MARKETING = "marketing", _("Marketing")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook")

    class Delivery(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Undelivered")

    purpose = models.CharField(_("purpose"), max_length=120)
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="messages", verbose_name=_("member")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    to_address = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.WAITING)
    not_before = models.DateTimeField(_("not before"), db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider = models.CharField(max_length=64, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    error = models.CharField(max_length=500, blank=True)
    segments = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    job_id = models.CharField(max_length=64, blank=True, db_index=True)
    # SMS providers that send by template (Aliyun, Tencent): the provider's template code and its
    # parameters; empty = the configured generic template whose only parameter is the body.
    template_code = models.CharField(_("provider template code"), max_length=64, blank=True)
    template_params = models.JSONField(_("provider template parameters"), null=True, blank=True)
    # Delivery receipts (the carrier's report after the provider accepted the message).
    delivery = models.CharField(
        _("delivery"), max_length=16, choices=Delivery.choices, default=Delivery.UNKNOWN
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_error = models.CharField(_("delivery error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["purpose", "member"], name="message_purpose_member_uniq"),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_until__isnull=False), name="message_sending_has_lease"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "not_before"], name="message_due_idx"),
            models.Index(fields=["provider", "provider_message_id"], name="message_provider_id_idx"),
            models.Index(fields=["member", "state"], name="message_member_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.member_id} ({self.channel})"


class InboundMessage(models.Model):
    """A reply received from a member (SMS up / 上行): unsubscribe keywords are acted on at once,
    anything else waits here for the service desk."""

    class Action(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        STORED = "stored", _("Stored for the service desk")

    channel = models.CharField(_("channel"), max_length=16, choices=Message.Channel.choices, default="sms")
    provider = models.CharField(_("provider"), max_length=64)
    provider_ref = models.CharField(_("provider reference"), max_length=128, blank=True)
    from_address = models.CharField(_("from"), max_length=254)
    text = models.TextField(_("text"), blank=True)
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
        verbose_name=_("member"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    received_at = models.DateTimeField(_("received at"))
    handled = models.BooleanField(_("handled"), default=False)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_ref"],
                condition=~Q(provider_ref=""),
                name="inbound_provider_ref_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.text[:30]}"
