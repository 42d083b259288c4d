"""Flash-zone claims per second, next to a baseline measured in the same run.

    .venv/bin/python -m bench.flash [--claims 1000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.flash

Each database runs in a child process with production settings and a fresh data dir. Set-up (not
timed): the seed-001 zone with three items and enough units for every claim, and ``--claims`` old
customers (one paid order each). Figures, each claim in its own transaction as settlement runs it:

- ``_flash_claim`` with 1 thread and with 8 threads (each its own connection) on one item-day:
  find today's item, check eligibility (member statistics), price it, insert the claim (unique
  index) and take the unit (guarded UPDATE on the day's row — the hot row every thread queues on);
- baseline: the guarded ``UPDATE … SET sold = sold + 1 WHERE sold + 1 <= units`` alone, 1 and 8
  threads, on a third item-day — the serialisation a claim cannot avoid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

from bench._common import fresh_database, machine, run_child, targets

THREADS = 8


def _threads(n_threads: int, n: int, work) -> float:
    """Run ``work(i)`` for i in 0..n-1 split over n_threads threads started together; seconds."""
    from django.db import connection

    barrier = threading.Barrier(n_threads + 1)
    errors: list[BaseException] = []

    def run(k):
        try:
            barrier.wait()
            for i in range(k, n, n_threads):
                work(i)
        except BaseException as exc:  # reported after the join
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return elapsed


def run_one(n: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from datetime import datetime
    from datetime import time as dtime

    from django.db import connection, transaction

    from laoke.catalog.services import product_create
    from laoke.core import clock
    from laoke.flash import services
    from laoke.flash.models import FlashClaim, FlashDay
    from laoke.members.services import member_create
    from laoke.stats.services import _stats_add

    fresh_database()
    noon = datetime.combine(clock.today(), dtime(12), tzinfo=clock.shop_tz())
    with clock.frozen(noon):
        now = clock.now()
        services.flash_presets_install(now=now)
        services.flash_zone_update(
            data={"items_per_day": 3, "units_per_day": 2 * n, "units_per_day_holiday": 2 * n}
        )
        products = [
            product_create(sku=f"BENCH-{k}", title=f"专享{k}", list_price_fen=19_900) for k in range(3)
        ]
        for slot, p in enumerate(products, start=1):
            services.flash_item_create(
                data={"product": p, "floor_fen": 9_900, "slot": slot, "run_start": clock.today()}, now=now
            )
        services.flash_tick(now)
        members = [member_create(name=f"老客{i}", mobile=f"139{i:08d}") for i in range(n)]
        with transaction.atomic():
            for m in members:
                _stats_add(member=m, spend_fen=10_000, orders=1, at=now)
        days = {d.item.product_id: d.pk for d in FlashDay.objects.select_related("item")}

        def claim_on(product):
            def work(i):
                with transaction.atomic():
                    services._flash_claim(
                        product_id=product.pk,
                        member=members[i],
                        quantity=1,
                        order_ref=f"B{product.pk}-{i}",
                        now=now,
                    )

            return work

        def raw_on(day_id):
            def work(i):
                with transaction.atomic(), connection.cursor() as cur:
                    cur.execute(
                        "UPDATE flash_flashday SET sold = sold + 1 WHERE id = %s AND sold + 1 <= units",
                        [day_id],
                    )
                    assert cur.rowcount == 1

            return work

        half = n // 2
        claim_1_s = _threads(1, n, claim_on(products[0]))
        claim_8_s = _threads(THREADS, n, claim_on(products[1]))
        raw_day = days[products[2].pk]
        raw_1_s = _threads(1, half, raw_on(raw_day))
        raw_8_s = _threads(THREADS, half, raw_on(raw_day))
        assert FlashClaim.objects.count() == 2 * n
        assert FlashDay.objects.get(pk=raw_day).sold == 2 * half
    return {
        "database": connection.vendor,
        "claims": n,
        "claim_1_per_s": round(n / claim_1_s, 1),
        "claim_8_per_s": round(n / claim_8_s, 1),
        "raw_1_per_s": round(half / raw_1_s, 1),
        "raw_8_per_s": round(half / raw_8_s, 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.flash")
    p.add_argument("--claims", type=int, default=1_000)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_one(args.claims)))
        return 0
    print(f"# flash claims — {machine()}")
    for name, extra in targets():
        r = run_child("bench.flash", ["--claims", str(args.claims)], database=name, extra_env=extra)
        if r is None:
            return 1
        print(f"\n## {name} ({r['claims']:,} claims per run, one item-day, each claim its own transaction)")
        print(f"_flash_claim, 1 thread                {r['claim_1_per_s']:>10,.0f} claims/s")
        print(f"_flash_claim, {THREADS} threads               {r['claim_8_per_s']:>10,.0f} claims/s")
        print(f"baseline guarded UPDATE, 1 thread     {r['raw_1_per_s']:>10,.0f} updates/s")
        print(f"baseline guarded UPDATE, {THREADS} threads    {r['raw_8_per_s']:>10,.0f} updates/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
