"""Multi-wave re-marketing campaigns (SPEC 9): the campaign, its branches and waves, who is in it
(treatment or the held-out control, drawn once), each wave's runs (one per loop) and what happened
to every member in each run.

The per-member ``Contact`` rows are the evaluation's ground truth: a treatment member *contacted*
(a message or staff task was written for them), *suppressed* (a guard stopped it, with the reason)
or *control* (held out, but measured exactly like the contacted ones: same run, same time, same
entry filter). Messages themselves live in the outbox (``messaging.Message``) under the purpose
``campaign:{campaign}:wave:{wave}:loop:{loop}``, unique per member — a restarted wave writes
nobody twice.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.channels.models import MessageTemplate
from laoke.members.models import Member
from laoke.promotions.models import Coupon, CouponTemplate
from laoke.segments.models import Segment, SegmentSnapshot


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("draft")
    APPROVED = "approved", _("approved")
    SCHEDULED = "scheduled", _("scheduled")
    RUNNING = "running", _("running")
    PAUSED = "paused", _("paused")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class Objective(models.TextChoices):
    RETENTION = "retention", _("bring old customers back")
    REACTIVATION = "reactivation", _("reactivate dormant members")
    CLEARANCE = "clearance", _("clear stock")
    NEW_PRODUCT = "new_product", _("launch a new product")
    EVENT = "event", _("event or holiday")
    CARE = "care", _("care and service")


class TargetMetric(models.TextChoices):
    RESPONSE_RATE = "response_rate", _("response rate (basis points)")
    ORDERS = "orders", _("incremental orders")
    REVENUE = "revenue", _("incremental revenue (fen)")
    SALES_GROWTH = "sales_growth", _("sales growth (basis points)")


class Attribution(models.TextChoices):
    CODE = "code", _("coupon or channel code only")
    WINDOW = "window", _("code, or an order in the evaluation window (last touch)")


class Source(models.TextChoices):
    LAOKE = "laoke", _("run by Laoke")
    EXTERNAL = "external", _("run elsewhere (imported for evaluation)")


class Campaign(models.Model):
    name = models.CharField(_("canonical name (统一命名)"), max_length=120, unique=True)
    plain_terms = models.TextField(
        _("plain terms for service agents"),
        max_length=2000,
        blank=True,
        help_text=_(
            "What the offer means in plain words, shown to agents next to the messages a member got."
        ),
    )
    objective = models.CharField(_("objective"), max_length=16, choices=Objective.choices)
    target_metric = models.CharField(
        _("target metric"), max_length=16, choices=TargetMetric.choices, default=TargetMetric.RESPONSE_RATE
    )
    target_value = models.BigIntegerField(_("target value"), default=0)
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("audience segment"),
    )
    # An external campaign (SPEC 11) was run elsewhere: its contacts and orders are imported
    # (analytics.ExternalContact / ExternalOrder) and it is only evaluated, never dispatched.
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.LAOKE)
    snapshot = models.ForeignKey(
        SegmentSnapshot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("audience snapshot"),
    )
    holdout_bp = models.PositiveIntegerField(_("control group share (basis points)"), default=1000)
    seed = models.BigIntegerField(_("random seed of the control draw"))
    attribution = models.CharField(
        _("attribution"), max_length=8, choices=Attribution.choices, default=Attribution.WINDOW
    )
    budget_fen = models.PositiveBigIntegerField(_("budget (fen)"), null=True, blank=True)
    spent_fen = models.PositiveBigIntegerField(_("spent (fen)"), default=0, editable=False)
    old_budget_bp = models.PositiveIntegerField(
        _("share of the budget for old customers (basis points)"), null=True, blank=True
    )
    preset = models.CharField(_("preset"), max_length=32, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=CampaignState.choices, default="draft")
    stop_reason = models.CharField(_("stop reason"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("evaluation ends at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    members_drawn = models.PositiveIntegerField(_("members drawn"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [
            ("approve_campaign", _("Can approve campaigns")),
            ("launch_campaign", _("Can schedule, pause, resume and cancel campaigns")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(holdout_bp__lte=5000), name="campaign_holdout_at_most_half"),
            models.CheckConstraint(
                condition=Q(source="external") | Q(segment__isnull=False),
                name="campaign_segment_unless_external",
            ),
            models.CheckConstraint(
                condition=Q(budget_fen__isnull=True) | Q(spent_fen__lte=models.F("budget_fen")),
                name="campaign_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def purpose_prefix(self) -> str:
        return f"campaign:{self.pk}:"


class Branch(models.Model):
    """A subgroup of the audience with its own waves (S1 mother-baby: food / daily / durable).
    A member belongs to the first branch (by position) whose rule matches; ``rule`` is a
    segments rule tree, empty = everyone left."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="branches")
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=60)
    rule = models.JSONField(_("rule"), default=dict, blank=True)
    eval_days_after_last_wave = models.PositiveSmallIntegerField(
        _("evaluated days after its last wave"), default=2
    )

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="branch_position_uniq"),
            models.UniqueConstraint(fields=["campaign", "name"], name="branch_name_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


MESSAGE_CHANNELS = frozenset({"sms", "email", "webhook"})  # through the outbox
TASK_CHANNELS = frozenset({"call", "visit", "mail"})  # staff tasks (客服 calls, visits, direct mail)


class Entry(models.TextChoices):
    ALL = "all", _("everyone in the branch")
    NO_ORDER = "no_order", _("no order since the previous wave")
    ORDERED = "ordered", _("ordered since the previous wave")


class Wave(models.Model):
    """One step of a branch's sequence. Timing: ``send_at`` if given, otherwise ``delay_days``
    after the previous wave of the branch (the campaign start for the first), at ``send_time``
    shop time when given. Loops: the wave runs ``loops`` times, every ``loop_every_days``, each
    time only to the members of the previous run who have not ordered since it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="waves")
    branch = models.ForeignKey(
        Branch,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waves",
        verbose_name=_("branch"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=60)
    template = models.ForeignKey(
        MessageTemplate,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("message template"),
        help_text=_("Its channel (SMS, email, webhook, call, visit, direct mail) is the wave's channel."),
    )
    offer = models.ForeignKey(
        CouponTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offer (coupon, free-shipping card or gift)"),
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    delay_days = models.PositiveSmallIntegerField(_("days after the previous wave"), default=0)
    send_time = models.TimeField(_("time of day (shop time)"), null=True, blank=True)
    entry = models.CharField(_("who enters"), max_length=8, choices=Entry.choices, default=Entry.ALL)
    eval_days = models.PositiveSmallIntegerField(_("evaluation window (days)"), default=10)
    loops = models.PositiveSmallIntegerField(_("runs (loops)"), default=1)
    loop_every_days = models.PositiveSmallIntegerField(_("days between runs"), default=30)
    channel_code = models.CharField(_("channel code"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("wave")
        verbose_name_plural = _("waves")
        ordering = ["campaign", "branch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "branch", "position"], name="wave_position_uniq"),
            models.UniqueConstraint(
                fields=["campaign", "position"],
                condition=Q(branch__isnull=True),
                name="wave_position_nobranch_uniq",
            ),
            models.CheckConstraint(condition=Q(loops__gte=1) & Q(loops__lte=24), name="wave_loops_range"),
            models.CheckConstraint(
                condition=Q(loops=1) | Q(loop_every_days__gte=1), name="wave_loop_interval_positive"
            ),
            models.CheckConstraint(condition=Q(eval_days__gte=1), name="wave_eval_days_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def channel(self) -> str:
        return self.template.channel


class Arm(models.TextChoices):
    TREATMENT = "treatment", _("treatment")
    CONTROL = "control", _("control (held out)")


class CampaignMember(models.Model):
    """Who is in the campaign, drawn once at launch: the arm (seeded, stratified by branch) and
    the branch. Never changed afterwards."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    arm = models.CharField(_("arm"), max_length=10, choices=Arm.choices)
    job_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member"], name="campaignmember_uniq"),
        ]
        indexes = [models.Index(fields=["campaign", "branch", "member"], name="campaignmember_branch_idx")]


class RunState(models.TextChoices):
    PENDING = "pending", _("pending")
    MATERIALISING = "materialising", _("writing messages")
    DONE = "done", _("written")
    SKIPPED = "skipped", _("skipped")
    CANCELLED = "cancelled", _("cancelled")


class WaveRun(models.Model):
    """One loop of one wave: due at ``due_at``; materialised in chunks in member-id order,
    ``cursor`` being the last member id written (a crash resumes there)."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="runs")
    loop = models.PositiveSmallIntegerField(_("loop"))
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(_("state"), max_length=14, choices=RunState.choices, default=RunState.PENDING)
    cursor = models.BigIntegerField(default=0)
    contacted = models.PositiveIntegerField(_("contacted"), default=0)
    suppressed = models.PositiveIntegerField(_("suppressed"), default=0)
    control = models.PositiveIntegerField(_("control"), default=0)
    cost_fen = models.PositiveBigIntegerField(_("cost (fen)"), default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("wave run")
        verbose_name_plural = _("wave runs")
        ordering = ["due_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["wave", "loop"], name="waverun_uniq")]
        indexes = [models.Index(fields=["state", "due_at"], name="waverun_due_idx")]

    @property
    def purpose(self) -> str:
        return f"campaign:{self.wave.campaign_id}:wave:{self.wave_id}:loop:{self.loop}"


class Outcome(models.TextChoices):
    CONTACTED = "contacted", _("contacted")
    SUPPRESSED = "suppressed", _("suppressed")
    CONTROL = "control", _("control (not contacted)")


class Contact(models.Model):
    """A member's part in one run: contacted, suppressed (why) or held out as control."""

    run = models.ForeignKey(WaveRun, on_delete=models.CASCADE, related_name="contacts")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=120, blank=True)
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("at"))
    window_ends_at = models.DateTimeField(_("evaluation window ends"))

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [models.UniqueConstraint(fields=["run", "member"], name="contact_uniq")]
        indexes = [models.Index(fields=["member", "at"], name="contact_member_idx")]


class CampaignSettings(models.Model):
    """One row (pk 1): the shop's marketing guards (SPEC 9 defaults)."""

    quiet_start = models.TimeField(_("quiet hours start (shop time)"), default=time(21, 0))
    quiet_end = models.TimeField(_("quiet hours end (shop time)"), default=time(8, 0))
    sms_per_day = models.PositiveSmallIntegerField(_("marketing SMS per member per day"), default=1)
    sms_per_month = models.PositiveSmallIntegerField(_("marketing SMS per member per 30 days"), default=4)
    email_per_day = models.PositiveSmallIntegerField(_("marketing emails per member per day"), default=1)
    email_per_month = models.PositiveSmallIntegerField(
        _("marketing emails per member per 30 days"), default=8
    )
    cool_off_hours = models.PositiveSmallIntegerField(
        _("no offers for this many hours after a purchase"), default=48
    )
    refund_suppress_days = models.PositiveSmallIntegerField(
        _("no marketing for this many days after a refund (退款中)"), default=7
    )
    sms_fen_per_segment = models.PositiveSmallIntegerField(_("SMS price per segment (fen)"), default=5)
    email_fen = models.PositiveSmallIntegerField(_("email price (fen)"), default=0)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("campaign settings")
        verbose_name_plural = _("campaign settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="campaignsettings_singleton")]

    def __str__(self) -> str:
        return str(_("campaign settings"))
