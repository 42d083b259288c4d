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

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from laoke.core import clock
from laoke.core.bulk import insert_rows, model_rows, update_rows, values_in
from laoke.stats.models import MemberCategoryStats, MemberMonthStats, MemberStats
from laoke.tiers.replay import Event

from .models import Order, OrderLine, Refund, RefundLine


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


def expected(member_ids: list[int], events: dict[int, list[Event]] | None = None) -> dict[int, Figures]:
    """The figures the orders and refunds of ``member_ids`` give (plain value queries: this runs
    over every member an import touched). With ``events`` given, each member's orders and refunds
    are also collected there for ``tiers.replay`` (one read for both)."""
    out: dict[int, Figures] = defaultdict(Figures)
    months: dict = {}  # a paid_at's month, computed once per shop day

    def month(at: datetime):
        day = clock.to_local(at).date()
        if day not in months:
            months[day] = day.replace(day=1)
        return months[day]

    # Orders by member (indexed), then lines and refunds by order id: a join from lines to orders
    # filtered on the member made SQLite scan every line once per chunk of members.
    owner: dict[int, int] = {}
    rows = Order.objects.filter(member_id__in=member_ids).values_list(
        "pk", "member_id", "paid_at", "goods_net_fen", "goods_gross_fen"
    )
    paid_at: dict[int, datetime] = {}
    for pk, member_id, at, net, gross in rows:
        owner[pk] = member_id
        if at is None:
            continue
        paid_at[pk] = at
        f = out[member_id]
        f.spend_total_fen += net
        f.order_count += 1
        f.discount_total_fen += gross - net
        f.first_order_at = at if f.first_order_at is None else min(f.first_order_at, at)
        f.last_order_at = at if f.last_order_at is None else max(f.last_order_at, at)
        m = f.months[month(at)]
        m[0] += net
        m[1] += 1
        if events is not None:
            events[member_id].append(Event(at, net, 1, True))
    category_of: dict[int, int | None] = {}
    for pk, order_id, category_id, net, qty in values_in(
        OrderLine, "order_id", list(owner), ["id", "order_id", "category_id", "net_fen", "quantity"]
    ):
        category_of[pk] = category_id
        if category_id is None or order_id not in paid_at:
            continue
        at = paid_at[order_id]
        c = out[owner[order_id]].categories[category_id]
        c[0] += net
        c[1] += qty
        c[2] = at if c[2] is None else max(c[2], at)
    refund_ids = []
    ids = list(owner)
    for i in range(0, len(ids), 2000):
        for pk, order_id, net, completes, at in Refund.objects.filter(
            order_id__in=ids[i : i + 2000]
        ).values_list("pk", "order_id", "goods_net_fen", "completes_order", "created_at"):
            refund_ids.append(pk)
            member_id = owner[order_id]
            f = out[member_id]
            f.spend_total_fen -= net
            m = f.months[month(at)]
            m[0] -= net
            if completes:
                f.order_count -= 1
                m[1] -= 1
            if events is not None:
                events[member_id].append(Event(at, -net, -1 if completes else 0, False))
    refund_owner = dict(values_in(Refund, "id", refund_ids, ["id", "order_id"]))
    for refund_id, line_id, net, qty, discounts in values_in(
        RefundLine, "refund_id", refund_ids, ["refund_id", "line_id", "net_fen", "quantity", "discounts"]
    ):
        f = out[owner[refund_owner[refund_id]]]
        given_back = json.loads(discounts) if isinstance(discounts, str) else discounts
        f.discount_total_fen -= sum(given_back.values())
        category_id = category_of.get(line_id)
        if category_id is not None:
            c = f.categories[category_id]
            c[0] -= net
            c[1] -= qty
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


def _stats_write(figures: dict[int, Figures], member_ids: list[int]) -> None:
    """Make the statistics rows of ``member_ids`` say ``figures`` (recharge figures kept). Set-based:
    a constant number of statements per call. Needs the caller's transaction, with the members'
    ``MemberStats`` rows locked (``_stats_lock``)."""
    now = clock.now()
    empty = Figures()
    update_rows(
        MemberStats._meta.db_table,
        ["member_id"],
        [
            "spend_total_fen",
            "order_count",
            "discount_total_fen",
            "first_order_at",
            "last_order_at",
            "updated_at",
        ],
        [
            (
                f.spend_total_fen,
                f.order_count,
                f.discount_total_fen,
                f.first_order_at,
                f.last_order_at,
                now,
                mid,
            )
            for mid in member_ids
            for f in [figures.get(mid, empty)]
        ],
    )
    # Month buckets: most members of an import have none yet — insert theirs with the figures;
    # update the buckets that exist (they may hold recharges) and clear the ones no longer earned.
    existing = set(
        MemberMonthStats.objects.filter(member_id__in=member_ids).values_list("member_id", "month")
    )
    month_rows = [
        (mid, month, spend, orders)
        for mid in member_ids
        for month, (spend, orders) in figures.get(mid, empty).months.items()
        if spend or orders
    ]
    insert_rows(
        MemberMonthStats._meta.db_table,
        ["member_id", "month", "spend_fen", "recharge_fen", "orders"],
        [
            (mid, month, spend, 0, orders)
            for mid, month, spend, orders in month_rows
            if (mid, month) not in existing
        ],
    )
    earned = {(mid, month) for mid, month, _s, _o in month_rows}
    update_rows(
        MemberMonthStats._meta.db_table,
        ["member_id", "month"],
        ["spend_fen", "orders"],
        [(spend, orders, mid, month) for mid, month, spend, orders in month_rows if (mid, month) in existing]
        + [(0, 0, mid, month) for mid, month in existing - earned],
    )
    if existing - earned:
        MemberMonthStats.objects.filter(
            member_id__in=member_ids, spend_fen=0, orders=0, recharge_fen=0
        ).delete()
    MemberCategoryStats.objects.filter(member_id__in=member_ids).delete()
    insert_rows(
        MemberCategoryStats._meta.db_table,
        ["member_id", "category_id", "spend_fen", "quantity", "last_bought_at"],
        [
            (mid, cat, spend, qty, last)
            for mid in member_ids
            for cat, (spend, qty, last) in figures.get(mid, empty).categories.items()
            if spend or qty or last
        ],
    )


def _stats_lock(member_ids: list[int]) -> None:
    """Create the missing ``MemberStats`` rows of ``member_ids`` and lock them all (pk order), so
    no settlement lands between a rebuild's read and its write (settlement updates that row first)."""
    now = clock.now()
    columns, rows = model_rows(MemberStats, [{"member_id": mid, "updated_at": now} for mid in member_ids])
    insert_rows(MemberStats._meta.db_table, columns, rows)
    list(
        MemberStats.objects.select_for_update()
        .filter(member_id__in=member_ids)
        .order_by("pk")
        .values_list("pk")
    )


def _stats_rebuild(member_ids: list[int]) -> dict[int, list[Event]]:
    """Recompute and write the order-derived statistics of ``member_ids`` (≤ a few thousand) inside
    the caller's transaction (imports, after their orders are in). Returns the members' order
    history for ``tiers.replay``."""
    member_ids = sorted(set(member_ids))
    _stats_lock(member_ids)
    events: dict[int, list[Event]] = defaultdict(list)
    _stats_write(expected(member_ids, events), member_ids)
    return events


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
                _stats_lock(part)
            want, have = expected(part), actual(part)
            wrong = [mid for mid in part if want[mid].comparable() != have[mid].comparable()]
            report.members += len(part)
            report.differing.extend(wrong)
            if repair and wrong:
                _stats_write(want, wrong)
                report.repaired += len(wrong)
    return report
