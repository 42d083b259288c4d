"""Gift stock under concurrent redemptions (PostgreSQL): never below zero, never oversold, and
the first adjustment of a (gift, store) racing with others creates exactly one row.

Negative control: with the guarded UPDATE replaced by read-check-save (the test-only switch in
the service) the same race loses updates — more redemptions succeed than stock was taken.
"""

import pytest

from laoke.catalog import services
from laoke.catalog.models import GiftStock
from laoke.catalog.services import gift_item_create, gift_stock_adjust
from laoke.core.models import AuditEntry
from laoke.core.services import store_create
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
STOCK = 10


def _redeem_race():
    store = store_create(code="S", name="店")
    gift = gift_item_create(code="G", name="礼品")
    gift_stock_adjust(gift=gift, store=store, delta=STOCK, reason="到货")
    n = pg_threads()
    results = race(n, lambda i: gift_stock_adjust(gift=gift, store=store, delta=-1, reason="兑换").quantity)
    successes = sum(1 for r in results if isinstance(r, int))
    return n, successes, results, GiftStock.objects.get(gift=gift, store=store).quantity


def test_guarded_update_never_oversells():
    n, successes, results, left = _redeem_race()
    assert n > STOCK
    assert successes == STOCK and left == 0
    assert results.count("GIFT_OUT_OF_STOCK") == n - STOCK
    # Each success saw a distinct remaining quantity: no two took the same unit.
    assert sorted(r for r in results if isinstance(r, int)) == list(range(STOCK))
    assert AuditEntry.objects.filter(action="gift_stock.adjust", after__delta=-1).count() == STOCK


def test_negative_control_read_check_save_oversells(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    _, successes, _, left = _redeem_race()
    assert successes > STOCK - left, "lost updates: more redemptions succeeded than stock was taken"


def test_first_adjustments_racing_create_one_row():
    store = store_create(code="S", name="店")
    gift = gift_item_create(code="G", name="礼品")
    n = pg_threads()
    results = race(n, lambda i: gift_stock_adjust(gift=gift, store=store, delta=i + 1, reason="到货").pk)
    assert len(set(results)) == 1  # one row, every adjustment landed on it
    assert GiftStock.objects.get(gift=gift, store=store).quantity == n * (n + 1) // 2
