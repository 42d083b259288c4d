"""Recharge packages (充值套餐) and their online purchases.

A package is "pay ``price_fen``, get ``price_fen + bonus_fen`` of stored value". A purchase
snapshots the package's price and bonus when it starts; it is ``created`` until the provider's
verified notification (or the reconciliation query) says it was paid, then ``paid`` — the wallet
got the price and the member's ``wallet_bonus`` account the bonus, exactly once —, or ``closed``
(expired or cancelled unpaid), or, after an operator refund, ``refunding`` → ``refunded``.
Every notification is logged raw with its verification result, for support.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from laoke.members.models import Member


class Provider(models.TextChoices):
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")


class RechargePackage(models.Model):
    name = models.CharField(_("name"), max_length=60)
    price_fen = models.BigIntegerField(_("price (fen)"))
    bonus_fen = models.BigIntegerField(_("bonus (fen)"), default=0)
    active = models.BooleanField(_("active"), default=True)
    sale_starts_at = models.DateTimeField(_("on sale from"), null=True, blank=True)
    sale_ends_at = models.DateTimeField(_("on sale until"), null=True, blank=True)
    per_member_limit = models.PositiveIntegerField(_("purchases per member"), null=True, blank=True)
    sort = models.IntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("recharge package")
        verbose_name_plural = _("recharge packages")
        ordering = ["sort", "price_fen", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="package_price_positive"),
            models.CheckConstraint(condition=Q(bonus_fen__gte=0), name="package_bonus_not_negative"),
            models.CheckConstraint(
                condition=Q(sale_starts_at__isnull=True)
                | Q(sale_ends_at__isnull=True)
                | Q(sale_ends_at__gt=F("sale_starts_at")),
                name="package_window_order",
            ),
            models.CheckConstraint(
                condition=Q(per_member_limit__isnull=True) | Q(per_member_limit__gt=0),
                name="package_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PackagePurchase(models.Model):
    class State(models.TextChoices):
        CREATED = "created", _("Awaiting payment")
        PAID = "paid", _("Paid (credited)")
        CLOSED = "closed", _("Closed unpaid")
        REFUNDING = "refunding", _("Refund in progress")
        REFUNDED = "refunded", _("Refunded")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="package_purchases", verbose_name=_("member")
    )
    package = models.ForeignKey(
        RechargePackage, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("package")
    )
    name = models.CharField(_("package name"), max_length=60)
    price_fen = models.BigIntegerField(_("price (fen)"))
    bonus_fen = models.BigIntegerField(_("bonus (fen)"))
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    out_trade_no = models.CharField(_("merchant trade number"), max_length=32, unique=True)
    provider_trade_no = models.CharField(_("provider trade number"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.CREATED)
    redirect_url = models.TextField(_("payment URL"), blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    refund_no = models.CharField(_("refund number"), max_length=64, blank=True)
    refund_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    bonus_back_fen = models.BigIntegerField(_("bonus taken back (fen)"), default=0)
    refund_requested_at = models.DateTimeField(_("refund requested at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("package purchase")
        verbose_name_plural = _("package purchases")
        permissions = [("refund_packagepurchase", _("Can refund a recharge package purchase"))]
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="purchase_price_positive"),
            models.CheckConstraint(condition=Q(bonus_fen__gte=0), name="purchase_bonus_not_negative"),
            models.CheckConstraint(
                condition=Q(state__in=["created", "paid", "closed", "refunding", "refunded"]),
                name="purchase_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["created", "closed"]) | Q(paid_at__isnull=False),
                name="purchase_paid_has_time",
            ),
            models.CheckConstraint(
                condition=Q(refund_fen__gte=0, refund_fen__lte=F("price_fen"))
                & Q(bonus_back_fen__gte=0, bonus_back_fen__lte=F("bonus_fen")),
                name="purchase_refund_within",
            ),
            models.CheckConstraint(condition=Q(provider__in=["alipay", "wechat"]), name="purchase_provider"),
        ]
        indexes = [models.Index(fields=["state", "created_at"]), models.Index(fields=["member", "state"])]

    def __str__(self) -> str:
        return self.out_trade_no


class PaymentNotification(models.Model):
    """One notification as it arrived (for support): raw body, whether its signature verified,
    and what was done with it."""

    class Result(models.TextChoices):
        CREDITED = "credited", _("Credited")
        DUPLICATE = "duplicate", _("Duplicate (already credited)")
        BAD_SIGNATURE = "bad_signature", _("Refused: signature not verified")
        AMOUNT_MISMATCH = "amount_mismatch", _("Refused: amount differs")
        UNKNOWN_TRADE = "unknown_trade", _("Refused: unknown trade")
        IGNORED = "ignored", _("Ignored (not a payment)")
        FAILED = "failed", _("Failed (could not be credited)")

    provider = models.CharField(_("provider"), max_length=16)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    body = models.TextField(_("raw body"))
    headers = models.JSONField(_("signature headers"), default=dict, blank=True)
    verified = models.BooleanField(_("signature verified"), default=False)
    out_trade_no = models.CharField(_("merchant trade number"), max_length=64, blank=True, db_index=True)
    amount_fen = models.BigIntegerField(_("amount (fen)"), null=True, blank=True)
    purchase = models.ForeignKey(
        PackagePurchase,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        verbose_name=_("purchase"),
    )
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")

    def __str__(self) -> str:
        return f"{self.provider} {self.out_trade_no} {self.result}"
