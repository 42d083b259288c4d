"""Orders, their lines, payments, refunds, reviews and big-order discount approvals.

An order is written once, by the settlement transaction (``services.order_settle``), with the
engine's explanation and every fen of its split on its lines; afterwards only its status, its
refunded figures and its review change. A refund is a row with its own lines and the exact
amounts given back (``engine.refund_split``), keyed so that a retried refund moves nothing twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from laoke.catalog.models import Category, Product
from laoke.core.models import Store
from laoke.members.models import Member


class OrderSettings(models.Model):
    """One row (pk 1): the shop's order policies (presets of SPEC 5)."""

    return_days_member = models.PositiveSmallIntegerField(_("return window for members (days)"), default=15)
    return_days_other = models.PositiveSmallIntegerField(_("return window for non-members (days)"), default=7)
    cod_review_hours = models.PositiveSmallIntegerField(
        _("default positive review after delivery (hours, COD orders)"), default=48
    )
    points_per_yuan_paid = models.PositiveIntegerField(_("points worth 1 yuan when paying"), default=100)
    approval_threshold_fen = models.PositiveBigIntegerField(
        _("big order: extra discounts need a manager's approval from (fen)"), default=500_000
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("order settings")
        verbose_name_plural = _("order settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="ordersettings_singleton")]

    def __str__(self) -> str:
        return str(_("order settings"))


class OrderStatus(models.TextChoices):
    CREATED = "created", pgettext_lazy("order", "created")
    PAID = "paid", pgettext_lazy("order", "paid")
    SHIPPED = "shipped", pgettext_lazy("order", "shipped")
    DELIVERED = "delivered", pgettext_lazy("order", "delivered")
    COMPLETED = "completed", pgettext_lazy("order", "completed")
    CANCELLED = "cancelled", pgettext_lazy("order", "cancelled")
    PARTIALLY_REFUNDED = "partially_refunded", pgettext_lazy("order", "partially refunded")
    REFUNDED = "refunded", pgettext_lazy("order", "refunded")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("cash")
    ONLINE = "online", _("online payment")
    COD = "cod", _("cash on delivery")
    NONE = "none", _("nothing left to pay")


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=32, unique=True)
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("member"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("store")
    )
    channel = models.CharField(_("channel"), max_length=16, default="store")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, db_index=True)
    group_purchase = models.BooleanField(_("group purchase (团购)"), default=False)
    member_kind = models.CharField(_("customer kind at settlement"), max_length=12, blank=True)
    tier_code = models.CharField(_("tier at settlement"), max_length=32, blank=True)
    # Shipping
    ship_to = models.CharField(_("shipping address"), max_length=255, blank=True)
    ship_country = models.CharField(_("country"), max_length=2, blank=True)
    ship_province = models.CharField(_("province"), max_length=30, blank=True)
    courier = models.CharField(_("courier"), max_length=8, blank=True)
    # Money (fen): goods at list price, after every discount, the postage, and how it was paid.
    goods_gross_fen = models.BigIntegerField(_("goods at list price (fen)"))
    goods_net_fen = models.BigIntegerField(_("goods after discounts (fen)"))
    postage_gross_fen = models.BigIntegerField(_("postage at list price (fen)"), default=0)
    postage_net_fen = models.BigIntegerField(_("postage charged (fen)"), default=0)
    total_fen = models.BigIntegerField(_("order total (fen)"))
    points_used = models.BigIntegerField(_("points paid"), default=0)
    points_fen = models.BigIntegerField(_("paid with points (fen)"), default=0)
    wallet_fen = models.BigIntegerField(_("paid from the wallet (fen)"), default=0)
    cash_fen = models.BigIntegerField(_("paid otherwise (fen)"), default=0)
    payment_method = models.CharField(
        _("payment method"), max_length=8, choices=PaymentMethod.choices, default=PaymentMethod.CASH
    )
    payment_ref = models.CharField(_("payment reference"), max_length=64, blank=True)
    refunded_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    explanation = models.JSONField(_("settlement explanation"), default=dict)
    note = models.CharField(_("note"), max_length=255, blank=True)
    # The import job that wrote the order (imports app): a crashed import resumes or is rolled back
    # by it; settled orders leave it empty.
    import_job = models.CharField(_("import job"), max_length=40, blank=True, default="", db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True, db_index=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-pk"]
        permissions = [
            ("settle_order", _("Can quote and settle orders at the till")),
            ("refund_order", _("Can refund and return orders")),
            ("ship_order", _("Can mark orders shipped and delivered")),
            ("approve_discount", _("Can approve a big order's extra discount")),
        ]
        indexes = [models.Index(fields=["member", "-paid_at"], name="order_member_paid")]
        constraints = [
            models.CheckConstraint(
                condition=Q(goods_gross_fen__gte=F("goods_net_fen"))
                & Q(goods_net_fen__gte=0)
                & Q(postage_net_fen__gte=0)
                & Q(postage_gross_fen__gte=0)
                & Q(total_fen=F("goods_net_fen") + F("postage_net_fen"))
                & Q(points_fen__gte=0)
                & Q(wallet_fen__gte=0)
                & Q(cash_fen__gte=0)
                & Q(total_fen=F("points_fen") + F("wallet_fen") + F("cash_fen"))
                & Q(refunded_fen__gte=0)
                & Q(refunded_fen__lte=F("total_fen")),
                name="order_money_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    ref = models.CharField(_("line"), max_length=16)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    unit_price_fen = models.BigIntegerField(_("unit price (fen)"))
    quantity = models.PositiveIntegerField(_("quantity"))
    special_sale = models.BooleanField(_("special sale"), default=False)
    flash = models.BooleanField(_("flash-zone price"), default=False)
    member_price = models.BooleanField(_("member special price"), default=False)
    returnable = models.BooleanField(_("return window applies"), default=True)
    gross_fen = models.BigIntegerField(_("at list price (fen)"))
    net_fen = models.BigIntegerField(_("after discounts (fen)"))
    discounts = models.JSONField(_("discounts by rule (fen)"), default=dict)
    points_used = models.BigIntegerField(_("points paid"), default=0)
    points_fen = models.BigIntegerField(_("paid with points (fen)"), default=0)
    wallet_fen = models.BigIntegerField(_("paid from the wallet (fen)"), default=0)
    refunded_quantity = models.PositiveIntegerField(_("refunded quantity"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "ref"], name="orderline_ref_uniq"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0)
                & Q(unit_price_fen__gte=0)
                & Q(gross_fen=F("unit_price_fen") * F("quantity"))
                & Q(net_fen__gte=0)
                & Q(net_fen__lte=F("gross_fen"))
                & Q(points_fen__gte=0)
                & Q(wallet_fen__gte=0)
                & Q(net_fen__gte=F("points_fen") + F("wallet_fen"))
                & Q(refunded_quantity__lte=F("quantity")),
                name="orderline_money_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity}"

    @property
    def cash_fen(self) -> int:
        return self.net_fen - self.points_fen - self.wallet_fen


class OrderCoupon(models.Model):
    """A coupon used on the order (its engine benefit code is the coupon code)."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="coupons", verbose_name=_("order")
    )
    coupon = models.ForeignKey(
        "promotions.Coupon", on_delete=models.PROTECT, related_name="+", verbose_name=_("coupon")
    )
    discount_fen = models.BigIntegerField(_("discount (fen)"))
    released_at = models.DateTimeField(_("given back at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon used")
        verbose_name_plural = _("coupons used")
        constraints = [
            models.UniqueConstraint(fields=["coupon"], name="ordercoupon_coupon_once"),
            models.CheckConstraint(
                condition=Q(discount_fen__gte=0), name="ordercoupon_discount_non_negative"
            ),
        ]


class Refund(models.Model):
    class Kind(models.TextChoices):
        CANCEL = "cancel", _("cancellation")
        RETURN = "return", _("return")
        REFUND = "refund", pgettext_lazy("order", "refund")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("order")
    )
    key = models.CharField(_("refund key"), max_length=160, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    completes_order = models.BooleanField(_("refunds the rest of the order"), default=False)
    goods_net_fen = models.BigIntegerField(_("goods refunded (fen)"))
    postage_fen = models.BigIntegerField(_("postage refunded (fen)"), default=0)
    points_returned = models.BigIntegerField(_("spent points given back"), default=0)
    points_fen = models.BigIntegerField(_("points part (fen)"), default=0)
    wallet_fen = models.BigIntegerField(_("back to the wallet (fen)"), default=0)
    cash_fen = models.BigIntegerField(_("back by the original payment (fen)"), default=0)
    discounts = models.JSONField(_("discounts given back by rule (fen)"), default=dict)
    coupons_restored = models.BooleanField(_("coupons given back"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = pgettext_lazy("order", "refund")
        verbose_name_plural = _("refunds")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(goods_net_fen__gte=0)
                & Q(postage_fen__gte=0)
                & Q(points_fen__gte=0)
                & Q(wallet_fen__gte=0)
                & Q(cash_fen__gte=0),
                name="refund_non_negative",
            )
        ]


class RefundLine(models.Model):
    refund = models.ForeignKey(
        Refund, on_delete=models.CASCADE, related_name="lines", verbose_name=_("refund")
    )
    line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    net_fen = models.BigIntegerField(_("refunded (fen)"))
    points_used = models.BigIntegerField(_("points given back"), default=0)
    points_fen = models.BigIntegerField(_("points part (fen)"), default=0)
    wallet_fen = models.BigIntegerField(_("wallet part (fen)"), default=0)
    discounts = models.JSONField(_("discounts given back by rule (fen)"), default=dict)

    class Meta:
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(net_fen__gte=0), name="refundline_positive"
            )
        ]


class ReviewLevel(models.TextChoices):
    PRAISE = "praise", _("praise")
    NEUTRAL = "neutral", _("neutral")
    DISSATISFIED = "dissatisfied", _("dissatisfied")
    CRITICISM = "criticism", _("criticism")


class OrderReview(models.Model):
    """The member's review of an order; COD orders get a default positive one (``is_default``)
    ``cod_review_hours`` after delivery unless the member reviewed first (``reviews_tick``)."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="review", verbose_name=_("order")
    )
    level = models.CharField(_("level"), max_length=16, choices=ReviewLevel.choices)
    text = models.TextField(_("text"), blank=True, max_length=2000)
    is_default = models.BooleanField(_("default review"), default=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("order review")
        verbose_name_plural = _("order reviews")


class DiscountApproval(models.Model):
    """A staff member's extra discount on a big order (请示领导): requested, then approved or
    rejected by someone with ``orders.approve_discount``, then used by exactly one settlement."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        USED = "used", _("used")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("member")
    )
    amount_fen = models.PositiveBigIntegerField(_("extra discount (fen)"))
    order_total_fen = models.PositiveBigIntegerField(_("order amount it was asked for (fen)"))
    reason = models.CharField(_("reason"), max_length=255)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)
    order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval",
        verbose_name=_("order"),
    )
    created_at = models.DateTimeField(_("created at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("discount approval")
        verbose_name_plural = _("discount approvals")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0) & Q(amount_fen__lte=F("order_total_fen")),
                name="discountapproval_amount",
            ),
            models.CheckConstraint(
                condition=Q(state="used", order__isnull=False) | (~Q(state="used") & Q(order__isnull=True)),
                name="discountapproval_used_has_order",
            ),
        ]
