"""Coupon reads: templates, a member's coupons, and the coupons usable on a cart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from laoke.core import clock
from laoke.members.models import Member

from .evaluate import Evaluation, Line, evaluate
from .models import Coupon, CouponState, CouponTemplate


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
