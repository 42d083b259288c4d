"""Draws of the pre-purchase lottery (seed 002): draws per second through ``draws.draw`` (one
transaction each: the member's row lock and limits, the set-probability pick, the guarded stock
UPDATE, the entry, a coupon issued for coupon prizes, the audit row), next to the baseline
``random.choices`` picking the same tiers in memory (no database), in the same run.

    .venv/bin/python -m bench.holidays [--draws 1000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.holidays
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import timedelta

from bench._common import fresh_database, machine, run_child, targets

TIERS = [("购物袋", 2_000), ("一楼9折券", 500), ("二楼9折券", 500), ("小礼品", 1_000)]
MEMBERS = 200


def baseline(n: int) -> float:
    names = [t for t, _ in TIERS] + [None]
    weights = [bp for _, bp in TIERS] + [10_000 - sum(bp for _, bp in TIERS)]
    rng = random.Random(1)
    t = time.perf_counter()
    for _ in range(n):
        rng.choices(names, weights)
    return n / (time.perf_counter() - t)


def child(n: int) -> dict:
    fresh_database()
    from laoke.core import clock
    from laoke.holidays import draws
    from laoke.holidays.models import DrawEntry, DrawPrize
    from laoke.members.services import member_create
    from laoke.promotions.models import Coupon
    from laoke.promotions.services import coupon_template_create

    now = clock.now()
    tpl = coupon_template_create(
        data={"name": "9折券", "kind": "percent", "rate_off_bp": 1_000, "valid_days": 3}
    )
    prizes = [
        {
            "name": name,
            "probability_bp": bp,
            "stock": n,
            **({"coupon_template_id": tpl.pk} if "券" in name else {}),
        }
        for name, bp in TIERS
    ]
    game = draws.draw_game_create(
        data={
            "code": "bench",
            "name": "bench",
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=1),
            "daily_limit": n // MEMBERS + 1,
            "prizes": prizes,
        }
    )
    members = [member_create(name=f"m{i}", mobile=f"139{i:08d}").pk for i in range(MEMBERS)]
    rng = random.Random(7)
    t = time.perf_counter()
    for i in range(n):
        draws.draw(game_id=game.pk, member_id=members[i % MEMBERS], rng=rng)
    took = time.perf_counter() - t
    won = DrawEntry.objects.filter(prize__isnull=False).count()
    assert DrawEntry.objects.count() == n
    assert won == sum(DrawPrize.objects.values_list("awarded", flat=True))
    assert Coupon.objects.count() == DrawEntry.objects.filter(coupon__isnull=False).count()
    return {"draws": n, "seconds": round(took, 2), "draws_per_s": round(n / took), "won": won}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.draws)))
        return 0
    base = baseline(200_000)
    print(
        f"holidays: {args.draws:,} pre-purchase draws by {MEMBERS} members, one transaction each, {machine()}"
    )
    ok = True
    for name, env in targets():
        r = run_child("bench.holidays", ["--draws", str(args.draws)], database=name, extra_env=env)
        if r is None:
            ok = False
            continue
        print(
            f"  {name:10s} draws.draw: {r['draws_per_s']:,} draws/s ({r['seconds']:.1f} s, {r['won']} prizes) "
            f"vs baseline random.choices in memory: {round(base):,} picks/s (no stock, no limits, nothing stored)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
