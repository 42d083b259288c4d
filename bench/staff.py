"""The monthly assessment of every sales rep: N reps (default 200) with a month of work logs
(every working day about the S0 quota: 2 new visits, 3 old visits, 4 calls, some missed) and
customers, computed the way the console and ``laoke staff assessment`` do it (quota completion per
kind, cadence compliance, prospects; and the xlsx), next to a baseline in the same run: one raw SQL
``GROUP BY rep, kind`` over the month's logs (the counts alone, no quota, cadence or prospects).

    .venv/bin/python -m bench.staff [--reps 200] [--seed 7]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.staff
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

from bench._common import fresh_database, machine, run_child, targets

MONTH = date(2026, 6, 1)


def child(reps: int, seed: int) -> dict:
    fresh_database()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from laoke.core import clock
    from laoke.staff import selectors
    from laoke.staff.models import Account, WorkLog

    rng = random.Random(seed)
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"rep{i:04d}", is_staff=True, password="!") for i in range(reps)]
    )
    admin = User.objects.create(username="bench-admin", is_staff=True, is_superuser=True, password="!")
    group, _ = Group.objects.get_or_create(name="sales_rep")  # only the group the object rule reads
    group.user_set.add(*users)
    now = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)
    accounts = Account.objects.bulk_create(
        [Account(name=f"客户{u.pk}-{k}", rep=u, created_at=now) for u in users for k in range(10)]
    )
    logs = []
    tz = clock.shop_tz()
    by_rep: dict[int, list] = {}
    for a in accounts:
        by_rep.setdefault(a.rep_id, []).append(a)
    for u in users:
        day = MONTH
        while day.month == MONTH.month:
            if day.isoweekday() <= 5:
                for n, kind in enumerate(["new_visit"] * 2 + ["old_visit"] * 3 + ["call"] * 4):
                    if rng.random() < 0.15:
                        continue
                    at = datetime(day.year, day.month, day.day, 9 + n, rng.randrange(60), tzinfo=tz)
                    account = by_rep[u.pk][rng.randrange(10)] if kind == "old_visit" else None
                    logs.append(WorkLog(rep=u, kind=kind, at=at, account=account, created_at=now))
            day += timedelta(days=1)
    WorkLog.objects.bulk_create(logs, batch_size=2000)

    start, end = selectors.day_range(MONTH, selectors.month_last(MONTH))
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT rep_id, kind, COUNT(*) FROM staff_worklog WHERE at >= %s AND at < %s GROUP BY rep_id, kind",
            [start, end],
        )
        raw = cur.fetchall()
    baseline = time.perf_counter() - t
    with clock.frozen(datetime(2026, 7, 2, 2, 0, tzinfo=UTC)):
        t = time.perf_counter()
        rows = selectors.assessments_for(admin, MONTH)
        took = time.perf_counter() - t
        t = time.perf_counter()
        body = selectors.assessment_xlsx(rows, MONTH)
        took_xlsx = time.perf_counter() - t
    # the same counts both ways
    raw_calls = sum(n for _, kind, n in raw if kind == "call")
    assert raw_calls == sum(r["kinds"]["call"]["done"] for r in rows)
    return {
        "reps": len(rows),
        "logs": len(logs),
        "seconds": round(took, 3),
        "xlsx_seconds": round(took_xlsx, 3),
        "xlsx_bytes": len(body),
        "baseline_seconds": round(baseline, 4),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.reps, args.seed)))
        return 0
    print(f"staff: monthly assessment of {args.reps} sales reps × a month of work logs, {machine()}")
    ok = True
    for name, env in targets():
        r = run_child(
            "bench.staff", ["--reps", str(args.reps), "--seed", str(args.seed)], database=name, extra_env=env
        )
        if r is None:
            ok = False
            continue
        print(
            f"  {name:10s} {r['reps']} reps, {r['logs']:,} logs: assessment {r['seconds']:.2f} s "
            f"({1000 * r['seconds'] / r['reps']:.1f} ms a rep) + xlsx {r['xlsx_seconds']:.2f} s; "
            f"baseline raw GROUP BY of the counts {r['baseline_seconds'] * 1000:.1f} ms "
            f"({r['seconds'] / max(r['baseline_seconds'], 1e-6):.0f}×)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
