"""Gift stock under concurrent redemptions (PostgreSQL): never below zero, never oversold.

Negative control: with the guarded UPDATE replaced by read-check-save (the test-only switch in
the service) the same race oversells — the final count disagrees with the successes.
"""

import threading

import pytest
from django.db import connection

from laoke.catalog import services
from laoke.catalog.models import GiftStock
from laoke.catalog.services import gift_item_create, gift_stock_adjust
from laoke.core.errors import DomainError
from laoke.core.services import store_create

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
THREADS = 32
STOCK = 10


def _race():
    store = store_create(code="S", name="店")
    gift = gift_item_create(code="G", name="礼品")
    gift_stock_adjust(gift=gift, store=store, delta=STOCK, reason="到货")
    barrier = threading.Barrier(THREADS)
    ok = []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=30)
            gift_stock_adjust(gift=gift, store=store, delta=-1, reason="兑换")
            with lock:
                ok.append(1)
        except DomainError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return len(ok), GiftStock.objects.get(gift=gift, store=store).quantity


def test_guarded_update_never_oversells():
    successes, left = _race()
    assert successes == STOCK and left == 0


def test_negative_control_read_check_save_oversells(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    successes, left = _race()
    assert successes > STOCK - left, "lost updates: more redemptions succeeded than stock was taken"
