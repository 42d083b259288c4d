"""Writes of member statistics: one helper, called inside the transaction of the event."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest, Least

from laoke.core import clock
from laoke.members.models import GroupAccount, Member

from .models import GroupMonthStats, GroupStats, MemberCategoryStats, MemberMonthStats, MemberStats


def month_of(at: datetime):
    """The first day of ``at``'s calendar month in shop time (the key of the monthly buckets)."""
    return clock.to_local(at).date().replace(day=1)


def _upsert_add(model, lookup: dict, changes: dict, create_defaults: dict) -> None:
    """Guarded add to one row, creating it first if it is missing (a concurrent creator wins the
    insert; both adds land on the one row)."""
    if model.objects.filter(**lookup).update(**changes) == 1:
        return
    try:
        with transaction.atomic():
            model.objects.create(**lookup, **create_defaults)
    except IntegrityError:  # created concurrently
        pass
    model.objects.filter(**lookup).update(**changes)


def _stats_add(
    *,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    spend_fen: int = 0,
    recharge_fen: int = 0,
    orders: int = 0,
    discount_fen: int = 0,
    categories: dict[int, tuple[int, int]] | None = None,
    at: datetime | None = None,
) -> None:
    """Add to a member's (or group's) running totals and to the bucket of ``at``'s month. Deltas
    may be negative (a refund, a reversed recharge); the database refuses a total below zero.
    ``categories`` maps a category id to (spend fen, units) of this event (members only).
    Needs the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("_stats_add needs the caller's transaction")
    if (member is None) == (group_account is None):
        raise ValueError("exactly one owner")
    at = at or clock.now()
    model, lookup = (
        (MemberStats, {"member": member})
        if member is not None
        else (GroupStats, {"group_account": group_account})
    )
    changes: dict = {
        "spend_total_fen": F("spend_total_fen") + spend_fen,
        "recharge_total_fen": F("recharge_total_fen") + recharge_fen,
        "order_count": F("order_count") + orders,
        "discount_total_fen": F("discount_total_fen") + discount_fen,
        "updated_at": at,
    }
    if orders > 0:
        changes["first_order_at"] = Coalesce(Least(F("first_order_at"), at), at)
        changes["last_order_at"] = Coalesce(Greatest(F("last_order_at"), at), at)
    if recharge_fen > 0:
        changes["last_recharge_at"] = Coalesce(Greatest(F("last_recharge_at"), at), at)
    _upsert_add(model, lookup, changes, {"updated_at": at})
    if spend_fen or recharge_fen or orders:
        month_model = MemberMonthStats if member is not None else GroupMonthStats
        _upsert_add(
            month_model,
            {**lookup, "month": month_of(at)},
            {
                "spend_fen": F("spend_fen") + spend_fen,
                "recharge_fen": F("recharge_fen") + recharge_fen,
                "orders": F("orders") + orders,
            },
            {},
        )
    if categories:
        if member is None:
            raise ValueError("category figures are kept for members only")
        for category_id, (spend, units) in sorted(categories.items()):
            changes = {"spend_fen": F("spend_fen") + spend, "quantity": F("quantity") + units}
            if units > 0:
                changes["last_bought_at"] = Coalesce(Greatest(F("last_bought_at"), at), at)
            _upsert_add(MemberCategoryStats, {"member": member, "category_id": category_id}, changes, {})


def merge_hook(*, source: Member, target: Member) -> dict[str, int]:
    """``member_merge_hook`` of stats (see members.merge): a merged member's totals and monthly
    buckets are added to the survivor's (the earlier first order, the later last order and
    recharge) and the merged member's are emptied, so no spend is counted twice or lost."""
    s = MemberStats.objects.select_for_update().filter(member=source).first()
    if s is None:
        return {}
    now = clock.now()
    for m in MemberMonthStats.objects.filter(member=source):
        _upsert_add(
            MemberMonthStats,
            {"member": target, "month": m.month},
            {
                "spend_fen": F("spend_fen") + m.spend_fen,
                "recharge_fen": F("recharge_fen") + m.recharge_fen,
                "orders": F("orders") + m.orders,
            },
            {},
        )
    MemberMonthStats.objects.filter(member=source).delete()
    for c in MemberCategoryStats.objects.filter(member=source):
        changes = {"spend_fen": F("spend_fen") + c.spend_fen, "quantity": F("quantity") + c.quantity}
        if c.last_bought_at is not None:
            changes["last_bought_at"] = Coalesce(
                Greatest(F("last_bought_at"), c.last_bought_at), c.last_bought_at
            )
        _upsert_add(MemberCategoryStats, {"member": target, "category_id": c.category_id}, changes, {})
    MemberCategoryStats.objects.filter(member=source).delete()
    changes: dict = {
        "spend_total_fen": F("spend_total_fen") + s.spend_total_fen,
        "recharge_total_fen": F("recharge_total_fen") + s.recharge_total_fen,
        "order_count": F("order_count") + s.order_count,
        "discount_total_fen": F("discount_total_fen") + s.discount_total_fen,
        "updated_at": now,
    }
    if s.first_order_at is not None:
        changes["first_order_at"] = Coalesce(Least(F("first_order_at"), s.first_order_at), s.first_order_at)
    if s.last_order_at is not None:
        changes["last_order_at"] = Coalesce(Greatest(F("last_order_at"), s.last_order_at), s.last_order_at)
    if s.last_recharge_at is not None:
        changes["last_recharge_at"] = Coalesce(
            Greatest(F("last_recharge_at"), s.last_recharge_at), s.last_recharge_at
        )
    _upsert_add(MemberStats, {"member": target}, changes, {"updated_at": now})
    MemberStats.objects.filter(member=source).update(
        spend_total_fen=0, recharge_total_fen=0, order_count=0, discount_total_fen=0, updated_at=now
    )
    return {"spend_fen": s.spend_total_fen, "recharge_fen": s.recharge_total_fen, "orders": s.order_count}
