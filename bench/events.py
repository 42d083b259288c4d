"""The auditable lottery draw over 100,000 entrants: commit (freeze and digest the entrant list,
publish sha256(seed)) + draw (reveal, HMAC-SHA256 partial Fisher–Yates, record the winners) +
verify (re-run from the seed and the exported entrant list, check commitment and winners), next to
the baseline ``random.sample`` of the same tickets — an unauditable draw — in the same run.

    .venv/bin/python -m bench.events [--entrants 100000] [--prizes 111]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.events

Set-up (not timed): 100,000 members and their tickets bulk-inserted into an event lottery; prizes
in three tiers (1 + 10 + 100, handed out on site).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from bench._common import fresh_database, machine, run_child, targets


def child(n: int, prizes: int) -> dict:
    fresh_database()
    from datetime import timedelta

    from laoke.core import clock
    from laoke.events import draw as algo
    from laoke.events import selectors, services
    from laoke.events.models import Entry, Win
    from laoke.members.models import Member

    now = clock.now()
    Member.objects.bulk_create(
        [Member(code=f"B{i:09d}", registered_at=now, created_at=now, updated_at=now) for i in range(n)],
        batch_size=5_000,
    )
    lot = services.lottery_create(
        name="bench",
        kind="event",
        entry_opens_at=now - timedelta(days=1),
        entry_closes_at=now + timedelta(days=1),
    )
    services.lottery_open(lottery_id=lot.pk)
    ids = list(Member.objects.values_list("pk", "code"))
    Entry.objects.bulk_create(
        [Entry(lottery=lot, member_id=pk, ticket=code, source="sign_in", created_at=now) for pk, code in ids],
        batch_size=5_000,
    )
    tiers = [(1, 1), (2, min(10, prizes)), (3, max(prizes - 11, 1))]
    for tier, stock in tiers:
        services.prize_add(lottery_id=lot.pk, tier=tier, name=f"tier {tier}", stock=stock)
    t0 = time.perf_counter()
    services.lottery_commit(lottery_id=lot.pk)
    t1 = time.perf_counter()
    services.lottery_draw(lottery_id=lot.pk)
    t2 = time.perf_counter()
    lot.refresh_from_db()
    doc = json.loads(selectors.lottery_export_json(lot))
    check = selectors.lottery_verify(lot, seed=doc["seed"], tickets=doc["entrants"])
    t3 = time.perf_counter()
    assert check.verification.ok
    winners = Win.objects.filter(lottery=lot).count()
    # The pure algorithm alone, in memory (what a third party runs).
    tickets = algo.canonical_tickets(doc["entrants"])
    t = time.perf_counter()
    algo.draw(doc["seed"], tickets, [(p["tier"], p["name"], p["stock"]) for p in doc["prizes"]])
    pure = time.perf_counter() - t
    return {
        "entrants": n,
        "winners": winners,
        "commit_s": round(t1 - t0, 3),
        "draw_s": round(t2 - t1, 3),
        "verify_s": round(t3 - t2, 3),
        "total_s": round(t3 - t0, 3),
        "pure_draw_s": round(pure, 4),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--entrants", type=int, default=100_000)
    p.add_argument("--prizes", type=int, default=111)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.entrants, args.prizes)))
        return 0
    tickets = [f"B{i:09d}" for i in range(args.entrants)]
    t = time.perf_counter()
    random.SystemRandom().sample(tickets, args.prizes)
    baseline = time.perf_counter() - t
    print(f"events: lottery draw over {args.entrants:,} entrants, {args.prizes} prizes, {machine()}")
    print(f"  baseline random.sample (not auditable): {baseline * 1000:.2f} ms")
    ok = True
    for name, env in targets():
        r = run_child(
            "bench.events",
            ["--entrants", str(args.entrants), "--prizes", str(args.prizes)],
            database=name,
            extra_env=env,
        )
        if r is None:
            ok = False
            continue
        print(
            f"  {name:10s} commit {r['commit_s']:.2f} s + draw {r['draw_s']:.2f} s + verify {r['verify_s']:.2f} s "
            f"= {r['total_s']:.2f} s for {r['winners']} winners; the draw function alone {r['pure_draw_s'] * 1000:.1f} ms "
            f"({r['pure_draw_s'] / baseline:.0f}× random.sample)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
