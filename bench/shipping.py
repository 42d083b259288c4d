"""Shipping quotes per second, next to a baseline measured in the same run.

    .venv/bin/python -m bench.shipping [--quotes 5000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.shipping

Each database runs in a child process with production settings and a fresh data dir; the
seed-001 preset is installed (not timed). Figures:

- ``shipping_quote (address)``: what the till does — parse the address, load the active tariff
  (4 queries), derive nothing (member kind given), price every rule and explain;
- ``shipping_quote (province, tariff loaded)``: the settlement engine's hot path with a tariff
  loaded once per order batch;
- baseline: ``parse_address`` alone on the same addresses — the cost a quote from an address
  cannot avoid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from bench._common import fresh_database, machine, run_child, targets

ADDRESSES = [
    "浙江省杭州市西湖区文三路100号",
    "新疆乌鲁木齐市天山区人民路1号",
    "广东省深圳市南山区科技园1号",
    "内蒙古呼和浩特市新城区新华大街1号",
    "香港九龙弥敦道100号",
    "北京市朝阳区建国路1号",
]


def run_one(n: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from django.db import connection

    from laoke.members.validation import parse_address
    from laoke.shipping.quote import shipping_quote
    from laoke.shipping.selectors import active_tariff
    from laoke.shipping.services import shipping_presets_install

    fresh_database()
    shipping_presets_install()
    parse_address(ADDRESSES[0])  # load cpca's tables (about a second) before timing
    kinds = ["old", "new", "non_member"]

    t0 = time.perf_counter()
    for i in range(n):
        shipping_quote(
            member_kind=kinds[i % 3],
            subtotal_fen=10_000 + i,
            courier="sf",
            address=ADDRESSES[i % len(ADDRESSES)],
        )
    address_s = time.perf_counter() - t0

    tariff = active_tariff()
    provinces = ["浙江", "新疆", "广东", "内蒙古", "香港", "北京"]
    t0 = time.perf_counter()
    for i in range(n):
        shipping_quote(
            member_kind=kinds[i % 3],
            subtotal_fen=10_000 + i,
            courier="normal",
            province=provinces[i % 6],
            tariff=tariff,
        )
    loaded_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for i in range(n):
        parse_address(ADDRESSES[i % len(ADDRESSES)])
    parse_s = time.perf_counter() - t0
    return {
        "database": connection.vendor,
        "quotes": n,
        "address_per_s": round(n / address_s, 1),
        "loaded_per_s": round(n / loaded_s, 1),
        "parse_per_s": round(n / parse_s, 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.shipping")
    p.add_argument("--quotes", type=int, default=5_000)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_one(args.quotes)))
        return 0
    print(f"# shipping_quote — {machine()}")
    for name, extra in targets():
        r = run_child("bench.shipping", ["--quotes", str(args.quotes)], database=name, extra_env=extra)
        if r is None:
            return 1
        print(f"\n## {name} ({r['quotes']:,} quotes, seed-001 preset)")
        print(f"shipping_quote from an address          {r['address_per_s']:>10,.0f} quotes/s")
        print(f"shipping_quote, province, tariff loaded {r['loaded_per_s']:>10,.0f} quotes/s")
        print(f"baseline parse_address alone            {r['parse_per_s']:>10,.0f} addresses/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
