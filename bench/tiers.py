"""Tier downgrade review: ``tiers_tick`` over N members per second, next to a plain SQL aggregate of
the same rows measured in the same run.

    .venv/bin/python -m bench.tiers [--members 10000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.tiers

Each database runs in a child process with production settings (``LAOKE_TESTING`` unset) and a
fresh data dir. Set-up (not timed): the seed-001 preset with a rolling-12-months policy, N members
at VIP (rule-placed), three monthly buckets each — one outside the window, two inside — so that
half the members keep VIP and half fall back to 普通会员.

- ``tiers_tick (moves)``: the review day, half the members downgraded (locks, window totals,
  UPDATEs, history rows, one audit row per chunk of 2,000).
- ``tiers_tick (no change)``: the next day, the same review with nothing to move.
- baseline: one SQL statement computing the same window totals for the same tier rows
  (``tiers_membertier`` LEFT JOIN ``stats_membermonthstats`` … GROUP BY) — the read the review
  cannot avoid, without locks, decisions or writes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench._common import fresh_database, machine, run_child, targets

ROOT = Path(__file__).resolve().parents[1]


def run_one(n: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from django.db import connection, transaction

    from laoke.core import clock
    from laoke.tiers.models import MemberTier, TierHistory
    from laoke.tiers.services import tier_presets_install, tier_programme_update, tiers_tick

    fresh_database()

    day_before = datetime(2027, 3, 14, 4, tzinfo=UTC)  # 2027-03-14 12:00 in Shanghai
    with clock.frozen(day_before):
        (p,) = tier_presets_install(preset="online_shop")
        tier_programme_update(programme_id=p.pk, data={"downgrade_policy": "rolling_12_months"})
    vip = p.levels.get(code="vip")

    cols = (
        "code, mobile, name, gender, email, id_number, address_raw, province, city, district, address_detail, "
        "adcode, source, registered_at, lifecycle, status, exclude_personalised, is_permanent, notes, "
        "created_at, updated_at"
    )
    now = day_before
    blank = ("",) * 7  # id_number, address_raw, province, city, district, address_detail, adcode
    tail = (False, False, "", now, now)  # exclude_personalised, is_permanent, notes, created_at, updated_at
    members = [
        (f"B{i:010d}", None, f"会员{i}", "", None, *blank, "store", now, "registered", "active", *tail)
        for i in range(n)
    ]
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(f"INSERT INTO members_member ({cols}) VALUES ({', '.join(['%s'] * 21)})", members)
        cur.execute("SELECT id FROM members_member ORDER BY id")
        ids = [r[0] for r in cur.fetchall()]
        cur.executemany(
            "INSERT INTO tiers_membertier (member_id, level_id, since, how, updated_at) VALUES (%s, %s, %s, %s, %s)",
            [(mid, vip.pk, now, "rule", now) for mid in ids],
        )
        buckets = []
        for k, mid in enumerate(ids):
            buckets.append((mid, date(2026, 1, 1), 5_000_00, 0, 1))  # outside the window of 2027-03
            inside = 3_000_00 if k % 2 == 0 else 500_00
            buckets.append((mid, date(2026, 6, 1), inside, 0, 1))
            buckets.append((mid, date(2027, 2, 1), inside, 0, 1))
        cur.executemany(
            "INSERT INTO stats_membermonthstats (member_id, month, spend_fen, recharge_fen, orders) "
            "VALUES (%s, %s, %s, %s, %s)",
            buckets,
        )

    review_day = datetime(2027, 3, 15, 4, tzinfo=UTC)
    t0 = time.perf_counter()
    report = tiers_tick(review_day)
    moves_s = time.perf_counter() - t0
    assert report.reviewed == {p.code: n} and report.downgraded == {p.code: n // 2}, report
    assert TierHistory.objects.filter(how="review").count() == n // 2

    t0 = time.perf_counter()
    report = tiers_tick(datetime(2027, 3, 16, 4, tzinfo=UTC))
    still_s = time.perf_counter() - t0
    assert report.downgraded == {p.code: 0} and report.reviewed == {p.code: n}

    sql = (
        "SELECT t.id, t.level_id, COALESCE(SUM(s.spend_fen), 0), COALESCE(SUM(s.recharge_fen), 0), "
        "COALESCE(SUM(s.orders), 0) FROM tiers_membertier t LEFT JOIN stats_membermonthstats s "
        "ON s.member_id = t.member_id AND s.month >= %s AND s.month <= %s "
        "WHERE t.level_id IN (SELECT id FROM tiers_tierlevel WHERE programme_id = %s) AND t.how <> 'manual' "
        "GROUP BY t.id, t.level_id"
    )
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(sql, [date(2026, 3, 1), date(2027, 3, 16), p.pk])
        rows = cur.fetchall()
    sql_s = time.perf_counter() - t0
    assert len(rows) == n and MemberTier.objects.count() == n
    return {
        "database": connection.vendor,
        "members": n,
        "tick_moves_per_s": round(n / moves_s, 1),
        "tick_moves_s": round(moves_s, 3),
        "tick_still_per_s": round(n / still_s, 1),
        "tick_still_s": round(still_s, 3),
        "sql_aggregate_per_s": round(n / sql_s, 1),
        "sql_aggregate_s": round(sql_s, 4),
    }


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.tiers")
    p.add_argument("--members", type=int, default=10_000)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_one(args.members)))
        return 0
    print(f"# tiers_tick — {machine()}")
    for name, extra in targets():
        r = run_child("bench.tiers", ["--members", str(args.members)], database=name, extra_env=extra)
        if r is None:
            return 1
        print(f"\n## {name} ({r['members']:,} members at VIP, rolling 12 months)")
        print(
            f"tiers_tick, half downgraded  {r['tick_moves_per_s']:>12,.0f} members/s ({r['tick_moves_s']:.3f} s)"
        )
        print(
            f"tiers_tick, nothing moves    {r['tick_still_per_s']:>12,.0f} members/s ({r['tick_still_s']:.3f} s)"
        )
        print(
            f"baseline SQL window aggregate {r['sql_aggregate_per_s']:>11,.0f} rows/s ({r['sql_aggregate_s']:.4f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
