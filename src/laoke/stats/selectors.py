"""Reads of member statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from laoke.core.money import BP_ONE, half_up_div
from laoke.members.models import GroupAccount, Member

from .models import GroupMonthStats, GroupStats, MemberCategoryStats, MemberMonthStats, MemberStats


def member_stats(member: Member) -> MemberStats:
    """The member's totals; an unsaved all-zero row when nothing has happened yet."""
    return MemberStats.objects.filter(member=member).first() or MemberStats(member=member)


def group_stats(group_account: GroupAccount) -> GroupStats:
    return GroupStats.objects.filter(group_account=group_account).first() or GroupStats(
        group_account=group_account
    )


def window_start(today: date, months: int = 12) -> date:
    """First day of the window of ``months`` calendar months ending with ``today``'s month."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class WindowTotals:
    spend_fen: int = 0
    recharge_fen: int = 0
    orders: int = 0


def window_totals(
    *, member: Member | None = None, group_account: GroupAccount | None = None, today: date, months: int = 12
) -> WindowTotals:
    """Spend, recharge and orders over the ``months`` calendar months ending with ``today``'s
    month (shop time), from the monthly buckets. Negative nets (refunds) are floored at zero."""
    model, lookup = (
        (MemberMonthStats, {"member": member})
        if member is not None
        else (GroupMonthStats, {"group_account": group_account})
    )
    agg = model.objects.filter(**lookup, month__gte=window_start(today, months), month__lte=today).aggregate(
        s=Sum("spend_fen"), r=Sum("recharge_fen"), o=Sum("orders")
    )
    return WindowTotals(max(agg["s"] or 0, 0), max(agg["r"] or 0, 0), max(agg["o"] or 0, 0))


def window_totals_many(
    *, owner: str, ids: list[int], today: date, months: int = 12
) -> dict[int, WindowTotals]:
    """``window_totals`` for many members (owner="member") or groups (owner="group_account") in
    one query."""
    model = MemberMonthStats if owner == "member" else GroupMonthStats
    rows = (
        model.objects.filter(
            **{f"{owner}_id__in": ids}, month__gte=window_start(today, months), month__lte=today
        )
        .values(f"{owner}_id")
        .annotate(s=Sum("spend_fen"), r=Sum("recharge_fen"), o=Sum("orders"))
    )
    return {
        r[f"{owner}_id"]: WindowTotals(max(r["s"] or 0, 0), max(r["r"] or 0, 0), max(r["o"] or 0, 0))
        for r in rows
    }


@dataclass(frozen=True)
class Profile:
    """SPEC 8's per-member figures, net of refunds."""

    order_count: int
    spend_total_fen: int
    average_basket_fen: int  # half-up; 0 without orders
    discount_total_fen: int
    discount_share_bp: int  # discount / (spend + discount), half-up; 0 when nothing was bought
    first_order_at: object
    last_order_at: object
    last_12_months_spend_fen: int
    categories: list[tuple[int, int, int]]  # (category id, spend fen, units), most spend first


def member_profile(member: Member, *, today: date, top: int = 10) -> Profile:
    s = member_stats(member)
    gross = s.spend_total_fen + s.discount_total_fen
    cats = list(
        MemberCategoryStats.objects.filter(member=member, quantity__gt=0)
        .order_by("-spend_fen", "category_id")
        .values_list("category_id", "spend_fen", "quantity")[:top]
    )
    return Profile(
        order_count=s.order_count,
        spend_total_fen=s.spend_total_fen,
        average_basket_fen=half_up_div(s.spend_total_fen, s.order_count) if s.order_count else 0,
        discount_total_fen=s.discount_total_fen,
        discount_share_bp=half_up_div(s.discount_total_fen * BP_ONE, gross) if gross else 0,
        first_order_at=s.first_order_at,
        last_order_at=s.last_order_at,
        last_12_months_spend_fen=window_totals(member=member, today=today).spend_fen,
        categories=cats,
    )
