"""`make bench`: each figure printed next to a baseline measured in the same run.

Foundation benchmarks (issue 2):
  members.create  — member registrations per second through `member_create` (validation, unique
                    checks, consent rows, lifecycle event, audit row, one transaction each) vs a raw
                    INSERT of the same rows in one transaction (the database's own ceiling).
  members.lookup  — GET /api/v1/members?q=<mobile> through the full stack (token auth, permission,
                    normalisation, masking) p50/p95 vs the raw indexed SELECT by mobile.

SQLite in a fresh temp data dir by default; PostgreSQL as well when BENCH_DATABASE_URL is set
(e.g. postgresql://postgres@127.0.0.1:5432/laoke_bench — created if missing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench._common import fresh_database, machine, run_child, targets

ROOT = Path(__file__).resolve().parents[1]


def run_one(n: int, lookups: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from django.db import connection, transaction
    from django.test import Client

    from laoke.core import clock
    from laoke.core.services import api_token_create, roles_sync, staff_user_create
    from laoke.members.models import Member
    from laoke.members.services import member_create

    fresh_database()
    roles_sync()
    mobiles = [f"+86139{i:08d}" for i in range(2 * n)]

    t0 = time.perf_counter()
    for i in range(n):
        member_create(name=f"会员{i}", mobile=mobiles[i][3:], consents={"sms": True})
    service_s = time.perf_counter() - t0

    now = clock.now()
    cols = "code, mobile, name, gender, email, id_number, address_raw, province, city, district, address_detail, adcode, source, registered_at, lifecycle, status, exclude_personalised, is_permanent, notes, created_at, updated_at"
    rows = [
        (
            f"R{i:010d}",
            mobiles[n + i],
            f"会员{i}",
            "",
            None,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "store",
            now,
            "registered",
            "active",
            False,
            False,
            "",
            now,
            now,
        )
        for i in range(n)
    ]
    ph = ", ".join(["%s"] * 21)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(f"INSERT INTO members_member ({cols}) VALUES ({ph})", rows)
    raw_s = time.perf_counter() - t0

    user = staff_user_create(username="bench", password="bench-password-1", role="cashier")
    _, secret = api_token_create(user=user, name="bench", scopes=["members:read"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST="localhost")
    api_ms, sql_ms = [], []
    for i in range(lookups):
        mobile = mobiles[(i * 7919) % n][3:]
        t0 = time.perf_counter()
        r = client.get("/api/v1/members", {"q": mobile})
        api_ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200 and len(r.json()["items"]) == 1, r.content
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("SELECT id, name, mobile FROM members_member WHERE mobile = %s", ["+86" + mobile])
            cur.fetchall()
        sql_ms.append((time.perf_counter() - t0) * 1000)
    assert Member.objects.count() == 2 * n

    def pct(xs, p):
        return round(statistics.quantiles(xs, n=100)[p - 1], 3)

    return {
        "database": connection.vendor,
        "members": n,
        "create_service_per_s": round(n / service_s, 1),
        "create_raw_insert_per_s": round(n / raw_s, 1),
        "lookup_api_p50_ms": pct(api_ms, 50),
        "lookup_api_p95_ms": pct(api_ms, 95),
        "lookup_sql_p50_ms": pct(sql_ms, 50),
        "lookup_sql_p95_ms": pct(sql_ms, 95),
    }


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--members", type=int, default=2000)
    p.add_argument("--lookups", type=int, default=500)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_one(args.members, args.lookups)))
        return 0
    print(f"# Laoke foundation benchmarks — {machine()}")
    for name, extra in targets():
        r = run_child(
            "bench",
            ["--members", str(args.members), "--lookups", str(args.lookups)],
            database=name,
            extra_env=extra,
        )
        if r is None:
            return 1
        print(f"\n## {name} ({r['members']} members)")
        print(
            f"members.create  service {r['create_service_per_s']:>10,.1f}/s   baseline raw INSERT {r['create_raw_insert_per_s']:>10,.1f}/s"
        )
        print(
            f"members.lookup  API p50 {r['lookup_api_p50_ms']:>7.3f} ms p95 {r['lookup_api_p95_ms']:>7.3f} ms   "
            f"baseline SQL p50 {r['lookup_sql_p50_ms']:.3f} ms p95 {r['lookup_sql_p95_ms']:.3f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
