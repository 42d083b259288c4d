"""Importing a Taobao/Tmall order report: orders per second on SQLite and PostgreSQL (goal
≥ 5,000/s), next to the time pandas takes merely to parse the same files, in the same run.

    .venv/bin/python -m bench.imports [--orders 200000] [--seed 7]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.imports

Data: the seeded generator (laoke.imports.generator) writes a GB18030 order report of N orders
and its item report (~1.5 items an order, ~N/2.5 buyers, closed and refunded orders, every quirk
of real exports). Laoke's figure is the whole job — read, decode, validate every row, match and
register the buyers (address parsing included), write orders/lines/refunds in chunks, rebuild the
statistics and replay the tiers of every member touched — timed end to end; the baseline is
``pandas.read_csv`` of both files (GB18030, order numbers as text), which validates and writes
nothing. A second run of the same files must import nothing (idempotence), also timed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench._common import fresh_database, machine, run_child, targets


def pandas_parse(orders: Path, items: Path) -> float:
    import pandas as pd

    t = time.perf_counter()
    a = pd.read_csv(orders, encoding="gb18030", dtype=str)
    b = pd.read_csv(items, encoding="gb18030", dtype=str)
    took = time.perf_counter() - t
    assert len(a) > 0 and len(b) > 0
    return took


def child(orders: Path, items: Path) -> dict:
    fresh_database()
    from laoke.imports.services import import_file
    from laoke.orders.models import Order
    from laoke.tiers.presets import tier_presets_install

    tier_presets_install(preset="online_shop")
    data, item_data = orders.read_bytes(), items.read_bytes()
    t = time.perf_counter()
    job = import_file(kind="taobao", data=data, file_name=orders.name, items=item_data, items_name=items.name)
    took = time.perf_counter() - t
    assert job.state == "done", (job.failure, job.errors[:3])
    created = job.result["orders_created"]
    assert Order.objects.count() == created
    t = time.perf_counter()
    again = import_file(
        kind="taobao", data=data, file_name=orders.name, items=item_data, items_name=items.name
    )
    took_again = time.perf_counter() - t
    assert again.result["orders_created"] == 0 and again.result["members_created"] == 0
    return {
        "orders": created,
        "seconds": round(took, 2),
        "orders_per_s": round(created / took),
        "members_created": job.result["members_created"],
        "tiers_raised": job.result["tiers_raised"],
        "reimport_seconds": round(took_again, 2),
        "stages": job.plan,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--child", action="store_true")
    p.add_argument("--dir")
    args = p.parse_args()
    if args.child:
        d = Path(args.dir)
        print(json.dumps(child(d / "orders.csv", d / "items.csv")))
        return 0
    from laoke.imports.generator import taobao_files

    d = Path(tempfile.mkdtemp(prefix="laoke-bench-imports-"))
    t = time.perf_counter()
    orders, items = taobao_files(args.orders, seed=args.seed, encoding="gb18030")
    (d / "orders.csv").write_bytes(orders)
    (d / "items.csv").write_bytes(items)
    generated = time.perf_counter() - t
    parse = pandas_parse(d / "orders.csv", d / "items.csv")
    print(f"imports: Taobao order report, {args.orders:,} orders (+ item report), {machine()}")
    print(f"  files: {len(orders) / 1e6:.1f} MB + {len(items) / 1e6:.1f} MB, generated in {generated:.1f} s")
    print(f"  baseline pandas.read_csv of both files (parse only): {parse:.2f} s")
    ok = True
    for name, env in targets():
        r = run_child("bench.imports", ["--dir", str(d)], database=name, extra_env=env)
        if r is None:
            ok = False
            continue
        goal = "meets" if r["orders_per_s"] >= 5000 else "MISSES"
        print(
            f"  {name:10s} {r['orders']:,} orders imported in {r['seconds']:.1f} s = {r['orders_per_s']:,} orders/s "
            f"({goal} the 5,000/s goal; {r['seconds'] / parse:.1f}× pandas' parse); "
            f"{r['members_created']:,} members registered, {r['tiers_raised']:,} tiers raised; "
            f"re-import {r['reimport_seconds']:.1f} s, 0 written"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
