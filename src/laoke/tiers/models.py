"""Tier programmes (会员等级, SPEC 2): ordered levels with an entry rule and benefits, each
member's (or group account's) current level, and the history of every change.

One active programme per audience (individual members, group accounts 集体) — enforced by a
partial unique index. A member's or group's current level is one ``MemberTier`` row, locked
(``select_for_update``) by every evaluation so concurrent evaluations write one history row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.members.models import GroupAccount, Member


class Audience(models.TextChoices):
    INDIVIDUAL = "individual", _("individual members")
    GROUP = "group", _("group accounts")


class RuleKind(models.TextChoices):
    CUMULATIVE_SPEND = "cumulative_spend", _("cumulative spend")
    CUMULATIVE_RECHARGE = "cumulative_recharge", _("cumulative recharge")
    POINTS_BALANCE = "points_balance", _("points balance")
    ORDER_COUNT = "order_count", _("order count")
    MANUAL = "manual", _("manual grant only")


class Basis(models.TextChoices):
    """What every automatic level of a programme is measured by; ``mixed`` lets each level pick."""

    CUMULATIVE_SPEND = "cumulative_spend", _("cumulative spend")
    CUMULATIVE_RECHARGE = "cumulative_recharge", _("cumulative recharge")
    POINTS_BALANCE = "points_balance", _("points balance")
    ORDER_COUNT = "order_count", _("order count")
    MIXED = "mixed", _("per level")


class DowngradePolicy(models.TextChoices):
    NEVER = "never", _("never")
    YEARLY_REVIEW = "yearly_review", _("yearly review on a date")
    ROLLING_12_MONTHS = "rolling_12_months", _("rolling 12 months")


class Activity(models.TextChoices):
    """Tier-only activities (SPEC 2, seeds S1/S3)."""

    PROMOTIONS = "promotions", _("tier promotions")
    GROUP_BUYS = "group_buys", _("group buys")
    FARM_TRIPS = "farm_trips", _("farm trips")
    DESIGNATED_GOODS = "designated_goods", _("designated goods")
    BUY_AND_GET = "buy_and_get", _("buy-and-get offers")
    TIER_GIFTS = "tier_gifts", _("tier gifts")
    PROMO_SMS = "promo_sms", _("tier promotional SMS")


class ServiceOwner(models.TextChoices):
    SERVICE_AGENT = "service_agent", _("service agent (客服)")
    SERVICE_MANAGER = "service_manager", _("service manager (客服经理)")


class TierProgramme(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    basis = models.CharField(_("basis of entry rules"), max_length=24, choices=Basis.choices)
    downgrade_policy = models.CharField(
        _("downgrade policy"), max_length=24, choices=DowngradePolicy.choices, default=DowngradePolicy.NEVER
    )
    review_month = models.PositiveSmallIntegerField(_("review month"), null=True, blank=True)
    review_day = models.PositiveSmallIntegerField(_("review day"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    # The business day of the last completed downgrade review (tiers_tick): a review runs once.
    last_review_on = models.DateField(_("last review"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("tier programme")
        verbose_name_plural = _("tier programmes")
        ordering = ["audience", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["audience"], condition=Q(is_active=True), name="tierprogramme_one_active_per_audience"
            ),
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="tierprogramme_audience_valid"
            ),
            models.CheckConstraint(condition=Q(basis__in=Basis.values), name="tierprogramme_basis_valid"),
            models.CheckConstraint(
                condition=(
                    Q(
                        downgrade_policy=DowngradePolicy.YEARLY_REVIEW,
                        review_month__gte=1,
                        review_month__lte=12,
                        review_day__gte=1,
                        review_day__lte=31,
                    )
                    | (
                        Q(downgrade_policy__in=[DowngradePolicy.NEVER, DowngradePolicy.ROLLING_12_MONTHS])
                        & Q(review_month__isnull=True, review_day__isnull=True)
                    )
                ),
                name="tierprogramme_review_date_iff_yearly",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TierLevel(models.Model):
    programme = models.ForeignKey(
        TierProgramme, on_delete=models.PROTECT, related_name="levels", verbose_name=_("tier programme")
    )
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("Higher is better; 0 is the entry level."))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=40)
    rule_kind = models.CharField(_("entry rule"), max_length=24, choices=RuleKind.choices)
    threshold = models.BigIntegerField(
        _("threshold"), default=0, help_text=_("Fen for spend and recharge, points, or a number of orders.")
    )
    price_rate_bp = models.PositiveIntegerField(
        _("price rate (bp)"), default=10_000, help_text=_("10000 = no discount, 9500 = 95折.")
    )
    points_multiplier_bp = models.PositiveIntegerField(
        _("points multiplier (bp)"), default=10_000, help_text=_("10000 = 1×.")
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    service_owner_role = models.CharField(
        _("served by"), max_length=24, choices=ServiceOwner.choices, default=ServiceOwner.SERVICE_AGENT
    )
    activities = models.JSONField(_("tier-only activities"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("tier level")
        verbose_name_plural = _("tier levels")
        ordering = ["programme", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "rank"], name="tierlevel_rank_uniq"),
            models.UniqueConstraint(fields=["programme", "code"], name="tierlevel_code_uniq"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="tierlevel_threshold_non_negative"),
            models.CheckConstraint(
                condition=Q(price_rate_bp__gte=1, price_rate_bp__lte=10_000),
                name="tierlevel_price_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(points_multiplier_bp__lte=100_000), name="tierlevel_points_multiplier_range"
            ),
            models.CheckConstraint(
                condition=Q(rule_kind__in=RuleKind.values), name="tierlevel_rule_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(service_owner_role__in=ServiceOwner.values), name="tierlevel_service_owner_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class How(models.TextChoices):
    RULE = "rule", _("entry rule met")
    MANUAL = "manual", _("manual grant")
    REVIEW = "review", _("downgrade review")


class MemberTier(models.Model):
    """The current level of one member (individual programme) or group account (group programme)."""

    member = models.OneToOneField(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="tier", verbose_name=_("member")
    )
    group_account = models.OneToOneField(
        GroupAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tier",
        verbose_name=_("group account"),
    )
    level = models.ForeignKey(
        TierLevel, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("level")
    )
    since = models.DateTimeField(_("since"))
    how = models.CharField(_("how"), max_length=8, choices=How.choices, default=How.RULE)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("current tier")
        verbose_name_plural = _("current tiers")
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, group_account__isnull=True)
                | Q(member__isnull=True, group_account__isnull=False),
                name="membertier_one_owner",
            ),
            models.CheckConstraint(condition=Q(how__in=How.values), name="membertier_how_valid"),
        ]
        indexes = [models.Index(fields=["level", "id"])]
        permissions = [("grant_tier", "Can grant a tier level manually")]


class TierHistory(models.Model):
    """Append-only: who moved from which level to which, when, why and by whom."""

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tier_history",
        verbose_name=_("member"),
    )
    group_account = models.ForeignKey(
        GroupAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tier_history",
        verbose_name=_("group account"),
    )
    from_level = models.ForeignKey(
        TierLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from level"),
    )
    to_level = models.ForeignKey(
        TierLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to level"),
    )
    at = models.DateTimeField(_("at"))
    how = models.CharField(_("how"), max_length=8, choices=How.choices)
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor"), max_length=150, default="system")
    # Deterministic key of a scheduled review's change (review:{programme}:{day}:{owner}): a review
    # re-run (a retried tick, two workers) cannot write a second row.
    review_key = models.CharField(max_length=80, null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("tier history")
        verbose_name_plural = _("tier history")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, group_account__isnull=True)
                | Q(member__isnull=True, group_account__isnull=False),
                name="tierhistory_one_owner",
            ),
            models.CheckConstraint(condition=Q(how__in=How.values), name="tierhistory_how_valid"),
            models.CheckConstraint(
                condition=Q(from_level__isnull=True, to_level__isnull=False)
                | Q(from_level__isnull=False, to_level__isnull=True)
                | (Q(from_level__isnull=False, to_level__isnull=False) & ~Q(from_level=models.F("to_level"))),
                name="tierhistory_is_a_change",
            ),
        ]
        indexes = [models.Index(fields=["member", "-at"]), models.Index(fields=["group_account", "-at"])]
