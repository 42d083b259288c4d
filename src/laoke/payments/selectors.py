"""Reads of payments."""

from __future__ import annotations

from django.db.models import QuerySet

from laoke.core import clock
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.members.selectors import member_visible_queryset

from .models import PackagePurchase, PaymentNotification, RechargePackage
from .services import package_available


def packages(*, active_only: bool = False) -> list[RechargePackage]:
    rows = list(RechargePackage.objects.order_by("sort", "price_fen", "pk"))
    if active_only:
        now = clock.now()
        rows = [p for p in rows if package_available(p, now)]
    return rows


def packages_on_sale() -> list[RechargePackage]:
    """What a member may buy now (the portal's list)."""
    return packages(active_only=True)


def purchases_visible(
    user, *, state: str | None = None, member_id: int | None = None
) -> QuerySet[PackagePurchase]:
    """Purchases of the members this staff user may see (SPEC 16's object rule)."""
    qs = PackagePurchase.objects.select_related("member").filter(member__in=member_visible_queryset(user))
    if state:
        qs = qs.filter(state=state)
    if member_id:
        qs = qs.filter(member_id=member_id)
    return qs


def purchase_get(user, purchase_id: int) -> PackagePurchase:
    purchase = purchases_visible(user).filter(pk=purchase_id).first()
    if purchase is None:
        raise DomainError(NOT_FOUND, field="purchase_id")
    return purchase


def member_purchases(member) -> QuerySet[PackagePurchase]:
    """A member's own purchases, newest first (the portal)."""
    return PackagePurchase.objects.filter(member=member).order_by("-pk")


def purchase_notifications(purchase: PackagePurchase) -> QuerySet[PaymentNotification]:
    return PaymentNotification.objects.filter(out_trade_no=purchase.out_trade_no).order_by("pk")


def purchase_summary(purchase: PackagePurchase) -> dict:
    return {
        "id": purchase.pk,
        "member_id": purchase.member_id,
        "member_code": purchase.member.code,
        "package_id": purchase.package_id,
        "name": purchase.name,
        "price_fen": purchase.price_fen,
        "bonus_fen": purchase.bonus_fen,
        "provider": purchase.provider,
        "out_trade_no": purchase.out_trade_no,
        "provider_trade_no": purchase.provider_trade_no,
        "state": purchase.state,
        "created_at": purchase.created_at,
        "paid_at": purchase.paid_at,
        "closed_at": purchase.closed_at,
        "refund_fen": purchase.refund_fen,
        "bonus_back_fen": purchase.bonus_back_fen,
        "refunded_at": purchase.refunded_at,
        "last_error": purchase.last_error,
    }
