"""PostgreSQL races through the whole settlement (tests/race.py), each with its negative control.

- One single-use coupon, N concurrent settlements of its member's cart: exactly one order uses
  it; the others are refused with COUPON_ALREADY_REDEEMED and leave nothing behind (the member's
  wallet is debited once). Negative control: without the member lock, without the coupon's
  guarded UPDATE and without the one-order-per-coupon constraint, several orders use it.
- The flash zone: an item with 10 units today and N old customers settling at once → exactly 10
  orders, 10 units sold, at most one per member; one member settling several times at once → one.
  Negative control: the flash claim's read-check-write (``flash.services._UNGUARDED_FOR_TESTS``)
  oversells.
"""

from __future__ import annotations

import pytest
from django.db import connection

from laoke.cards.selectors import wallet_summary
from laoke.core import clock
from laoke.flash.models import FlashClaim, FlashDay
from laoke.orders import checkout as checkout_mod
from laoke.orders import services
from laoke.orders.models import Order, OrderCoupon
from laoke.promotions import services as promo
from laoke.promotions.models import Coupon
from tests.orders.conftest import NOW, Shop
from tests.orders.test_settlement import checkout
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _coupon_race():
    with clock.frozen(NOW):
        shop = Shop()
        m = shop.member(wallet_fen=100_000, points=0)
        coupon = shop.coupon(m)
        n = min(pg_threads(), 16)

        def attempt(i):
            return services.order_settle(
                request=checkout(m, ("TEE", 1), coupon_codes=(coupon.code,), wallet_fen=1_000)
            ).number

        results = race(n, attempt)
    orders = [r for r in results if isinstance(r, str) and r.startswith("LK")]
    return n, orders, results, m, coupon


def test_litemall_581_one_coupon_many_concurrent_settlements_one_order_uses_it():
    n, orders, results, m, coupon = _coupon_race()
    assert len(orders) == 1, results
    assert results.count("COUPON_ALREADY_REDEEMED") == n - 1
    assert Order.objects.count() == 1 and OrderCoupon.objects.count() == 1
    c = Coupon.objects.get(pk=coupon.pk)
    assert (c.state, c.order_ref) == ("redeemed", orders[0])
    assert wallet_summary(member=m)["balance_fen"] == 100_000 - 1_000  # the losers debited nothing


def test_negative_control_without_the_guards_several_orders_use_one_coupon(monkeypatch):
    monkeypatch.setattr(checkout_mod, "_UNLOCKED_FOR_TESTS", True)
    monkeypatch.setattr(promo, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(promo, "_UNGUARDED_PAUSE", 0.2)
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE orders_ordercoupon DROP CONSTRAINT ordercoupon_coupon_once")
    try:
        _, orders, results, _, coupon = _coupon_race()
        assert len(orders) > 1, results
        assert OrderCoupon.objects.filter(coupon_id=coupon.pk).count() == len(orders)
    finally:
        OrderCoupon.objects.all().delete()
        with connection.cursor() as cur:
            cur.execute(
                "ALTER TABLE orders_ordercoupon ADD CONSTRAINT ordercoupon_coupon_once UNIQUE (coupon_id)"
            )


def _flash_setup():
    from laoke.flash.services import flash_item_create, flash_presets_install, flash_tick
    from tests.flash.helpers import member as old_customer

    shop = Shop()
    flash_presets_install(now=NOW)
    flash_item_create(
        data={"product": shop.coat, "floor_fen": 20_000, "slot": 1, "run_start": NOW.date()}, now=NOW
    )
    flash_tick(NOW)
    return shop, old_customer


def _flash_race(n_members: int, per_member: int):
    with clock.frozen(NOW):
        _shop, old_customer = _flash_setup()
        members = [old_customer() for _ in range(n_members)]

        def attempt(i):
            m = members[i % n_members]
            req = checkout_mod.CheckoutIn(
                lines=(checkout_mod.LineIn(sku="COAT", quantity=1, flash=True),), member_id=m.pk
            )
            return services.order_settle(request=req).number

        results = race(n_members * per_member, attempt)
    return [r for r in results if isinstance(r, str) and r.startswith("LK")], results


def test_flash_stock_10_many_buyers_exactly_10_sold_at_most_one_each():
    n = max(min(pg_threads(), 30), 12)
    orders, results = _flash_race(n, 1)
    assert len(orders) == 10, results
    day = FlashDay.objects.get()
    assert (day.units, day.sold) == (10, 10)
    per_member = Order.objects.filter(number__in=orders).values_list("member_id", flat=True)
    assert len(set(per_member)) == 10
    assert FlashClaim.objects.filter(state="claimed").count() == 10


def test_flash_one_member_settling_many_times_at_once_buys_one():
    orders, results = _flash_race(1, min(pg_threads(), 8))
    assert len(orders) == 1, results
    assert FlashDay.objects.get().sold == 1


def test_negative_control_flash_read_check_write_oversells(monkeypatch):
    from laoke.flash import services as flash

    monkeypatch.setattr(flash, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(flash, "_UNGUARDED_PAUSE", 0.2)
    n = max(min(pg_threads(), 30), 12)
    orders, results = _flash_race(n, 1)
    assert len(orders) > 10, results


def test_settlement_rolls_back_the_flash_claim_when_a_later_step_fails(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_stats_add", broken)
    with clock.frozen(NOW):
        _shop, old_customer = _flash_setup()
        m = old_customer()
        req = checkout_mod.CheckoutIn(
            lines=(checkout_mod.LineIn(sku="COAT", quantity=1, flash=True),), member_id=m.pk
        )
        with pytest.raises(RuntimeError):
            services.order_settle(request=req)
    assert FlashDay.objects.get().sold == 0 and not FlashClaim.objects.exists()
