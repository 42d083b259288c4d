"""Rebuild the order-derived member statistics from the orders and refunds themselves.

Settlement and refunds keep ``stats`` incrementally (``_stats_add``); this recomputes the same
figures from scratch — to check them (``--check``: report any member whose figures differ) or to
repair them (imports, a restored backup, a bug). The rules are exactly the incremental ones:

- spend = goods after discounts of every settled order − goods refunded; orders = settled orders
  − refunds that completed an order; discount = (goods at list − after discounts) − the discounts
  refunded goods lines gave back; first/last order = the earliest/latest payment time (a refund
  does not move them);
- month buckets: an order counts in the month it was paid, a refund in the month it was made;
- categories: net spend and units after refunds, last bought = the latest payment with a line of
  that category.

Recharge figures are not order-derived and are left as they are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from laoke.core import clock
from laoke.stats.models import MemberCategoryStats, MemberMonthStats, MemberStats
from laoke.stats.services import month_of

from .models import Order, Refund, RefundLine


@dataclass
class Figures:
    spend_total_fen: int = 0
    order_count: int = 0
    discount_total_fen: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    months: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # month → [spend, orders]
    categories: dict = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, None])
    )  # id → [spend, qty, last]

    def comparable(self) -> tuple:
        return (
            self.spend_total_fen,
            self.order_count,
            self.discount_total_fen,
            self.first_order_at,
            self.last_order_at,
            {m: tuple(v) for m, v in self.months.items() if any(v)},
            {c: tuple(v) for c, v in self.categories.items() if v[1] or v[0] or v[2]},
        )


@dataclass
class RebuildReport:
    members: int = 0
    differing: list[int] = field(default_factory=list)
    repaired: int = 0


def expected(member_ids: list[int]) -> dict[int, Figures]:
    out: dict[int, Figures] = defaultdict(Figures)
    orders = Order.objects.filter(member_id__in=member_ids, paid_at__isnull=False).prefetch_related("lines")
    for o in orders.iterator(chunk_size=500):
        f = out[o.member_id]
        f.spend_total_fen += o.goods_net_fen
        f.order_count += 1
        f.discount_total_fen += o.goods_gross_fen - o.goods_net_fen
        f.first_order_at = min(filter(None, (f.first_order_at, o.paid_at)))
        f.last_order_at = max(filter(None, (f.last_order_at, o.paid_at)))
        m = f.months[month_of(o.paid_at)]
        m[0] += o.goods_net_fen
        m[1] += 1
        for ln in o.lines.all():
            if ln.category_id is None:
                continue
            c = f.categories[ln.category_id]
            c[0] += ln.net_fen
            c[1] += ln.quantity
            c[2] = max(filter(None, (c[2], o.paid_at)))
    refunds = Refund.objects.filter(order__member_id__in=member_ids).select_related("order")
    for r in refunds.iterator(chunk_size=500):
        f = out[r.order.member_id]
        f.spend_total_fen -= r.goods_net_fen
        m = f.months[month_of(r.created_at)]
        m[0] -= r.goods_net_fen
        if r.completes_order:
            f.order_count -= 1
            m[1] -= 1
    lines = RefundLine.objects.filter(refund__order__member_id__in=member_ids).select_related(
        "refund__order", "line"
    )
    for rl in lines.iterator(chunk_size=500):
        f = out[rl.refund.order.member_id]
        f.discount_total_fen -= sum(rl.discounts.values())
        if rl.line.category_id is not None:
            c = f.categories[rl.line.category_id]
            c[0] -= rl.net_fen
            c[1] -= rl.quantity
    return out


def actual(member_ids: list[int]) -> dict[int, Figures]:
    out: dict[int, Figures] = defaultdict(Figures)
    for s in MemberStats.objects.filter(member_id__in=member_ids):
        f = out[s.member_id]
        f.spend_total_fen, f.order_count, f.discount_total_fen = (
            s.spend_total_fen,
            s.order_count,
            s.discount_total_fen,
        )
        f.first_order_at, f.last_order_at = s.first_order_at, s.last_order_at
    for m in MemberMonthStats.objects.filter(member_id__in=member_ids):
        out[m.member_id].months[m.month] = [m.spend_fen, m.orders]
    for c in MemberCategoryStats.objects.filter(member_id__in=member_ids):
        out[c.member_id].categories[c.category_id] = [c.spend_fen, c.quantity, c.last_bought_at]
    return out


def _write(member_id: int, f: Figures) -> None:
    now = clock.now()
    MemberStats.objects.update_or_create(
        member_id=member_id,
        defaults={
            "spend_total_fen": f.spend_total_fen,
            "order_count": f.order_count,
            "discount_total_fen": f.discount_total_fen,
            "first_order_at": f.first_order_at,
            "last_order_at": f.last_order_at,
            "updated_at": now,
        },
    )
    MemberMonthStats.objects.filter(member_id=member_id).exclude(month__in=list(f.months)).update(
        spend_fen=0, orders=0
    )
    for month, (spend, orders) in f.months.items():
        MemberMonthStats.objects.update_or_create(
            member_id=member_id, month=month, defaults={"spend_fen": spend, "orders": orders}
        )
    MemberCategoryStats.objects.filter(member_id=member_id).exclude(
        category_id__in=list(f.categories)
    ).delete()
    for cat, (spend, qty, last) in f.categories.items():
        MemberCategoryStats.objects.update_or_create(
            member_id=member_id,
            category_id=cat,
            defaults={"spend_fen": spend, "quantity": qty, "last_bought_at": last},
        )


def stats_rebuild(
    *, member_ids: list[int] | None = None, repair: bool = False, chunk: int = 500
) -> RebuildReport:
    """Compare (and with ``repair`` rewrite) the order-derived statistics of ``member_ids`` (None =
    every member who has an order or statistics), ``chunk`` members per transaction."""
    if member_ids is None:
        ids = set(Order.objects.filter(member__isnull=False).values_list("member_id", flat=True).distinct())
        ids |= set(MemberStats.objects.values_list("member_id", flat=True))
        member_ids = sorted(ids)
    report = RebuildReport()
    for i in range(0, len(member_ids), chunk):
        part = member_ids[i : i + chunk]
        with transaction.atomic(durable=True):
            if repair:  # lock the rows settlement updates, so nothing lands between read and write
                list(MemberStats.objects.select_for_update().filter(member_id__in=part).values_list("pk"))
            want, have = expected(part), actual(part)
            for mid in part:
                report.members += 1
                if want[mid].comparable() != have[mid].comparable():
                    report.differing.append(mid)
                    if repair:
                        _write(mid, want[mid])
                        report.repaired += 1
    return report
