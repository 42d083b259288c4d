"""Referral (推荐, SPEC 6, seeds 002 and 003).

A new member names a referrer (mobile or member number); both get a reward coupon at once (the
default trigger) or when the new member's first paid order settles. ``ReferralProgramme`` is the
one row of settings. A member is referred at most once (unique ``new_member``); the fraud guard
refuses a referrer that shares the new member's mobile, normalised address or device.

S2 adds a cash subsidy per product (or category) bought by the referred member, paid into the
referrer's wallet from the ledger's ``marketing_expense`` account (``ReferralSubsidy``, one row
per (order, product), so a replayed settlement pays once), and the referral-share KPI: each paid
order of a referred member is a ``ReferralSale`` (one per order); a full refund books it out in
the refund's month, as the stats buckets do (decision 0020).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from laoke.catalog.models import Category, Product
from laoke.ledger.models import Transfer
from laoke.members.models import Member
from laoke.promotions.models import Coupon, CouponTemplate

SUBSIDY_MIN_FEN = 50_000  # seed 002: 500–2,000元 per product bought
SUBSIDY_MAX_FEN = 200_000


class Trigger(models.TextChoices):
    REGISTRATION = "registration", _("when the new member registers")
    FIRST_PAID_ORDER = "first_paid_order", _("after the new member's first paid order")


class ReferralProgramme(models.Model):
    """The referral settings: one row (``slot`` = 1)."""

    slot = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(
        _("reward trigger"), max_length=20, choices=Trigger.choices, default=Trigger.REGISTRATION
    )
    referrer_template = models.ForeignKey(
        CouponTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("referrer's reward coupon"),
    )
    new_member_template = models.ForeignKey(
        CouponTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("new member's reward coupon"),
    )
    fraud_guard = models.BooleanField(
        _("fraud guard"),
        default=True,
        help_text=_("Refuse a referrer sharing the new member's mobile, address or device."),
    )
    window_days = models.PositiveIntegerField(
        _("days after registration a referrer may be entered"), default=7
    )
    kpi_target_bp = models.PositiveIntegerField(_("referral share target (basis points)"), default=2_000)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("referral programme")
        verbose_name_plural = _("referral programme")
        constraints = [
            models.CheckConstraint(name="referral_programme_singleton", condition=Q(slot=1)),
            models.CheckConstraint(name="referral_programme_target", condition=Q(kpi_target_bp__lte=10_000)),
            models.CheckConstraint(name="referral_programme_window", condition=Q(window_days__gte=1)),
        ]

    def __str__(self) -> str:
        return str(_("referral programme"))


class ReferralState(models.TextChoices):
    PENDING = "pending", _("pending (waiting for the first paid order)")
    REWARDED = "rewarded", _("rewarded")
    REJECTED = "rejected", _("rejected")


class Referral(models.Model):
    referrer = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="referrals_made", verbose_name=_("referrer")
    )
    new_member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="referral_received", verbose_name=_("new member")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ReferralState.choices, default=ReferralState.PENDING
    )
    trigger = models.CharField(_("reward trigger"), max_length=20, choices=Trigger.choices)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    device_id = models.CharField(_("device id"), max_length=128, blank=True)
    reward_order_ref = models.CharField(_("order that triggered the reward"), max_length=64, blank=True)
    referrer_coupon = models.ForeignKey(
        Coupon,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("referrer's coupon"),
    )
    new_member_coupon = models.ForeignKey(
        Coupon,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("new member's coupon"),
    )
    created_at = models.DateTimeField(_("created at"))
    rewarded_at = models.DateTimeField(_("rewarded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            # A member is referred at most once: the guard under any concurrency.
            models.UniqueConstraint(fields=["new_member"], name="referral_new_member_uniq"),
            models.CheckConstraint(name="referral_not_self", condition=~Q(referrer=F("new_member"))),
            models.CheckConstraint(
                name="referral_rewarded_at",
                condition=Q(rewarded_at__isnull=True) | ~Q(state="pending"),
            ),
        ]
        indexes = [
            models.Index(fields=["referrer", "id"], name="referral_referrer_idx"),
            models.Index(fields=["reward_order_ref"], name="referral_reward_order_idx"),
            models.Index(fields=["device_id"], name="referral_device_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.new_member_id}"


class SubsidyRule(models.Model):
    """S2: the cash subsidy paid to the referrer when the referred member buys a product (or any
    product of a category), per unit. A product's own rule wins over its category's."""

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    amount_fen = models.PositiveBigIntegerField(_("subsidy per unit (fen)"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("referral subsidy rule")
        verbose_name_plural = _("referral subsidy rules")
        constraints = [
            models.CheckConstraint(
                name="referral_subsidy_rule_target",
                condition=Q(product__isnull=False, category__isnull=True)
                | Q(product__isnull=True, category__isnull=False),
            ),
            models.CheckConstraint(
                name="referral_subsidy_rule_amount",
                condition=Q(amount_fen__gte=SUBSIDY_MIN_FEN, amount_fen__lte=SUBSIDY_MAX_FEN),
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(product__isnull=False),
                name="referral_subsidy_rule_product_uniq",
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(category__isnull=False),
                name="referral_subsidy_rule_category_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product or self.category}: {self.amount_fen}"


class SubsidyState(models.TextChoices):
    PAID = "paid", _("paid into the referrer's wallet")
    PAYABLE = "payable", _("payable (the referrer's wallet is closed: pay in cash)")
    REVERSED = "reversed", _("reversed (order refunded)")


class ReferralSubsidy(models.Model):
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="subsidies", verbose_name=_("referral")
    )
    order_ref = models.CharField(_("order"), max_length=64)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    amount_fen = models.PositiveBigIntegerField(_("amount (fen)"))
    state = models.CharField(_("state"), max_length=10, choices=SubsidyState.choices)
    transfer = models.ForeignKey(
        Transfer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transfer"),
    )
    reversal = models.ForeignKey(
        Transfer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reversal"),
    )
    reversed_fen = models.PositiveBigIntegerField(_("taken back (fen)"), default=0)
    shortfall_fen = models.PositiveBigIntegerField(
        _("not recoverable (fen)"),
        default=0,
        help_text=_("Already spent by the referrer when the order was refunded."),
    )
    created_at = models.DateTimeField(_("created at"))
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral subsidy")
        verbose_name_plural = _("referral subsidies")
        constraints = [
            models.UniqueConstraint(
                fields=["order_ref", "product"], name="referral_subsidy_order_product_uniq"
            ),
            models.CheckConstraint(name="referral_subsidy_amount", condition=Q(amount_fen__gt=0)),
            models.CheckConstraint(
                name="referral_subsidy_paid_has_transfer",
                condition=~Q(state="paid") | Q(transfer__isnull=False),
            ),
            models.CheckConstraint(
                name="referral_subsidy_reversal_sum",
                condition=Q(reversed_fen__lte=F("amount_fen") - F("shortfall_fen")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_ref}/{self.product_id}"


class ReferralSale(models.Model):
    """One paid order of a referred member (the KPI's numerator). A full refund books it out in
    the refund's month (``refund_month``), as the stats buckets book refunds."""

    order_ref = models.CharField(_("order"), max_length=64, unique=True)
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="sales", verbose_name=_("referral")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("referred member")
    )
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    month = models.DateField(_("month"))
    paid_at = models.DateTimeField(_("paid at"))
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    refund_month = models.DateField(_("refund month"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral sale")
        verbose_name_plural = _("referral sales")
        constraints = [
            models.CheckConstraint(name="referral_sale_amount", condition=Q(amount_fen__gte=0)),
            models.CheckConstraint(
                name="referral_sale_refund",
                condition=Q(refunded_at__isnull=True, refund_month__isnull=True)
                | Q(refunded_at__isnull=False, refund_month__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["month"], name="referral_sale_month_idx"),
            models.Index(fields=["refund_month"], name="referral_sale_refund_idx"),
        ]

    def __str__(self) -> str:
        return self.order_ref
