"""Coupon redemptions and order-rule offers, each next to a baseline measured in the same run.

    .venv/bin/python -m bench.promotions [--redemptions 2000] [--carts 2000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.promotions

Each database runs in a child process with production settings and a fresh data dir (SQLite;
PostgreSQL too when ``BENCH_DATABASE_URL`` is set). Set-up (members, coupons, presets) is not
timed. Figures:

- ``_coupon_redeem``: one redemption per settlement-sized transaction (the guarded UPDATE on
  state, owner and window, the reload of the row) vs the baseline — the same guarded ``UPDATE …
  WHERE state='issued' AND member_id=… AND valid_from <= now < valid_to`` as raw SQL, one per
  transaction, on other coupons of the same table: what the exactly-once guarantee costs at least;
- ``order_offers``: the seed-001 gift rules and two bundles evaluated for a 20-line cart (3
  queries + building the offers) vs the baseline — the same four queries alone (evaluated
  querysets): the rule logic's own share.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from bench._common import fresh_database, machine, run_child, targets


def run_one(n_redeem: int, n_carts: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from datetime import timedelta

    from django.db import connection, transaction

    from laoke.catalog.models import Product
    from laoke.catalog.services import product_create
    from laoke.core import clock
    from laoke.members.services import member_create
    from laoke.promotions import selectors
    from laoke.promotions.models import Coupon, CouponTemplate
    from laoke.promotions.presets import promotions_presets_install
    from laoke.promotions.rule_services import bundle_create
    from laoke.promotions.rules import RuleLine, order_offers
    from laoke.promotions.services import _coupon_issue, _coupon_redeem, coupon_template_create

    fresh_database()
    now = clock.now()

    # --- redemptions ------------------------------------------------------------------------------
    tpl = coupon_template_create(
        data={
            "name": "bench 10元",
            "kind": "fixed",
            "amount_off_fen": 1_000,
            "valid_to": now + timedelta(days=30),
        }
    )
    members = [member_create(name=f"会员{i}", mobile=f"139{i:08d}") for i in range(20)]
    with transaction.atomic():
        coupons = [
            _coupon_issue(template=tpl, member=members[i % 20], key=f"bench:{i}", now=now)
            for i in range(2 * n_redeem)
        ]
    ours, raw = coupons[:n_redeem], coupons[n_redeem:]

    t0 = time.perf_counter()
    for i, c in enumerate(ours):
        with transaction.atomic():
            _coupon_redeem(coupon=c, member=members[i % 20], order_ref=f"O-{i}", now=now)
    redeem_s = time.perf_counter() - t0

    table = Coupon._meta.db_table
    sql = (
        f"UPDATE {table} SET state = 'redeemed', order_ref = %s, redeemed_at = %s "
        "WHERE id = %s AND state = 'issued' AND member_id = %s AND valid_from <= %s AND valid_to > %s"
    )
    t0 = time.perf_counter()
    for i, c in enumerate(raw):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [f"R-{i}", now, c.pk, c.member_id, now, now])
            assert cur.rowcount == 1
    raw_s = time.perf_counter() - t0
    assert Coupon.objects.filter(state="redeemed").count() == 2 * n_redeem

    # --- offers for a 20-line cart ----------------------------------------------------------------
    promotions_presets_install()
    products = [
        product_create(sku=f"B-{i:02d}", title=f"商品{i}", list_price_fen=5_000 + 1_700 * i)
        for i in range(19)
    ]
    for i in range(2):
        bundle_create(
            data={
                "code": f"bench-bundle-{i}",
                "name": f"套餐{i}",
                "hot_product": products[i],
                "items": [{"product_id": products[i + 2].pk, "quantity": 1}],
                "bundle_price_fen": products[i].list_price_fen,
            }
        )
    towel = Product.objects.get(sku="GIFT-TOWEL")
    lines = [
        RuleLine(f"L{i}", p.pk, p.sku, None, p.list_price_fen, 1 + i % 3) for i, p in enumerate(products)
    ]
    lines.append(RuleLine("L19", towel.pk, towel.sku, None, towel.list_price_fen, 2))
    assert len(lines) == 20 and order_offers(lines=lines, is_member=True, now=now)

    t0 = time.perf_counter()
    for _ in range(n_carts):
        order_offers(lines=lines, is_member=True, now=now)
    offers_s = time.perf_counter() - t0

    skus = {ln.sku for ln in lines}
    t0 = time.perf_counter()
    for _ in range(n_carts):
        list(selectors.gift_rule_list().filter(selectors.in_window(now)).order_by("pk"))
        for b in (
            selectors.bundle_list().filter(selectors.in_window(now), hot_product__sku__in=skus).order_by("pk")
        ):
            list(b.items.all())
    queries_s = time.perf_counter() - t0
    assert CouponTemplate.objects.count() >= 3
    return {
        "database": connection.vendor,
        "redemptions": n_redeem,
        "carts": n_carts,
        "redeem_per_s": round(n_redeem / redeem_s, 1),
        "raw_update_per_s": round(n_redeem / raw_s, 1),
        "offers_ms": round(offers_s / n_carts * 1000, 3),
        "queries_ms": round(queries_s / n_carts * 1000, 3),
    }


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.promotions")
    p.add_argument("--redemptions", type=int, default=2_000)
    p.add_argument("--carts", type=int, default=2_000)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_one(args.redemptions, args.carts)))
        return 0
    print(f"# promotions — {machine()}")
    for name, extra in targets():
        r = run_child(
            "bench.promotions",
            ["--redemptions", str(args.redemptions), "--carts", str(args.carts)],
            database=name,
            extra_env=extra,
        )
        if r is None:
            return 1
        print(f"\n## {name} ({r['redemptions']:,} redemptions, {r['carts']:,} carts of 20 lines)")
        print(
            f"_coupon_redeem           {r['redeem_per_s']:>10,.0f} /s   "
            f"baseline guarded UPDATE alone {r['raw_update_per_s']:>10,.0f} /s"
        )
        print(
            f"order_offers (20 lines)  {r['offers_ms']:>10.3f} ms   "
            f"baseline its 4 queries alone  {r['queries_ms']:>10.3f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
