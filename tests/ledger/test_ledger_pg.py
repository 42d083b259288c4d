"""Concurrent debits of one wallet on PostgreSQL: never negative, successes ≤ the balance.

Negative control: with the guarded UPDATE replaced by read-check-write (the service's test-only
switch), the same race loses updates — more debits succeed than the balance can pay for.
"""

import threading

import pytest
from django.db import connection

from laoke.core.errors import DomainError
from laoke.ledger import services
from laoke.ledger.models import Account
from laoke.ledger.services import ledger_check, owner_account, system_account, transfer_create
from laoke.members.services import member_create

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
THREADS = 32
PRICE = 1_000
BALANCE = 10 * PRICE


def _race():
    wallet = owner_account(kind="wallet", member=member_create(name="热点钱包"))
    float_, spent = system_account("card_float"), system_account("wallet_spent")
    transfer_create(debit=float_, credit=wallet, amount=BALANCE, key="recharge", reason="recharge")
    barrier = threading.Barrier(THREADS)
    ok = []
    lock = threading.Lock()

    def worker(i):
        try:
            barrier.wait(timeout=30)
            transfer_create(debit=wallet, credit=spent, amount=PRICE, key=f"pay:{i}", reason="order")
            with lock:
                ok.append(i)
        except DomainError as exc:
            assert exc.code == "INSUFFICIENT_BALANCE"
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return len(ok), Account.objects.get(pk=wallet.pk).balance


def test_concurrent_debits_never_overdraw():
    successes, balance = _race()
    assert successes == BALANCE // PRICE and balance == 0
    assert ledger_check().ok


def test_negative_control_unguarded_debits_overdraw(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    successes, balance = _race()
    assert successes * PRICE > BALANCE - balance, "lost updates: more paid out than the balance went down"
    assert not ledger_check().ok
