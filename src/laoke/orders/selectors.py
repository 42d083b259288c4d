"""Order reads."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from laoke.core.errors import DomainError
from laoke.members.selectors import member_visible_queryset

from .error_codes import ORDER_NOT_FOUND
from .models import DiscountApproval, Order, OrderCoupon


def _with_details(qs: QuerySet[Order]) -> QuerySet[Order]:
    return qs.prefetch_related("lines", Prefetch("coupons", OrderCoupon.objects.select_related("coupon")))


def order_list(*, user=None, member_id: int | None = None, status: str | None = None) -> QuerySet[Order]:
    """Orders the user may see: non-member orders and orders of members visible to them."""
    qs = Order.objects.all()
    if user is not None:
        visible = member_visible_queryset(user, include_inactive=True).values("pk")
        qs = qs.filter(member__isnull=True) | qs.filter(member__in=visible)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if status:
        qs = qs.filter(status=status)
    return _with_details(qs)


def order_get(number: str, *, user=None) -> Order:
    order = order_list(user=user).filter(number=(number or "").strip()).first()
    if order is None:
        raise DomainError(ORDER_NOT_FOUND)
    return order


def member_orders(member, *, limit: int = 20) -> list[Order]:
    return list(_with_details(Order.objects.filter(member=member)).order_by("-pk")[:limit])


def approval_list(*, state: str | None = None) -> QuerySet[DiscountApproval]:
    qs = DiscountApproval.objects.all()
    return qs.filter(state=state) if state else qs
