"""Staff work (SPEC 12, issue 8): what a sales rep plans, does and is assessed on.

- ``QuotaPlan``: the daily quota of a working day (S0 preset: 2 new-customer visits, 3
  old-customer visits, 4 calls), global, per branch/store or per rep (the most specific wins).
- ``Account``: a rep's own customer (a member or just a name), regular or big (大客户).
- ``Prospect`` (意向客户): every walk-in registered, with level, follow-up due date and outcome
  (deal → a member; lost → a reason from the preset list, 战败原因).
- ``WorkLog`` (工作日志): one entry per visit, call or follow-up; the quota completion, the
  cadence compliance and the assessment are all computed from these rows.
- ``DailyPlan`` + ``PlanItem``: the planned visits and calls of a rep's day (entered by the rep or
  suggested by ``staff_tick`` from due cadences and follow-ups).
- ``Assessment``: a rep's month, filed with its figures frozen, signed off by a manager (an
  approval step: core.approvals).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.core.models import Store
from laoke.members.models import Member

USER = settings.AUTH_USER_MODEL


class LogKind(models.TextChoices):
    NEW_VISIT = "new_visit", _("New-customer visit")
    OLD_VISIT = "old_visit", _("Old-customer visit")
    CALL = "call", _("Call")
    OTHER = "other", _("Other")


VISIT_KINDS = (LogKind.NEW_VISIT, LogKind.OLD_VISIT)
QUOTA_KINDS = (LogKind.NEW_VISIT, LogKind.OLD_VISIT, LogKind.CALL)


class QuotaPlan(models.Model):
    """A daily quota. No row at all means the S0 preset (2 / 3 / 4, Monday–Friday)."""

    # "global", "store:<id>" or "rep:<id>": one plan per scope (set by the service)
    scope = models.CharField(_("scope"), max_length=32, unique=True)
    rep = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("sales rep")
    )
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("store")
    )
    new_visits = models.PositiveSmallIntegerField(_("new-customer visits a day"), default=2)
    old_visits = models.PositiveSmallIntegerField(_("old-customer visits a day"), default=3)
    calls = models.PositiveSmallIntegerField(_("calls a day"), default=4)
    # ISO weekdays that are working days, e.g. "12345" (Monday–Friday, the default)
    working_days = models.CharField(_("working weekdays"), max_length=7, default="12345")
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("quota plan")
        verbose_name_plural = _("quota plans")
        constraints = [
            models.CheckConstraint(
                condition=~(Q(rep__isnull=False) & Q(store__isnull=False)), name="staff_quota_one_scope"
            ),
        ]


class Account(models.Model):
    """A rep's own customer. Big customers (大客户) are also visited by the branch head."""

    class Size(models.TextChoices):
        REGULAR = "regular", _("Regular")
        BIG = "big", _("Big customer")

    name = models.CharField(_("name"), max_length=100)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    size = models.CharField(_("size"), max_length=16, choices=Size.choices, default=Size.REGULAR)
    rep = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("sales rep"))
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["rep", "active"])]


class LostReason(models.TextChoices):
    # The seed (002) asks for the month's lost reasons (战败原因) without listing them: a preset
    # list of the usual ones (default).
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Chose a competitor")
    PRODUCT = "product", _("Product or configuration")
    FINANCE = "finance", _("Financing or budget")
    POSTPONED = "postponed", _("Purchase postponed")
    UNREACHABLE = "unreachable", _("Could not be reached")
    SERVICE = "service", _("Unhappy with our service")
    OTHER = "other", _("Other")


class Prospect(models.Model):
    """意向客户: every walk-in is registered (seed 002: 登记每位来访客户的信息，并上报潜客系统)."""

    class Source(models.TextChoices):
        WALK_IN = "walk_in", _("Walk-in")
        PHONE = "phone", _("Phone enquiry")
        REFERRAL = "referral", _("Referral")
        ONLINE = "online", _("Online")
        EVENT = "event", _("Event")
        OTHER = "other", _("Other")

    class Level(models.TextChoices):
        # Dealer levels (seed 002 speaks of C and O classes): O ordered, H within a week,
        # A within two weeks, B within a month, C later.
        O = "O", _("O – ordered")  # noqa: E741
        H = "H", _("H – buys within 7 days")
        A = "A", _("A – buys within 15 days")
        B = "B", _("B – buys within 30 days")
        C = "C", _("C – later")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Deal")
        LOST = "lost", _("Lost")

    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.WALK_IN)
    interest = models.CharField(_("interest"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=1, choices=Level.choices, default=Level.C)
    key = models.BooleanField(_("key lead"), default=False)
    rep = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("sales rep"))
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    registered_at = models.DateTimeField(_("registered at"))
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    follow_ups = models.PositiveIntegerField(_("follow-ups"), default=0)
    last_follow_up_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=16, choices=LostReason.choices, blank=True)
    close_note = models.CharField(_("note"), max_length=300, blank=True)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )

    class Meta:
        verbose_name = _("prospect")
        verbose_name_plural = _("prospects")
        indexes = [
            models.Index(fields=["rep", "status", "next_follow_up_on"]),
            models.Index(fields=["status", "closed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True, lost_reason="")
                | Q(status="won", closed_at__isnull=False, lost_reason="")
                | Q(status="lost", closed_at__isnull=False) & ~Q(lost_reason=""),
                name="staff_prospect_outcome",
            )
        ]


class WorkLog(models.Model):
    """工作日志: a visit, a call or another piece of work, about an account or a prospect."""

    rep = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff"))
    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("kind"), max_length=16, choices=LogKind.choices)
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="logs",
        verbose_name=_("customer"),
    )
    prospect = models.ForeignKey(
        Prospect,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="logs",
        verbose_name=_("prospect"),
    )
    # Whether the visitor was a branch head (sales manager) when it was logged: big customers'
    # quarterly cadence counts only their visits.
    by_head = models.BooleanField(_("by the branch head"), default=False)
    content = models.TextField(_("content"), blank=True)
    result = models.CharField(_("result"), max_length=300, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("work log")
        verbose_name_plural = _("work logs")
        indexes = [
            models.Index(fields=["rep", "at"]),
            models.Index(fields=["account", "at"]),
            models.Index(fields=["prospect", "at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=True) | Q(prospect__isnull=True), name="staff_log_one_subject"
            )
        ]
        permissions = [
            ("view_team", _("Can see the work of the reps of own branch")),
            ("view_all", _("Can see the work of every rep")),
        ]


class DailyPlan(models.Model):
    rep = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+", verbose_name=_("sales rep"))
    day = models.DateField(_("day"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("daily plan")
        verbose_name_plural = _("daily plans")
        constraints = [models.UniqueConstraint(fields=["rep", "day"], name="staff_plan_rep_day")]


class PlanItem(models.Model):
    class Origin(models.TextChoices):
        MANUAL = "manual", _("Planned by the rep")
        CADENCE = "cadence", _("Visit cadence due")
        FOLLOW_UP = "follow_up", _("Follow-up due")

    plan = models.ForeignKey(
        DailyPlan, on_delete=models.CASCADE, related_name="items", verbose_name=_("plan")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=LogKind.choices)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    prospect = models.ForeignKey(
        Prospect,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("prospect"),
    )
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=True) | Q(prospect__isnull=True), name="staff_item_one_subject"
            ),
            # a suggestion is made once per subject and day (staff_tick may run many times)
            models.UniqueConstraint(
                fields=["plan", "account"], condition=~Q(origin="manual"), name="staff_item_suggest_account"
            ),
            models.UniqueConstraint(
                fields=["plan", "prospect"], condition=~Q(origin="manual"), name="staff_item_suggest_prospect"
            ),
        ]


class Assessment(models.Model):
    """A rep's monthly assessment (月度考核), filed and signed off by a manager."""

    class State(models.TextChoices):
        FILED = "filed", _("Filed")
        SIGNED = "signed", _("Signed off")

    rep = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("sales rep"))
    month = models.DateField(_("month"))  # the first day of the month
    figures = models.JSONField(_("figures"), default=dict)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.FILED)
    requested_by = models.ForeignKey(
        USER, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("filed by")
    )
    requester_roles = models.JSONField(_("roles of the filer"), default=list)
    filed_at = models.DateTimeField(_("filed at"))
    signed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("signed by")
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    sign_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(fields=["rep", "month"], name="staff_assessment_rep_month"),
            models.CheckConstraint(
                condition=Q(state="filed", signed_at__isnull=True)
                | Q(state="signed", signed_at__isnull=False),
                name="staff_assessment_signed",
            ),
        ]
        permissions = [("sign_assessment", _("Can sign off monthly assessments"))]
