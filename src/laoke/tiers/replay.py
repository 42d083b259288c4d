"""Placing members after an import by replaying their history (docs/decisions/0029-imports.md).

Settlement evaluates a member's tier after every order with the figures of that moment and only
ever moves up. An import writes years of orders at once, so evaluating once at the end would be
wrong both ways (a window that has since moved on; a level reached and then left by refunds).
The replay walks each member's events — orders at their payment time, refunds when made — in time
order, computes the figures after every order exactly as ``figures_for`` would have then (lifetime
totals, or the monthly buckets of the 12+1 calendar-month window for a reviewing programme, net of
refunds and floored at zero), and keeps the highest level reached and when it was first reached.
A member below that level is moved to it with one history row dated then — the level and
``since`` one-by-one settlement would have left. Recharge figures and the points balance are
counted as they stand now (imports move neither).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.bulk import insert_rows, model_rows, update_rows
from laoke.ledger.models import Account
from laoke.stats.models import MemberMonthStats, MemberStats
from laoke.stats.selectors import window_start

from .models import Audience, How, MemberTier, RuleKind, TierHistory, TierProgramme
from .review import WINDOW_MONTHS
from .rules import Figures, best_level, uses_window


@dataclass(frozen=True)
class Event:
    at: datetime
    spend_fen: int  # + an order's goods after discounts, − a refund's goods
    orders: int  # +1 an order, −1 a refund that completed one, else 0
    is_order: bool


@dataclass
class ReplayReport:
    members: int = 0
    moved: int = 0


def _month(at: datetime, cache: dict) -> date:
    day = clock.to_local(at).date()
    if day not in cache:
        cache[day] = day.replace(day=1)
    return cache[day]


def _tiers_replay(events: dict[int, list[Event]], *, reason: str, job_id: str = "") -> ReplayReport:
    """Replay ``events`` (member id → its whole order history) and raise each member to the
    highest level reached. Needs the caller's transaction; locks the members' tier rows."""
    if not connection.in_atomic_block:
        raise RuntimeError("_tiers_replay needs the caller's transaction")
    report = ReplayReport(members=len(events))
    programme = TierProgramme.objects.filter(audience=Audience.INDIVIDUAL, is_active=True).first()
    if programme is None or not events:
        return report
    levels = list(programme.levels.all())
    ids = sorted(events)
    first_at = {mid: min((e.at for e in evs), default=clock.now()) for mid, evs in events.items()}
    # Every buyer has a tier row after settlement (a level-less one until a rule is met).
    columns, rows = model_rows(
        MemberTier,
        [
            {"member_id": mid, "since": first_at[mid], "how": How.RULE, "updated_at": first_at[mid]}
            for mid in ids
        ],
    )
    insert_rows(MemberTier._meta.db_table, columns, rows)
    tier_rows = {
        r[1]: r
        for r in MemberTier.objects.select_for_update()
        .filter(member_id__in=ids)
        .order_by("pk")
        .values_list("pk", "member_id", "level_id")
    }
    windowed = uses_window(programme)
    recharge_months: dict[int, dict[date, int]] = defaultdict(dict)
    recharge_total: dict[int, int] = {}
    if windowed:
        for mid, month, fen in MemberMonthStats.objects.filter(
            member_id__in=ids, recharge_fen__gt=0
        ).values_list("member_id", "month", "recharge_fen"):
            recharge_months[mid][month] = fen
    else:
        recharge_total = dict(
            MemberStats.objects.filter(member_id__in=ids).values_list("member_id", "recharge_total_fen")
        )
    points: dict[int, int] = {}
    if any(lv.rule_kind == RuleKind.POINTS_BALANCE for lv in levels):
        points = dict(
            Account.objects.filter(kind=Account.Kind.POINTS, member_id__in=ids).values_list(
                "member_id", "balance"
            )
        )
    rank_of = {lv.pk: lv.rank for lv in levels}
    months_cache: dict = {}
    moves = []
    for mid in ids:
        best, best_at = None, None
        spend = orders = 0
        buckets: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for e in sorted(events[mid], key=lambda e: (e.at, not e.is_order)):
            month = _month(e.at, months_cache)
            b = buckets[month]
            b[0] += e.spend_fen
            b[1] += e.orders
            spend += e.spend_fen
            orders += e.orders
            if not e.is_order:
                continue
            if windowed:
                start = window_start(month, WINDOW_MONTHS)
                s = sum(v[0] for m, v in buckets.items() if start <= m <= month)
                o = sum(v[1] for m, v in buckets.items() if start <= m <= month)
                r = sum(v for m, v in recharge_months[mid].items() if start <= m <= month)
                figures = Figures(max(s, 0), max(r, 0), max(o, 0), points.get(mid, 0))
            else:
                figures = Figures(spend, recharge_total.get(mid, 0), orders, points.get(mid, 0))
            level = best_level(levels, figures)
            if level is not None and (best is None or level.rank > best.rank):
                best, best_at = level, e.at
        pk, _mid, current = tier_rows[mid]
        if best is not None and (current not in rank_of or best.rank > rank_of[current]):
            moves.append((pk, mid, current, best, best_at))
    if not moves:
        return report
    now = clock.now()
    update_rows(
        MemberTier._meta.db_table,
        ["id"],
        ["level_id", "since", "how", "updated_at"],
        [(lv.pk, at, How.RULE, now, pk) for pk, _mid, _cur, lv, at in moves],
    )
    columns, rows = model_rows(
        TierHistory,
        [
            {
                "member_id": mid,
                "from_level_id": cur,
                "to_level_id": lv.pk,
                "at": at,
                "how": How.RULE,
                "reason": reason[:200],
                "actor_label": "system",
            }
            for _pk, mid, cur, lv, at in moves
        ],
    )
    insert_rows(TierHistory._meta.db_table, columns, rows)
    by_level: dict[str, int] = defaultdict(int)
    for *_x, lv, _at in moves:
        by_level[lv.code] += 1
    audit_write(
        action="tier.change_bulk",
        object_type="import",
        object_id=job_id,
        after={"reason": reason[:200], "moved": len(moves), "levels": dict(by_level)},
    )
    report.moved = len(moves)
    return report
