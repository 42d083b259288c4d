"""Greetings to every member on a holiday (the service desk's biggest job): ``greetings_tick`` over
N members (default 100,000) on SQLite and PostgreSQL, next to raw SQL in the same run that only
counts the audience and copies one row per member into a scratch table — the floor of writing
that many rows, with no template, consent, context or outbox logic.

    .venv/bin/python -m bench.service [--members 100000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.service

The tick renders the SMS per member (name, tier, balance, points — four queries per chunk of
2,000), decides consent (half the members granted SMS consent; the rest are stored suppressed)
and writes the outbox rows unique per (purpose, member). A second tick the same day must write
nothing (timed too).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

from bench._common import fresh_database, machine, run_child, targets

DAY = date(2027, 2, 6)  # 春节 2027
NOW = datetime(2027, 2, 6, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def _members(n: int, seed: int) -> None:
    from laoke.core.bulk import insert_rows
    from laoke.members.models import Consent, Member

    rng = random.Random(seed)
    start = NOW - timedelta(days=800)
    rows = []
    for i in range(1, n + 1):
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
        rows.append(
            (
                f"B{i:09d}",
                f"139{i:08d}",
                f"会员{i}",
                born,
                start + timedelta(minutes=i),
                "active",
                "registered",
                "store",
                False,
                start,
                start,
            )
        )
    cols = ("code", "mobile", "name", "birthday", "registered_at", "status", "lifecycle", "source")
    cols = (*cols, "exclude_personalised", "created_at", "updated_at")
    for i in range(0, n, 5000):
        Member.objects.bulk_create(
            [Member(**dict(zip(cols, r, strict=True))) for r in rows[i : i + 5000]], batch_size=5000
        )
    ids = list(Member.objects.order_by("pk").values_list("pk", flat=True))
    consent_rows = [(pk, "sms", "granted", "bench", NOW) for pk in ids[::2]]
    insert_rows(
        Consent._meta.db_table, ("member_id", "channel", "state", "source", "changed_at"), consent_rows
    )


def child(n: int, seed: int) -> dict:
    fresh_database()
    from django.db import connection
    from django.urls import get_resolver

    from laoke.core import clock
    from laoke.messaging.models import Message
    from laoke.service.greetings import greetings_tick
    from laoke.service.models import GreetingRule
    from laoke.service.presets import service_presets_install

    assert get_resolver().url_patterns  # the URLconf (unsubscribe links) loads once per process: not timed
    with clock.frozen(NOW):
        _members(n, seed)
        service_presets_install()
        spring = GreetingRule.objects.get(name="春节")
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM members_member WHERE status = 'active'")
            audience = cur.fetchone()[0]
            cur.execute("CREATE TEMPORARY TABLE bench_greeting (member_id bigint, body text)")
            cur.execute(
                "INSERT INTO bench_greeting SELECT id, name || '您好，新春快乐' FROM members_member "
                "WHERE status = 'active'"
            )
        baseline = time.perf_counter() - t
        t = time.perf_counter()
        out = greetings_tick(NOW)["春节"]
        took = time.perf_counter() - t
        t = time.perf_counter()
        again = greetings_tick(NOW)["春节"]
        took_again = time.perf_counter() - t
    written = Message.objects.filter(purpose=f"greeting:{spring.pk}:2027").count()
    assert written == audience == out["members"], (written, audience, out)
    assert again["messages"] == 0
    return {
        "members": audience,
        "seconds": round(took, 2),
        "per_s": round(audience / took),
        "waiting": Message.objects.filter(purpose=f"greeting:{spring.pk}:2027", state="waiting").count(),
        "baseline_seconds": round(baseline, 3),
        "again_seconds": round(took_again, 2),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--members", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.members, args.seed)))
        return 0
    print(f"service: holiday greeting (春节 2027) to {args.members:,} members, {machine()}")
    ok = True
    for name, env in targets():
        r = run_child(
            "bench.service",
            ["--members", str(args.members), "--seed", str(args.seed)],
            database=name,
            extra_env=env,
        )
        if r is None:
            ok = False
            continue
        print(
            f"  {name:10s} greetings_tick: {r['members']:,} members in {r['seconds']:.1f} s = {r['per_s']:,}/s "
            f"({r['waiting']:,} to send, the rest stored suppressed: no consent); "
            f"baseline raw SQL count + INSERT…SELECT {r['baseline_seconds']:.2f} s "
            f"({r['seconds'] / max(r['baseline_seconds'], 1e-3):.0f}×); same-day rerun {r['again_seconds']:.1f} s, 0 written"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
