"""Referral reads: the programme, a member's referrals, and the referral-share KPI report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet, Sum

from laoke.core import clock
from laoke.core.money import BP_ONE, half_up_div
from laoke.members.models import Member
from laoke.stats.models import GroupMonthStats, MemberMonthStats

from .models import Referral, ReferralProgramme, ReferralSale


def programme_get() -> ReferralProgramme:
    """The settings row; the defaults (unsaved) until someone installs or changes them."""
    return ReferralProgramme.objects.filter(slot=1).first() or ReferralProgramme(updated_at=clock.now())


def referral_list(*, member: Member | None = None, state: str | None = None) -> QuerySet[Referral]:
    qs = Referral.objects.select_related("referrer", "new_member")
    if member is not None:
        qs = qs.filter(referrer=member) | qs.filter(new_member=member)
    return qs.filter(state=state) if state else qs


def member_referrals(member: Member) -> QuerySet[Referral]:
    """The members this member referred, newest first."""
    return Referral.objects.filter(referrer=member).select_related("new_member").order_by("-pk")


def referral_of(member: Member) -> Referral | None:
    """Who referred this member, if anyone."""
    return Referral.objects.filter(new_member=member).select_related("referrer").first()


@dataclass(frozen=True)
class KpiMonth:
    month: date
    referred_fen: int  # paid orders of referred members, less full refunds booked in this month
    total_fen: int  # all members' and groups' net spend of the month (stats buckets)
    share_bp: int | None  # referred / total in basis points, half-up; None without sales
    target_bp: int
    met: bool


def _months(start: date, end: date) -> list[date]:
    out = []
    index, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    while index <= last:
        out.append(date(index // 12, index % 12 + 1, 1))
        index += 1
    return out


def kpi_report(*, start: date, end: date) -> list[KpiMonth]:
    """The referral share of sales (seed 002: target 20%) for each month from ``start``'s to
    ``end``'s. The denominator is the stats monthly buckets (what settlement books as spend, net
    of refunds in the refund's month); the numerator books a fully refunded order out the same
    way. Pass settlement's ``paid_fen`` = the spend it books, and the two agree."""
    months = _months(start.replace(day=1), end.replace(day=1))
    if not months:
        return []
    first, last = months[0], months[-1]
    target = programme_get().kpi_target_bp
    referred: dict[date, int] = dict.fromkeys(months, 0)
    for month, total in (
        ReferralSale.objects.filter(month__gte=first, month__lte=last)
        .values("month")
        .annotate(s=Sum("amount_fen"))
        .values_list("month", "s")
    ):
        referred[month] += total or 0
    for month, total in (
        ReferralSale.objects.filter(refund_month__gte=first, refund_month__lte=last)
        .values("refund_month")
        .annotate(s=Sum("amount_fen"))
        .values_list("refund_month", "s")
    ):
        referred[month] -= total or 0
    totals: dict[date, int] = dict.fromkeys(months, 0)
    for model in (MemberMonthStats, GroupMonthStats):
        for month, total in (
            model.objects.filter(month__gte=first, month__lte=last)
            .values("month")
            .annotate(s=Sum("spend_fen"))
            .values_list("month", "s")
        ):
            totals[month] += total or 0
    out = []
    for month in months:
        share = half_up_div(referred[month] * BP_ONE, totals[month]) if totals[month] > 0 else None
        out.append(
            KpiMonth(
                month=month,
                referred_fen=referred[month],
                total_fen=totals[month],
                share_bp=share,
                target_bp=target,
                met=share is not None and share >= target,
            )
        )
    return out
