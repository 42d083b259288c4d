"""Segment counts on generated data: ``segment_count`` (one SQL statement over members and the
member statistics settlement keeps) next to DuckDB computing the same counts by scanning the
same orders, with a check that the counts agree.

    .venv/bin/python -m bench.segments [--members N --orders M] [--seed 1]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.segments

Defaults: PostgreSQL 1,000,000 members and 10,000,000 orders (its own database ``laoke_segments``
on the server of ``BENCH_DATABASE_URL``); SQLite 100,000 members and 1,000,000 orders (a fresh data
dir). ``--members/--orders`` set both. Each database runs in a child process with production
settings (``LAOKE_TESTING`` unset).

Data (seeded, generated at run time, never committed): members with ids 1..N (1% excluded from
personalisation); orders with a skewed member (beta), a time over the last two years with spikes
on the most recent 11.11 and 12.12 (shop time), a net amount (log-normal around 150元), a discount
(beta share) and one category among 9 leaves of a 3-branch tree. numpy draws them, DuckDB writes
the CSV files, PostgreSQL loads them with COPY (SQLite with executemany), and the statistics rows
(``stats_memberstats``, ``stats_membercategorystats``) are aggregated from those orders by SQL —
what settlement would have kept incrementally.

Rules timed (``segment_count``, best of 3 after one cold run):
- ``double11_new_299``: first order on 11.11 and spend ≥ 299元 (the S1 preset);
- ``dormant``: no order for 30 days (days since the last order ≥ 30);
- ``category``: bought in the 母婴 branch (any descendant category).

DuckDB: the orders CSV loaded into an in-memory table (load timed separately), then per rule one
GROUP BY / semi-join over all orders.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._common import ensure_pg_database, machine, run_child

NOW = datetime(2026, 12, 20, 4, tzinfo=UTC)  # 12:00 in Shanghai
TREE = {
    "bench-mb": (
        "母婴",
        [("bench-mb-food", "母婴食品"), ("bench-mb-daily", "母婴日用"), ("bench-mb-durable", "母婴耐用")],
    ),
    "bench-wear": (
        "服装",
        [("bench-wear-tee", "T恤"), ("bench-wear-coat", "大衣"), ("bench-wear-sock", "袜子")],
    ),
    "bench-food": (
        "食品",
        [("bench-food-tea", "茶叶"), ("bench-food-snack", "零食"), ("bench-food-oil", "食用油")],
    ),
}
SHANGHAI = timedelta(hours=8)


def _day_bounds(month: int, day: int) -> tuple[int, int]:
    """Epoch seconds [start, end) of the most recent ``month/day`` in shop time."""
    local_today = (NOW + SHANGHAI).date()
    year = local_today.year if (month, day) <= (local_today.month, local_today.day) else local_today.year - 1
    start = datetime(year, month, day, tzinfo=UTC) - SHANGHAI
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


def generate(n_members: int, n_orders: int, seed: int, leaf_ids: list[int], out: Path) -> dict:
    """Write members.csv and orders.csv (no header) with numpy + DuckDB; returns timings."""
    import duckdb
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    now = int(NOW.timestamp())
    member = (rng.beta(1.3, 2.5, size=n_orders) * n_members).astype(np.int64) + 1
    paid = now - rng.integers(3_600, 730 * 86_400, size=n_orders)
    spike = rng.random(n_orders)
    for (lo, hi), share in ((_day_bounds(11, 11), 0.06), (_day_bounds(12, 12), 0.04)):
        pick = spike < share
        paid[pick] = rng.integers(lo, hi, size=int(pick.sum()))
        spike[pick] = 2.0  # not picked again
        spike[~pick] -= share
    total = np.maximum(100, np.exp(rng.normal(np.log(15_000), 0.8, size=n_orders))).astype(np.int64)
    discount = (total * rng.beta(1.0, 8.0, size=n_orders)).astype(np.int64)
    category = np.asarray(leaf_ids, dtype=np.int64)[rng.integers(0, len(leaf_ids), size=n_orders)]
    excluded = rng.random(n_members) < 0.01
    con = duckdb.connect()
    con.register(
        "o",
        pd.DataFrame(
            {"member_id": member, "paid": paid, "total": total, "discount": discount, "category": category}
        ),
    )
    con.execute(f"COPY o TO '{out / 'orders.csv'}' (HEADER false)")
    con.register("x", pd.DataFrame({"id": np.arange(1, n_members + 1), "excluded": excluded}))
    reg = (NOW - timedelta(days=800)).strftime("%Y-%m-%d %H:%M:%S+00")
    con.execute(
        f"""COPY (SELECT id, 'B' || lpad(id::VARCHAR, 10, '0') AS code, '会员' || id AS name, '' AS gender,
                '' AS id_number, '' AS address_raw, '' AS province, '' AS city, '' AS district,
                '' AS address_detail, '' AS adcode, 'store' AS source, '{reg}' AS registered_at,
                'registered' AS lifecycle, 'active' AS status, excluded AS exclude_personalised,
                false AS is_permanent, '' AS notes, '{reg}' AS created_at, '{reg}' AS updated_at
              FROM x ORDER BY id) TO '{out / "members.csv"}' (HEADER false)"""
    )
    con.close()
    return {"generate_s": round(time.perf_counter() - t0, 1)}


MEMBER_COLS = (
    "id, code, name, gender, id_number, address_raw, province, city, district, address_detail, adcode, "
    "source, registered_at, lifecycle, status, exclude_personalised, is_permanent, notes, created_at, updated_at"
)


def load(connection, out: Path) -> dict:
    """Members and orders into the database, then the statistics aggregated from the orders."""
    import csv

    from django.db import transaction

    t0 = time.perf_counter()
    pg = connection.vendor == "postgresql"
    now_sql = NOW.strftime("%Y-%m-%d %H:%M:%S")
    with transaction.atomic(), connection.cursor() as cur:
        if pg:
            cur.execute(
                "CREATE UNLOGGED TABLE IF NOT EXISTS bench_seg_orders "
                "(member_id bigint, paid bigint, total bigint, discount bigint, category_id bigint)"
            )
            cur.execute("TRUNCATE bench_seg_orders")
            # Bulk load: the generated ids are consistent by construction, skip the per-row FK triggers.
            cur.execute("SET LOCAL session_replication_role = replica")
            raw = cur.cursor  # psycopg cursor: COPY from the files
            for table, cols, name in (
                ("members_member", MEMBER_COLS, "members.csv"),
                ("bench_seg_orders", "member_id, paid, total, discount, category_id", "orders.csv"),
            ):
                with (
                    open(out / name, "rb") as f,
                    raw.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as cp,
                ):
                    while block := f.read(1 << 20):
                        cp.write(block)
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('members_member', 'id'), (SELECT max(id) FROM members_member))"
            )
            ts = "to_timestamp"
        else:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS bench_seg_orders "
                "(member_id integer, paid integer, total integer, discount integer, category_id integer)"
            )
            cur.execute("DELETE FROM bench_seg_orders")
            with open(out / "members.csv", newline="", encoding="utf-8") as f:
                rows = [[*r[:15], r[15] == "true", r[16] == "true", *r[17:]] for r in csv.reader(f)]
            cur.executemany(
                f"INSERT INTO members_member ({MEMBER_COLS}) VALUES ({', '.join(['%s'] * 20)})", rows
            )
            with open(out / "orders.csv", newline="") as f:
                reader = csv.reader(f)
                while chunk := [tuple(map(int, r)) for _, r in zip(range(200_000), reader, strict=False)]:
                    cur.executemany("INSERT INTO bench_seg_orders VALUES (%s, %s, %s, %s, %s)", chunk)
            ts = "datetime"
        t1 = time.perf_counter()
        conv = (lambda e: f"to_timestamp({e})") if pg else (lambda e: f"datetime({e}, 'unixepoch')")
        cur.execute(
            "INSERT INTO stats_memberstats (member_id, spend_total_fen, recharge_total_fen, order_count, "
            "discount_total_fen, first_order_at, last_order_at, updated_at) "
            f"SELECT member_id, SUM(total), 0, COUNT(*), SUM(discount), {conv('MIN(paid)')}, {conv('MAX(paid)')}, "
            f"%s FROM bench_seg_orders GROUP BY member_id",
            [now_sql],
        )
        cur.execute(
            "INSERT INTO stats_membercategorystats (member_id, category_id, spend_fen, quantity, last_bought_at) "
            f"SELECT member_id, category_id, SUM(total), COUNT(*), {conv('MAX(paid)')} "
            "FROM bench_seg_orders GROUP BY member_id, category_id"
        )
        del ts
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"load_s": round(t1 - t0, 1), "stats_s": round(time.perf_counter() - t1, 1)}


def rules(d11: str) -> dict[str, dict]:
    return {
        "double11_new_299": {
            "all": [
                {"field": "orders.first_order_at", "op": "between", "value": [d11, d11]},
                {"field": "orders.spend", "op": "gte", "value": 29_900},
            ]
        },
        "dormant": {"all": [{"field": "orders.days_since_last_order", "op": "gte", "value": 30}]},
        "category": {"all": [{"field": "orders.categories", "op": "any", "value": ["bench-mb"]}]},
    }


def duck_counts(out: Path, mb_leaves: list[int]) -> dict:
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(
        f"CREATE TABLE o AS SELECT * FROM read_csv('{out / 'orders.csv'}', header=false, "
        "columns={'member_id': 'BIGINT', 'paid': 'BIGINT', 'total': 'BIGINT', 'discount': 'BIGINT', 'category_id': 'BIGINT'})"
    )
    con.execute(
        f"CREATE TABLE m AS SELECT column00 AS id, column15 AS excluded FROM read_csv('{out / 'members.csv'}', header=false)"
    )
    load_s = time.perf_counter() - t0
    lo, hi = _day_bounds(11, 11)
    cut = int((NOW - timedelta(days=30)).timestamp())
    leaves = ", ".join(map(str, mb_leaves))
    sqls = {
        "double11_new_299": f"""SELECT count(*) FROM (SELECT member_id, min(paid) f, sum(total) s FROM o GROUP BY member_id) x
            JOIN m ON m.id = x.member_id WHERE NOT m.excluded AND f >= {lo} AND f < {hi} AND s >= 29900""",
        "dormant": f"""SELECT count(*) FROM (SELECT member_id, max(paid) l FROM o GROUP BY member_id) x
            JOIN m ON m.id = x.member_id WHERE NOT m.excluded AND l <= {cut}""",
        "category": f"""SELECT count(*) FROM m WHERE NOT m.excluded AND m.id IN
            (SELECT member_id FROM o WHERE category_id IN ({leaves}))""",
    }
    out_: dict = {"duckdb_load_s": round(load_s, 2)}
    for name, sql in sqls.items():
        best, count = None, None
        for _ in range(3):
            t = time.perf_counter()
            count = con.execute(sql).fetchone()[0]
            el = time.perf_counter() - t
            best = el if best is None else min(best, el)
        out_[name] = {"count": count, "best_s": round(best, 4)}
    con.close()
    return out_


def run_one(n_members: int, n_orders: int, seed: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from laoke.catalog.models import Category
    from laoke.catalog.services import category_create
    from laoke.core import clock
    from laoke.segments.selectors import segment_count

    call_command("migrate", verbosity=0, interactive=False)
    if connection.vendor == "postgresql":
        call_command("flush", verbosity=0, interactive=False)
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_seg_orders")
    pg = connection.vendor == "postgresql"
    n_members = n_members or (1_000_000 if pg else 100_000)
    n_orders = n_orders or (10_000_000 if pg else 1_000_000)
    with clock.frozen(NOW):
        leaves: dict[str, int] = {}
        for code, (name, children) in TREE.items():
            parent = Category.objects.filter(code=code).first() or category_create(code=code, name=name)
            for c, n in children:
                leaves[c] = (
                    Category.objects.filter(code=c).first() or category_create(code=c, name=n, parent=parent)
                ).pk
    out = Path(tempfile.mkdtemp(prefix="laoke-bench-segments-"))
    figures: dict = {"database": connection.vendor, "members": n_members, "orders": n_orders}
    figures.update(generate(n_members, n_orders, seed, list(leaves.values()), out))
    figures.update(load(connection, out))
    d11 = datetime.fromtimestamp(_day_bounds(11, 11)[0], UTC) + SHANGHAI
    counts: dict = {}
    for name, rule in rules(d11.date().isoformat()).items():
        t = time.perf_counter()
        c = segment_count(rule, now=NOW)
        cold = time.perf_counter() - t
        best = cold
        for _ in range(3):
            t = time.perf_counter()
            assert segment_count(rule, now=NOW) == c
            best = min(best, time.perf_counter() - t)
        counts[name] = {"count": c, "cold_s": round(cold, 4), "best_s": round(best, 4)}
    figures["laoke"] = counts
    mb_leaves = [v for k, v in leaves.items() if k.startswith("bench-mb-")]
    figures["duckdb"] = duck_counts(out, mb_leaves)
    figures["agree"] = all(counts[k]["count"] == figures["duckdb"][k]["count"] for k in counts)
    for f in out.iterdir():
        f.unlink()
    out.rmdir()
    return figures


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.segments")
    p.add_argument(
        "--members", type=int, default=0, help="members (default 1M on PostgreSQL, 100k on SQLite)"
    )
    p.add_argument("--orders", type=int, default=0, help="orders (default 10M on PostgreSQL, 1M on SQLite)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sqlite-only", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_one(args.members, args.orders, args.seed)))
        return 0
    print(f"# segment counts — {machine()}")
    targets: list[tuple[str, dict[str, str]]] = [("sqlite", {})]
    url = os.environ.get("BENCH_DATABASE_URL")
    if url and not args.sqlite_only:
        own = url.rpartition("/")[0] + "/laoke_segments"
        ensure_pg_database(own)
        targets.append(("postgresql", {"DATABASE_URL": own}))
    status = 0
    for name, extra in targets:
        child_args = ["--members", str(args.members), "--orders", str(args.orders), "--seed", str(args.seed)]
        r = run_child("bench.segments", child_args, database=name, extra_env=extra)
        if r is None:
            return 1
        print(f"\n## {name}: {r['members']:,} members, {r['orders']:,} orders (seed {args.seed})")
        print(f"generate {r['generate_s']} s, load {r['load_s']} s, statistics {r['stats_s']} s")
        print(f"{'rule':<18} {'count':>10} {'laoke cold':>11} {'laoke best':>11} {'duckdb best':>12}  agree")
        for k, v in r["laoke"].items():
            d = r["duckdb"][k]
            print(
                f"{k:<18} {v['count']:>10,} {v['cold_s']:>10.3f}s {v['best_s']:>10.3f}s {d['best_s']:>11.3f}s  "
                f"{'yes' if v['count'] == d['count'] else 'NO (duckdb ' + str(d['count']) + ')'}"
            )
        print(f"(duckdb: orders CSV loaded into memory in {r['duckdb']['duckdb_load_s']} s, not included)")
        if not r["agree"]:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
