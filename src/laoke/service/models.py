"""Service desk (SPEC 12): cases (reviews and complaints) with handling by level, assignment, due
times and escalation; the care-content and call-case libraries; greeting and reactivation rules.
See docs/decisions/0033-service.md."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.campaigns.models import Campaign
from laoke.channels.models import MessageTemplate
from laoke.core.models import Store
from laoke.members.models import Member
from laoke.orders.models import Order, OrderReview, ReviewLevel
from laoke.promotions.models import CouponTemplate

Level = ReviewLevel
COMPLAINT_LEVELS = (Level.DISSATISFIED, Level.CRITICISM)


class Method(models.TextChoices):
    TEXT = "text", _("Online text reply")
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Visit")


class HandlingRule(models.Model):
    """Level → how it is handled and within how many hours (seed 003: 褒奖/一般/不满/批评 →
    网络文字互动/电话沟通/现场回访)."""

    level = models.CharField(_("level"), max_length=16, choices=Level.choices, unique=True)
    method = models.CharField(_("handling"), max_length=8, choices=Method.choices)
    due_hours = models.PositiveIntegerField(_("due within (hours)"))

    class Meta:
        verbose_name = _("handling rule")
        verbose_name_plural = _("handling rules")
        constraints = [models.CheckConstraint(condition=Q(due_hours__gte=1), name="handlingrule_hours_pos")]


class EscalationStep(models.Model):
    """One level of the escalation chain (seed 003: staff → branch head → marketing department →
    leadership). Level 0 is the assigned agent (by member type); ``hours`` is how long a case may
    stay overdue at this level before it goes one level up."""

    level = models.PositiveSmallIntegerField(_("level"), unique=True)
    name = models.CharField(_("name"), max_length=60)
    role = models.CharField(_("role"), max_length=32, blank=True)
    hours = models.PositiveIntegerField(_("hours at this level"), default=24)

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["level"]


class ServiceCase(models.Model):
    class Source(models.TextChoices):
        REVIEW = "review", _("Order review")
        DEFAULT_REVIEW = "default_review", _("Default review (COD)")
        PHONE = "phone", _("Phone")
        H5 = "h5", _("H5 page")
        STAFF = "staff", _("Staff")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="service_cases", verbose_name=_("member")
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    review = models.OneToOneField(
        OrderReview,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_case",
        verbose_name=_("review"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    text = models.TextField(_("text"), blank=True, max_length=2000)
    method = models.CharField(_("handling"), max_length=8, choices=Method.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_cases",
        verbose_name=_("owner"),
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("store")
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("filed by"),
    )
    updated_at = models.DateTimeField(_("updated at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("service case")
        verbose_name_plural = _("service cases")
        permissions = [
            ("view_all_servicecase", _("Can see every service case")),
            ("handle_servicecase", _("Can handle service cases (contact log, outcome)")),
            ("assign_servicecase", _("Can assign service cases and take in reviews")),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="servicecase_state_due"),
            models.Index(fields=["assignee", "state"], name="servicecase_owner_state"),
            models.Index(fields=["member", "state"], name="servicecase_member_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["open", "in_progress"]) | Q(resolved_at__isnull=False),
                name="servicecase_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=Q(review__isnull=True) | Q(source__in=["review", "default_review"]),
                name="servicecase_review_source",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_level_display()}"


class CaseContact(models.Model):
    """One entry of a case's contact log (a call, a visit, a text reply, a note)."""

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        CALL_BACK = "call_back", _("Call back later")
        NOTE = "note", _("Note")

    case = models.ForeignKey(ServiceCase, on_delete=models.CASCADE, related_name="contacts")
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    method = models.CharField(_("how"), max_length=8, choices=Method.choices)
    outcome = models.CharField(_("result"), max_length=12, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("contact log entry")
        verbose_name_plural = _("contact log")
        ordering = ["at", "pk"]


class CareArticle(models.Model):
    """Care content (关怀/答疑) by category — 奶粉 how often a day, 童装 durability, 尺码, 真品 …"""

    category = models.CharField(_("category"), max_length=40, db_index=True)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), max_length=2000)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("care article")
        verbose_name_plural = _("care articles")
        ordering = ["category", "title"]
        constraints = [
            models.UniqueConstraint(fields=["category", "title"], name="carearticle_category_title_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.title}"


class CaseCategory(models.Model):
    """Two levels (seed 002: 优秀录音/欠佳录音/投诉录音/其他录音, each with its sub-kinds)."""

    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        verbose_name = _("call-case category")
        verbose_name_plural = _("call-case categories")
        ordering = ["parent_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="casecategory_parent_name_uniq"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="casecategory_top_name_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CallCase(models.Model):
    """A call in the case library: the question, the answer that worked, under a second-level
    category."""

    category = models.ForeignKey(
        CaseCategory, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category")
    )
    question = models.CharField(_("question"), max_length=500)
    answer = models.TextField(_("answer"), max_length=4000)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("call case")
        verbose_name_plural = _("call cases")
        ordering = ["-pk"]


class GreetingRule(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        BIRTHDAY = "birthday", _("Birthday")

    name = models.CharField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # A holiday's date: the same every year ("03-08") or per year ({"2027": "2027-02-06"}, lunar ones)
    month_day = models.CharField(_("date every year (MM-DD)"), max_length=5, blank=True)
    dates = models.JSONField(_("dates by year"), default=dict, blank=True)
    days_before = models.PositiveSmallIntegerField(_("days before"), default=0)
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("message template")
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("greeting rule")
        verbose_name_plural = _("greeting rules")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class GreetingPrivilege(models.Model):
    """With a greeting, a gift for members whose points reach ``min_points`` (the highest step
    reached wins): a coupon issued with the key ``greeting:{rule}:{year}:{member}``."""

    rule = models.ForeignKey(GreetingRule, on_delete=models.CASCADE, related_name="privileges")
    name = models.CharField(_("name"), max_length=60)
    min_points = models.PositiveIntegerField(_("points at least"))
    coupon_template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("coupon")
    )

    class Meta:
        verbose_name = _("greeting privilege")
        verbose_name_plural = _("greeting privileges")
        ordering = ["rule", "min_points"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "min_points"], name="greetingprivilege_rule_points_uniq")
        ]


class ReactivationRule(models.Model):
    """A standing rule that starts a campaign for newly dormant (or dormant and low-balance)
    members. Because each run approves its campaign by itself, the rule is approved once by
    another department (``approve_reactivationrule``, core.approvals) before it runs."""

    class Kind(models.TextChoices):
        DORMANT = "dormant", _("Dormant (no order for N days)")
        LOW_BALANCE = "low_balance", _("Low balance (wallet below a threshold, no order for N days)")

    name = models.CharField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    idle_days = models.PositiveIntegerField(_("no order for (days)"), default=30)
    balance_below_fen = models.PositiveBigIntegerField(_("wallet below (fen)"), null=True, blank=True)
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("message template")
    )
    offer = models.ForeignKey(
        CouponTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("offer"),
    )
    holdout_bp = models.PositiveIntegerField(_("control group share (basis points)"), default=1000)
    is_active = models.BooleanField(_("active"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requester_roles = models.JSONField(default=list, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # Members whose last order is before this instant minus idle_days were already looked at.
    covered_until = models.DateTimeField(_("covered until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("reactivation rule")
        verbose_name_plural = _("reactivation rules")
        ordering = ["name"]
        permissions = [("approve_reactivationrule", _("Can approve reactivation rules"))]
        constraints = [
            models.CheckConstraint(condition=Q(idle_days__gte=1), name="reactivationrule_idle_pos"),
            models.CheckConstraint(
                condition=Q(kind="dormant") | Q(balance_below_fen__isnull=False),
                name="reactivationrule_low_balance_threshold",
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(approved_at__isnull=False),
                name="reactivationrule_active_approved",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReactivationPickup(models.Model):
    """A member picked up by a rule, once per dormancy episode (the episode is the member's last
    order before going quiet)."""

    rule = models.ForeignKey(ReactivationRule, on_delete=models.CASCADE, related_name="pickups")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    episode = models.DateTimeField(_("last order"))
    campaign = models.ForeignKey(Campaign, null=True, on_delete=models.SET_NULL, related_name="+")
    picked_at = models.DateTimeField(_("picked up at"))

    class Meta:
        verbose_name = _("reactivation pick-up")
        verbose_name_plural = _("reactivation pick-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "member", "episode"], name="reactivationpickup_episode_uniq"
            )
        ]
