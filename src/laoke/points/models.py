"""Points (积分, SPEC 3): the programme, earn rules, lots, redemptions, claims, sign-in, migration.

The member's points balance is the balance of the member's ``points`` ledger account (moved only by
ledger transfers). This app adds *lots*: every credit creates a ``PointsLot``; every debit consumes
open lots oldest-first. Invariant, kept in the same transactions and checked by
``selectors.points_lots_check``: account balance == sum of ``remaining`` over the member's lots.
A negative balance (only where the programme allows it, after a refund) is one ``deficit`` lot
with a negative remaining that later credits pay off first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from laoke.catalog.models import Category, GiftItem
from laoke.core.models import Store
from laoke.ledger.models import Transfer
from laoke.members.models import Member


class PointsProgramme(models.Model):
    """The settings of the points programme. Exactly one is active (partial unique index)."""

    class Rounding(models.TextChoices):
        DOWN = "down", _("Round down")
        HALF_UP = "half_up", _("Round half up")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=False)
    points_per_yuan = models.PositiveIntegerField(_("points per yuan"), default=1)
    rounding = models.CharField(_("rounding"), max_length=8, choices=Rounding.choices, default=Rounding.DOWN)
    expiry_months = models.PositiveSmallIntegerField(
        _("expiry (months)"), null=True, blank=True, help_text=_("Empty: points never expire.")
    )
    reminder_days = models.PositiveSmallIntegerField(_("reminder days before expiry"), default=30)
    allow_negative = models.BooleanField(
        _("may go negative"), default=False, help_text=_("A refund may take a member below zero points.")
    )
    window_start_day = models.PositiveSmallIntegerField(
        _("redemption window: first day of month"), null=True, blank=True, default=1
    )
    window_end_day = models.PositiveSmallIntegerField(
        _("redemption window: last day of month"), null=True, blank=True, default=4
    )
    gift_budget_bp = models.PositiveIntegerField(_("gift budget (basis points of sales)"), default=60)
    permanent_points = models.PositiveIntegerField(
        _("permanent-member gift level (points)"),
        null=True,
        blank=True,
        default=8000,
        help_text=_("Redeeming a gift of this level makes the member permanent (永久会员). Empty: off."),
    )
    claim_days = models.PositiveSmallIntegerField(_("receipt claims accepted for (days)"), default=30)
    signin_points = models.PositiveIntegerField(_("daily sign-in points"), default=5)
    # {"7": 20, "30": 100}: every 7th consecutive day +20, every 30th +100.
    signin_streak_bonus = models.JSONField(_("sign-in streak bonuses"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("points programme")
        verbose_name_plural = _("points programmes")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="points_one_active_programme"
            ),
            models.CheckConstraint(
                condition=(Q(window_start_day__isnull=True) & Q(window_end_day__isnull=True))
                | (
                    Q(window_start_day__gte=1)
                    & Q(window_start_day__lte=F("window_end_day"))
                    & Q(window_end_day__lte=31)
                ),
                name="points_window_days_valid",
            ),
            models.CheckConstraint(condition=Q(gift_budget_bp__lte=10_000), name="points_budget_bp_max"),
        ]

    def __str__(self) -> str:
        return self.name


class EarnRule(models.Model):
    """A multiplier on earning (the base per-yuan rule and the tier multiplier need no row).

    ``kind`` names a strategy class in ``laoke.points.rules.REGISTRY``."""

    class Kind(models.TextChoices):
        CATEGORY = "category", _("Category multiplier")
        MEMBER_DAY = "member_day", _("Member day multiplier")
        CAMPAIGN = "campaign", _("Campaign multiplier")

    programme = models.ForeignKey(
        PointsProgramme, on_delete=models.PROTECT, related_name="rules", verbose_name=_("programme")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    multiplier_bp = models.PositiveIntegerField(_("multiplier (basis points)"), default=20_000)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("category")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday (1 = Monday)"), null=True, blank=True)
    day_of_month = models.PositiveSmallIntegerField(_("day of month"), null=True, blank=True)
    campaign_code = models.CharField(_("campaign code"), max_length=32, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("earn rule")
        verbose_name_plural = _("earn rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(multiplier_bp__gte=0) & Q(multiplier_bp__lte=100_000), name="earnrule_bp_range"
            ),
            models.CheckConstraint(
                condition=(Q(kind="category", category__isnull=False))
                | (
                    Q(kind="member_day")
                    & (
                        (Q(weekday__isnull=False) & Q(weekday__gte=1) & Q(weekday__lte=7))
                        | (Q(day_of_month__isnull=False) & Q(day_of_month__gte=1) & Q(day_of_month__lte=31))
                    )
                )
                | (Q(kind="campaign") & ~Q(campaign_code="")),
                name="earnrule_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PointsLot(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", _("Purchase")
        CLAIM = "claim", _("Receipt claim")
        SIGNIN = "signin", _("Sign-in")
        ADJUST = "adjust", _("Manual adjustment")
        MIGRATE = "migrate", _("Old programme")
        RETURN = "return", _("Points given back")
        DEFICIT = "deficit", _("Deficit")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="points_lots", verbose_name=_("member")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"))
    remaining = models.BigIntegerField(_("remaining"))
    expired = models.BigIntegerField(_("expired"), default=0)
    earned_at = models.DateTimeField(_("earned at"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    transfer = models.ForeignKey(
        Transfer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("transfer"),
    )

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        permissions = [
            ("adjust_points", _("Adjust a member's points by hand")),
            ("sign_in_member", _("Record a member's daily sign-in")),
            ("migrate_points", _("Migrate an old points programme")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    ~Q(kind="deficit")
                    & Q(amount__gt=0)
                    & Q(remaining__gte=0)
                    & Q(remaining__lte=F("amount") - F("expired"))
                    & Q(expired__gte=0)
                )
                | Q(kind="deficit", amount=0, remaining__lte=0, expired=0),
                name="pointslot_remaining_range",
            ),
            # One deficit lot per member at most; one lot per crediting transfer.
            models.UniqueConstraint(
                fields=["member"], condition=Q(kind="deficit"), name="pointslot_one_deficit"
            ),
            models.UniqueConstraint(fields=["transfer"], name="pointslot_transfer_uniq"),
        ]
        indexes = [
            models.Index(fields=["member", "expires_at", "earned_at", "id"], name="pointslot_fifo"),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="pointslot_due"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.remaining}/{self.amount}"


class LotConsumption(models.Model):
    """Which lots a debit took its points from (for audit and for giving spent points back)."""

    lot = models.ForeignKey(
        PointsLot, on_delete=models.PROTECT, related_name="consumptions", verbose_name=_("lot")
    )
    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="+", verbose_name=_("transfer")
    )
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="lotconsumption_nonzero"),
        ]


class PointsEarning(models.Model):
    """Points earned by one purchase (an order, or an approved receipt claim)."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="points_earnings", verbose_name=_("member")
    )
    key = models.CharField(_("key"), max_length=160, unique=True)
    reference = models.CharField(_("reference"), max_length=128, db_index=True)
    points = models.BigIntegerField(_("points"))
    points_reversed = models.BigIntegerField(_("points reversed"), default=0)
    transfer = models.ForeignKey(
        Transfer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("transfer"),
    )
    lot = models.ForeignKey(
        PointsLot, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("lot")
    )
    campaign = models.CharField(_("campaign"), max_length=32, blank=True)
    explanation = models.JSONField(_("explanation"), default=list)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("points earning")
        verbose_name_plural = _("points earnings")
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gte=0) & Q(points_reversed__gte=0) & Q(points_reversed__lte=F("points")),
                name="pointsearning_reversed_range",
            )
        ]


class PointsEarningLine(models.Model):
    earning = models.ForeignKey(
        PointsEarning, on_delete=models.CASCADE, related_name="lines", verbose_name=_("earning")
    )
    ref = models.CharField(max_length=64)
    paid_fen = models.BigIntegerField()
    points = models.BigIntegerField()
    refunded_fen = models.BigIntegerField(default=0)
    points_due_back = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["earning", "ref"], name="earningline_ref_uniq"),
            models.CheckConstraint(
                condition=Q(paid_fen__gte=0)
                & Q(points__gte=0)
                & Q(refunded_fen__gte=0)
                & Q(refunded_fen__lte=F("paid_fen"))
                & Q(points_due_back__gte=0)
                & Q(points_due_back__lte=F("points")),
                name="earningline_ranges",
            ),
        ]


class PointsSpend(models.Model):
    """Points used as payment (settlement) — given back, in part or whole, on refund."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="points_spends", verbose_name=_("member")
    )
    key = models.CharField(_("key"), max_length=160, unique=True)
    reference = models.CharField(_("reference"), max_length=128, db_index=True)
    points = models.BigIntegerField(_("points"))
    points_returned = models.BigIntegerField(_("points given back"), default=0)
    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="+", verbose_name=_("transfer")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("points payment")
        verbose_name_plural = _("points payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gt=0) & Q(points_returned__gte=0) & Q(points_returned__lte=F("points")),
                name="pointsspend_returned_range",
            )
        ]


class PointsRefund(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="points_refunds", verbose_name=_("member")
    )
    key = models.CharField(_("key"), max_length=160, unique=True)
    reference = models.CharField(_("reference"), max_length=128)
    earning = models.ForeignKey(
        PointsEarning, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("earning")
    )
    spend = models.ForeignKey(
        PointsSpend, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("spend")
    )
    refunded_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    points_due = models.BigIntegerField(_("earned points due back"), default=0)
    points_reversed = models.BigIntegerField(_("earned points taken back"), default=0)
    points_unrecovered = models.BigIntegerField(_("earned points not recoverable"), default=0)
    points_returned = models.BigIntegerField(_("spent points given back"), default=0)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("points refund")
        verbose_name_plural = _("points refunds")


class GiftLevel(models.Model):
    """一级好礼 80 points … 八级好礼 8,000 points (seed 002)."""

    programme = models.ForeignKey(
        PointsProgramme, on_delete=models.PROTECT, related_name="gift_levels", verbose_name=_("programme")
    )
    points = models.PositiveIntegerField(_("points"))
    name = models.CharField(_("name"), max_length=100)
    value_fen = models.PositiveBigIntegerField(_("gift value (fen)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("gift level")
        verbose_name_plural = _("gift levels")
        ordering = ["points"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "points"], name="giftlevel_points_uniq"),
            models.CheckConstraint(condition=Q(points__gt=0), name="giftlevel_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points})"


class GiftOffer(models.Model):
    """A gift on a store's catalogue at a level (1–10 per level per store, seed 002)."""

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="gift_offers", verbose_name=_("store")
    )
    level = models.ForeignKey(
        GiftLevel, on_delete=models.PROTECT, related_name="offers", verbose_name=_("level")
    )
    gift = models.ForeignKey(
        GiftItem, on_delete=models.PROTECT, related_name="offers", verbose_name=_("gift")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("gift offer")
        verbose_name_plural = _("gift offers")
        constraints = [
            models.UniqueConstraint(fields=["store", "level", "gift"], name="giftoffer_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.gift} @ {self.store} ({self.level.points})"


class GiftRedemption(models.Model):
    class Status(models.TextChoices):
        DONE = "done", _("Redeemed")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="gift_redemptions", verbose_name=_("member")
    )
    offer = models.ForeignKey(
        GiftOffer, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("offer")
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    gift = models.ForeignKey(GiftItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("gift"))
    points = models.PositiveIntegerField(_("points"))
    key = models.CharField(_("key"), max_length=160, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DONE)
    outside_window = models.BooleanField(_("outside the redemption window"), default=False)
    made_permanent = models.BooleanField(_("made the member permanent"), default=False)
    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="+", verbose_name=_("transfer")
    )
    redeemed_at = models.DateTimeField(_("redeemed at"), db_index=True)
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clerk"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("gift redemption")
        verbose_name_plural = _("gift redemptions")
        permissions = [
            ("redeem_outside_window", _("Redeem gifts outside the redemption window")),
            ("cancel_giftredemption", _("Cancel a gift redemption")),
        ]
        constraints = [
            # The permanent-member rule fires once per member.
            models.UniqueConstraint(
                fields=["member"], condition=Q(made_permanent=True), name="giftredemption_permanent_once"
            ),
            models.CheckConstraint(
                condition=Q(status="done", cancelled_at__isnull=True)
                | Q(status="cancelled", cancelled_at__isnull=False),
                name="giftredemption_status_cancelled_at",
            ),
        ]


class ReceiptClaim(models.Model):
    """补积分 (S3): points claimed later from a receipt or order number, once per receipt."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="receipt_claims", verbose_name=_("member")
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    receipt_no = models.CharField(_("receipt or order number"), max_length=64)
    paid_fen = models.PositiveBigIntegerField(_("paid (fen)"))
    purchased_at = models.DateTimeField(_("purchased at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    earning = models.ForeignKey(
        PointsEarning, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("earning")
    )

    class Meta:
        verbose_name = _("receipt claim")
        verbose_name_plural = _("receipt claims")
        permissions = [("decide_receiptclaim", _("Approve or reject receipt claims"))]
        constraints = [
            # Once per receipt: a rejected claim does not block a corrected one.
            models.UniqueConstraint(
                fields=["store", "receipt_no"],
                condition=~Q(status="rejected"),
                name="receiptclaim_once_per_receipt",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="receiptclaim_decided",
            ),
        ]


class SignIn(models.Model):
    """签到: once per member per business day (Asia/Shanghai)."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="signins", verbose_name=_("member")
    )
    day = models.DateField(_("day"))
    streak = models.PositiveIntegerField(_("streak"))
    points = models.PositiveIntegerField(_("points"))
    bonus = models.PositiveIntegerField(_("streak bonus"), default=0)
    transfer = models.ForeignKey(
        Transfer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("transfer"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="signin_once_per_day"),
            models.CheckConstraint(condition=Q(streak__gte=1), name="signin_streak_positive"),
        ]


class PointsMigration(models.Model):
    """Moving members' points from an old programme (S2): convert at a ratio, or reset to zero."""

    class Mode(models.TextChoices):
        CONVERT = "convert", _("Convert at a ratio")
        RESET = "reset", _("Reset to zero")

    code = models.CharField(_("code"), max_length=32, unique=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    ratio_old = models.PositiveIntegerField(_("old points"), default=10)
    ratio_new = models.PositiveIntegerField(_("new points"), default=1)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("points migration")
        verbose_name_plural = _("points migrations")
        constraints = [
            models.CheckConstraint(condition=Q(ratio_old__gt=0), name="pointsmigration_ratio_positive"),
        ]


class PointsMigrationEntry(models.Model):
    migration = models.ForeignKey(
        PointsMigration, on_delete=models.PROTECT, related_name="entries", verbose_name=_("migration")
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    old_points = models.BigIntegerField(_("old points"))
    new_points = models.BigIntegerField(_("new points"))
    transfer = models.ForeignKey(
        Transfer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("transfer"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        constraints = [
            # Once per member, whichever migration: old points are converted (or reset) one time.
            models.UniqueConstraint(fields=["member"], name="migrationentry_once_per_member"),
            models.CheckConstraint(
                condition=Q(old_points__gte=0) & Q(new_points__gte=0), name="migrationentry_nonneg"
            ),
        ]
