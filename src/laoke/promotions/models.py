"""Coupons (SPEC 6): a template says what a coupon is worth and who may get how many; a coupon is
one issued instance with a unique code.

Counters (``issued_count``, ``issued_value_fen``, the per-member count) only move through guarded
``UPDATE … WHERE counter < limit`` statements and are bounded by CHECK constraints too, so no
interleaving can issue past a limit or a budget. A coupon's state moves issued → redeemed |
expired | voided by guarded UPDATEs on its state (litemall #581 was a coupon used twice).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from laoke.catalog.models import GiftItem, Product
from laoke.members.models import Member


class CouponKind(models.TextChoices):
    FIXED = "fixed", _("amount off over a threshold (满减)")
    PERCENT = "percent", _("percentage off with a cap")
    FREE_SHIPPING = "free_shipping", _("free-shipping card (包邮卡)")
    GIFT = "gift", _("gift (赠品)")
    COMBO = "combo", _("combination voucher (组合抵价券)")


class SalesChannel(models.TextChoices):
    ANY = "", _("any")
    STORE = "store", _("in store")
    ONLINE = "online", _("online")


class CouponTemplate(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=CouponKind.choices)
    threshold_fen = models.PositiveBigIntegerField(_("threshold (fen)"), default=0)
    amount_off_fen = models.PositiveBigIntegerField(_("amount off (fen)"), default=0)
    rate_off_bp = models.PositiveIntegerField(_("discount (basis points off)"), default=0)
    cap_fen = models.PositiveBigIntegerField(_("discount cap (fen)"), null=True, blank=True)
    face_value_fen = models.PositiveBigIntegerField(
        _("nominal value (fen)"),
        default=0,
        help_text=_("What one coupon counts against the budget (free-shipping cards: the shipping fee)."),
    )
    gift = models.ForeignKey(
        GiftItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("gift")
    )
    product_skus = models.JSONField(_("eligible SKUs"), default=list, blank=True)
    per_member_limit = models.PositiveIntegerField(_("limit per member"), null=True, blank=True)
    total_limit = models.PositiveIntegerField(_("total issue limit"), null=True, blank=True)
    budget_fen = models.PositiveBigIntegerField(_("budget (fen of face value issued)"), null=True, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(_("valid days from issue"), null=True, blank=True)
    channel_code = models.CharField(_("channel code (渠道码)"), max_length=32, blank=True)
    sales_channel = models.CharField(
        _("usable in"), max_length=8, choices=SalesChannel.choices, default="", blank=True
    )
    stackable = models.BooleanField(_("stackable with other coupons"), default=False)
    exclusive_group = models.CharField(_("exclusivity group"), max_length=32, blank=True)
    return_on_cancel = models.BooleanField(
        _("returned to the member when the order is cancelled"), default=True
    )
    code_prefix = models.CharField(_("code prefix"), max_length=8, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    issued_count = models.PositiveIntegerField(_("issued"), default=0, editable=False)
    issued_value_fen = models.PositiveBigIntegerField(_("face value issued (fen)"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        constraints = [
            models.CheckConstraint(
                name="promo_tpl_total_limit",
                condition=Q(total_limit__isnull=True) | Q(issued_count__lte=F("total_limit")),
            ),
            models.CheckConstraint(
                name="promo_tpl_budget",
                condition=Q(budget_fen__isnull=True) | Q(issued_value_fen__lte=F("budget_fen")),
            ),
            models.CheckConstraint(
                name="promo_tpl_validity",
                condition=(
                    Q(valid_days__isnull=False, valid_days__gt=0)
                    | Q(valid_days__isnull=True, valid_to__isnull=False)
                ),
            ),
            models.CheckConstraint(name="promo_tpl_rate", condition=Q(rate_off_bp__lte=10_000)),
        ]

    def __str__(self):
        return self.name

    @property
    def unit_value_fen(self) -> int:
        """What one issued coupon counts against the budget: its largest possible value."""
        if self.kind in (CouponKind.FIXED, CouponKind.COMBO):
            return self.amount_off_fen
        if self.kind == CouponKind.PERCENT:
            return self.cap_fen or self.face_value_fen
        if self.kind == CouponKind.GIFT and self.gift_id and not self.face_value_fen:
            return self.gift.unit_cost_fen
        return self.face_value_fen


class CouponMemberCount(models.Model):
    """How many coupons of a template a member holds (issued or claimed): the per-member limit's
    counter, moved only by a guarded UPDATE."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.CASCADE, verbose_name=_("template"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", verbose_name=_("member"))
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["template", "member"], name="promo_member_count_uniq")]


class CouponState(models.TextChoices):
    ISSUED = "issued", _("issued")
    REDEEMED = "redeemed", _("redeemed")
    EXPIRED = "expired", _("expired")
    VOIDED = "voided", _("voided")


class Coupon(models.Model):
    template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("template")
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coupons",
        verbose_name=_("member"),
    )
    shareable = models.BooleanField(_("shareable (a friend claims it)"), default=False)
    state = models.CharField(
        _("state"), max_length=10, choices=CouponState.choices, default=CouponState.ISSUED
    )
    issue_key = models.CharField(_("issue key"), max_length=160, null=True, blank=True, unique=True)
    channel = models.CharField(_("channel code"), max_length=32, blank=True)
    issued_at = models.DateTimeField(pgettext_lazy("coupon", "issued at"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to (exclusive)"))
    order_ref = models.CharField(_("order"), max_length=64, blank=True)
    redeemed_at = models.DateTimeField(pgettext_lazy("coupon", "redeemed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("expired or voided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        permissions = [
            ("issue_coupon", _("Can issue coupons")),
            ("import_coupon", _("Can import coupon codes")),
        ]
        indexes = [
            models.Index(fields=["member", "state", "valid_to"], name="promo_coupon_member_idx"),
            models.Index(fields=["state", "valid_to"], name="promo_coupon_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="promo_coupon_redeemed_has_order",
                condition=Q(state="redeemed", order_ref__gt="", redeemed_at__isnull=False)
                | (~Q(state="redeemed") & Q(order_ref="")),
            ),
            models.CheckConstraint(name="promo_coupon_window", condition=Q(valid_to__gt=F("valid_from"))),
            models.CheckConstraint(
                name="promo_coupon_owner",
                condition=Q(member__isnull=False) | Q(shareable=True),
            ),
        ]

    def __str__(self):
        return self.code


# --- order rules (SPEC 6: 满就送, gifts, bundles, member special prices; decision 0018) ----------


class RuleBase(models.Model):
    """What every order rule has: a stable code (presets find themselves by it), an active flag
    and an optional validity window [valid_from, valid_to) in UTC."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to (exclusive)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_window",
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gt=F("valid_from")),
            )
        ]

    def __str__(self):
        return self.name


class FullSendMode(models.TextChoices):
    HIGHEST = "highest", _("highest tier met only")
    CUMULATIVE = "cumulative", _("every tier met")


class FullSendRule(RuleBase):
    """满就送: an order paying at least a tier's threshold earns that tier's coupon."""

    mode = models.CharField(
        _("mode"), max_length=12, choices=FullSendMode.choices, default=FullSendMode.HIGHEST
    )

    class Meta(RuleBase.Meta):
        verbose_name = _("spend-and-get rule (满就送)")
        verbose_name_plural = _("spend-and-get rules (满就送)")


class FullSendTier(models.Model):
    """One tier. Never deleted once it exists: coupons name it in their issue key
    (``fullsend:{order_ref}:{tier_id}``) and a refund looks its threshold up; a tier taken out of
    the rule is retired instead."""

    rule = models.ForeignKey(
        FullSendRule, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("rule")
    )
    threshold_fen = models.PositiveBigIntegerField(_("order amount at least (fen)"))
    template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("coupon template")
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("spend-and-get tier")
        verbose_name_plural = _("spend-and-get tiers")
        constraints = [
            models.CheckConstraint(name="promo_fullsend_threshold", condition=Q(threshold_fen__gt=0)),
            models.UniqueConstraint(
                fields=["rule", "threshold_fen"],
                condition=Q(retired_at__isnull=True),
                name="promo_fullsend_tier_uniq",
            ),
        ]

    def __str__(self):
        return f"{self.rule} ≥ {self.threshold_fen}"


class GiftKind(models.TextChoices):
    PER_THRESHOLD = "per_threshold", _("per full threshold of the order")
    ITEM_PRICE = "item_price", _("per item with a unit price at least the threshold")
    ALWAYS = "always", _("with every order")


class GiftRule(RuleBase):
    """赠品. The gift is a cart product (须拍下, 不拍不送: free only if the customer put it in the
    cart) or a catalog gift item handed over outside the cart (外包装盒, 售后服务保障卡)."""

    kind = models.CharField(_("kind"), max_length=16, choices=GiftKind.choices)
    threshold_fen = models.PositiveBigIntegerField(_("threshold (fen)"), default=0)
    once_per_order = models.BooleanField(_("once per order"), default=False)
    gift_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gift product (must be in the cart)"),
    )
    gift_item = models.ForeignKey(
        GiftItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gift item (outside the cart)"),
    )
    gift_qty = models.PositiveIntegerField(_("gift quantity"), default=1)
    members_only = models.BooleanField(_("members only"), default=False)

    class Meta(RuleBase.Meta):
        verbose_name = _("gift rule (赠品)")
        verbose_name_plural = _("gift rules (赠品)")
        constraints = [
            *RuleBase.Meta.constraints,
            models.CheckConstraint(
                name="promo_giftrule_one_gift",
                condition=Q(gift_product__isnull=False, gift_item__isnull=True)
                | Q(gift_product__isnull=True, gift_item__isnull=False),
            ),
            models.CheckConstraint(name="promo_giftrule_qty", condition=Q(gift_qty__gt=0)),
            models.CheckConstraint(
                name="promo_giftrule_threshold", condition=Q(kind="always") | Q(threshold_fen__gt=0)
            ),
        ]


class Bundle(RuleBase):
    """搭配套餐: a hot item, optionally with other items, at a bundle price and/or with gifts
    (gift items, a free-shipping card issued with the order). Applies once per complete set."""

    hot_product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("hot item (爆款)")
    )
    bundle_price_fen = models.PositiveBigIntegerField(_("bundle price (fen)"), null=True, blank=True)
    free_shipping_template = models.ForeignKey(
        CouponTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("free-shipping card issued with the order"),
    )
    members_only = models.BooleanField(_("members only"), default=False)

    class Meta(RuleBase.Meta):
        verbose_name = _("bundle (搭配套餐)")
        verbose_name_plural = _("bundles (搭配套餐)")


class BundleItem(models.Model):
    bundle = models.ForeignKey(
        Bundle, on_delete=models.CASCADE, related_name="items", verbose_name=_("bundle")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("bundle item")
        verbose_name_plural = _("bundle items")
        constraints = [
            models.UniqueConstraint(fields=["bundle", "product"], name="promo_bundle_item_uniq"),
            models.CheckConstraint(name="promo_bundle_item_qty", condition=Q(quantity__gt=0)),
        ]


class BundleGift(models.Model):
    bundle = models.ForeignKey(
        Bundle, on_delete=models.CASCADE, related_name="gifts", verbose_name=_("bundle")
    )
    gift_item = models.ForeignKey(
        GiftItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("gift")
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("bundle gift")
        verbose_name_plural = _("bundle gifts")
        constraints = [
            models.UniqueConstraint(fields=["bundle", "gift_item"], name="promo_bundle_gift_uniq"),
            models.CheckConstraint(name="promo_bundle_gift_qty", condition=Q(quantity__gt=0)),
        ]


class MemberPrice(models.Model):
    """会员特价: members pay ``price_fen`` for the product while active and in its window; the line
    then counts as a special sale (no tier discount, no points earned or spent)."""

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    price_fen = models.PositiveBigIntegerField(_("member price (fen)"))
    is_active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to (exclusive)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("member special price (会员特价)")
        verbose_name_plural = _("member special prices (会员特价)")
        indexes = [models.Index(fields=["product", "is_active"], name="promo_memberprice_idx")]
        constraints = [
            models.CheckConstraint(
                name="promo_memberprice_window",
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gt=F("valid_from")),
            )
        ]

    def __str__(self):
        return f"{self.product_id}: {self.price_fen}"
