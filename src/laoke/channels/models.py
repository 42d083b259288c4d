"""Content of the non-SMS-transport half of the channels app: message templates and staff tasks.

- ``MessageTemplate``: what a campaign wave (or an operator) sends on a channel, with ``{name}``
  placeholders checked against the known variables when it is saved (channels/templating.py).
- ``StaffTask``: one phone call, visit or piece of direct mail for one member, created once per
  (purpose, member) — campaigns use ``campaign:{id}:wave:{id}:loop:{k}`` purposes — worked by
  客服 who record an outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.members.models import Member


class TemplateChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")
    MAIL = "mail", _("Direct mail")


class TemplateKind(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TRANSACTIONAL = "transactional", _("Transactional")


class MessageTemplate(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=TemplateChannel.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=TemplateKind.choices)
    signature = models.CharField(_("SMS signature"), max_length=12, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in TemplateChannel]), name="msgtemplate_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in TemplateKind]), name="msgtemplate_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(channel="sms") | Q(signature__regex=r"^.{2,12}$"),
                name="msgtemplate_sms_signature",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.channel})"


class StaffTask(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Phone call")
        VISIT = "visit", _("Visit")
        MAIL = "mail", _("Direct mail")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        REFUSED = "refused", _("Refused")
        CALL_BACK = "call_back", _("Call back later")
        WILL_VISIT = "will_visit", _("Will visit")
        PURCHASED = "purchased", _("Purchased")
        MAILED = "mailed", _("Mailed")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="staff_tasks", verbose_name=_("member")
    )
    purpose = models.CharField(_("purpose"), max_length=120)
    body = models.TextField(_("script"), blank=True)
    channel_code = models.CharField(_("channel code"), max_length=32, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_tasks",
        verbose_name=_("assignee"),
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("done by"),
    )
    job_id = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("staff task")
        verbose_name_plural = _("staff tasks")
        ordering = ["due_at", "pk"]
        permissions = [
            ("complete_stafftask", _("Can work staff tasks and record their outcome")),
            ("assign_stafftask", _("Can assign and cancel staff tasks")),
            ("export_directmail", _("Can export direct-mail lists (names and addresses)")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "member"], name="stafftask_purpose_member_uniq"),
            models.CheckConstraint(
                condition=Q(kind__in=["call", "visit", "mail"]), name="stafftask_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="done", done_at__isnull=False) | (~Q(state="done") & Q(outcome="")),
                name="stafftask_done_has_time",
            ),
        ]
        indexes = [models.Index(fields=["state", "assignee", "due_at"], name="stafftask_worklist_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.member_id} ({self.purpose})"
