"""Coupon reads: templates, a member's coupons, and the coupons usable on a cart; the order rules
(满就送, gifts, bundles, member prices) with their tiers, items and gifts loaded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.members.models import Member

from . import error_codes as E
from .evaluate import Evaluation, Line, evaluate
from .models import (
    Bundle,
    BundleGift,
    BundleItem,
    Coupon,
    CouponState,
    CouponTemplate,
    FullSendRule,
    FullSendTier,
    GiftRule,
    MemberPrice,
)


def template_get(template_id: int) -> CouponTemplate:
    return get_object_or_404(CouponTemplate.objects.select_related("gift"), pk=template_id)


def template_list() -> QuerySet[CouponTemplate]:
    return CouponTemplate.objects.select_related("gift")


def coupon_get(code: str) -> Coupon:
    return get_object_or_404(Coupon.objects.select_related("template"), code=(code or "").strip().upper())


def member_coupons(member: Member, *, state: str | None = None) -> QuerySet[Coupon]:
    qs = Coupon.objects.filter(member=member).select_related("template", "template__gift")
    return qs.filter(state=state) if state else qs


@dataclass
class Usable:
    coupon: Coupon
    evaluation: Evaluation | None


def usable_coupons(
    member: Member,
    *,
    sales_channel: str = "",
    lines: Sequence[Line] | None = None,
    now: datetime | None = None,
) -> list[Usable]:
    """The member's coupons usable now in this sales channel; with cart ``lines``, only those that
    apply, each with its evaluation, largest discount first (then soonest to expire). A template
    made inactive stops issuing; coupons already issued stay usable (void them to stop them)."""
    now = now or clock.now()
    qs = (
        member_coupons(member, state=CouponState.ISSUED)
        .filter(valid_from__lte=now, valid_to__gt=now)
        .order_by("valid_to", "pk")
    )
    if sales_channel:
        qs = qs.filter(Q(template__sales_channel="") | Q(template__sales_channel=sales_channel))
    if lines is None:
        return [Usable(c, None) for c in qs]
    found = [Usable(c, evaluate(c, lines)) for c in qs]
    found = [u for u in found if u.evaluation.applicable]
    found.sort(key=lambda u: (-u.evaluation.amount_fen, u.coupon.valid_to, u.coupon.pk))
    return found


# --- order rules ----------------------------------------------------------------------------------


def in_window(now: datetime) -> Q:
    """Active, and ``now`` inside the optional window [valid_from, valid_to)."""
    return (
        Q(is_active=True)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=now))
        & (Q(valid_to__isnull=True) | Q(valid_to__gt=now))
    )


def full_send_rule_list() -> QuerySet[FullSendRule]:
    return FullSendRule.objects.prefetch_related(
        Prefetch("tiers", queryset=FullSendTier.objects.select_related("template").order_by("threshold_fen"))
    )


def gift_rule_list() -> QuerySet[GiftRule]:
    return GiftRule.objects.select_related("gift_product", "gift_item")


def bundle_list() -> QuerySet[Bundle]:
    return Bundle.objects.select_related("hot_product", "free_shipping_template").prefetch_related(
        Prefetch("items", queryset=BundleItem.objects.select_related("product").order_by("pk")),
        Prefetch("gifts", queryset=BundleGift.objects.select_related("gift_item").order_by("pk")),
    )


def member_price_list() -> QuerySet[MemberPrice]:
    return MemberPrice.objects.select_related("product")


def rule_get(qs: QuerySet, pk: int):
    found = qs.filter(pk=pk).first()
    if found is None:
        raise DomainError(E.RULE_NOT_FOUND, field="id")
    return found
