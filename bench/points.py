"""Points throughput next to a same-run baseline of bare ledger transfers.

    .venv/bin/python -m bench.points                      # SQLite in a fresh temp data dir
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.points

The work runs in a child process with the production settings module (``laoke.settings``, Huey
on disk) and a fresh data directory. Figures, single client:

- baseline: ``ledger.transfer_create`` per second (one durable transaction: transfer row, two
  guarded balance UPDATEs, audit row) — the floor every points operation stands on;
- earn + spend: ``points_earn`` (quote with rules and tier, earning + lines, ledger transfer, lot,
  audit) followed by ``points_spend`` (account lock, oldest-first lots, transfer, consumptions,
  audit), reported as points operations per second;
- expiry: ``points_tick`` expiring N due lots in chunks of 200, lots per second.
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench._common import fresh_database, machine, run_child, targets

N_OPS = int(os.environ.get("BENCH_POINTS_OPS", "500"))
N_LOTS = int(os.environ.get("BENCH_POINTS_LOTS", "2000"))


def child() -> dict:
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection

    from laoke.core import clock
    from laoke.ledger.services import owner_account, system_account, transfer_create
    from laoke.members.services import member_create
    from laoke.points.presets import points_presets_install
    from laoke.points.rules import EarnLine
    from laoke.points.services import points_earn, points_spend, points_tick, programme_update

    fresh_database()
    points_presets_install()
    programme_update(data={"expiry_months": 1, "reminder_days": 0})

    # Baseline: bare ledger transfers between a system account and one member's points account.
    liability = system_account("points_liability")
    base_account = owner_account(kind="points", member=member_create(name="baseline"))
    t0 = time.perf_counter()
    for i in range(N_OPS):
        transfer_create(debit=liability, credit=base_account, amount=10, key=f"base:{i}", reason="bench")
    baseline = N_OPS / (time.perf_counter() - t0)

    member = member_create(name="bench")
    lines = [EarnLine(ref="1", paid_fen=12_345), EarnLine(ref="2", paid_fen=6_789)]
    t0 = time.perf_counter()
    for i in range(N_OPS // 2):
        points_earn(member=member, key=f"o{i}", reference=f"o{i}", lines=lines)
        points_spend(member=member, key=f"p{i}", reference=f"o{i}", points=150)
    earn_spend = 2 * (N_OPS // 2) / (time.perf_counter() - t0)

    # Expiry: N due lots over N/4 members (one earn each lot).
    members = [member_create(name=f"e{i}") for i in range(max(1, N_LOTS // 4))]
    for i in range(N_LOTS):
        points_earn(member=members[i % len(members)], key=f"x{i}", reference=f"x{i}", lines=lines[:1])
    later = clock.now() + timedelta(days=62)
    t0 = time.perf_counter()
    out = points_tick(later)
    expiry = out["expired_lots"] / (time.perf_counter() - t0)
    assert out["expired_lots"] >= N_LOTS, out
    return {
        "db": connection.vendor,
        "baseline_transfers_per_s": round(baseline),
        "earn_spend_ops_per_s": round(earn_spend),
        "expired_lots_per_s": round(expiry),
        "ops": N_OPS,
        "lots": out["expired_lots"],
    }


def main() -> int:
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(child()))
        return 0
    print(f"# points — {machine()}, one client")
    for name, extra in targets():
        r = run_child("bench.points", [], database=name, extra_env=extra)
        if r is None:
            return 1
        base = r["baseline_transfers_per_s"]
        print(f"\n## {name}")
        print(f"{'figure':<28} {'per second':>11}   baseline (same run)")
        print(f"{'ledger transfer_create':<28} {base:>11,}   —")
        print(f"{'points earn+spend ops':<28} {r['earn_spend_ops_per_s']:>11,}   {base:,} bare transfers/s")
        print(f"{'points_tick expired lots':<28} {r['expired_lots_per_s']:>11,}   {base:,} bare transfers/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
