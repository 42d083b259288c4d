"""N cashiers charging one account at once (PostgreSQL, tests/race.py). The guarded UPDATE lets
exactly ⌊limit / amount⌋ charges through, the outstanding never passes the limit and always equals
the sum of the entries. The negative control swaps the guard for read-check-write
(``services_charges._UNGUARDED_FOR_TESTS``): lost updates leave the outstanding below what was
signed — proof the test can fail."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from laoke.b2b import services_charges as sc
from laoke.b2b.models import ChargeAccount, ChargeEntry
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
AMOUNT = 100_00


def _run(n: int):
    limit = AMOUNT * (n // 2) + 50  # room for half of them (and a remainder no charge fits)
    acc = sc.charge_account_create(name="会议包账", credit_limit_fen=limit)
    results = race(n, lambda i: sc.charge_record(account_id=acc.pk, amount_fen=AMOUNT, reference=f"r{i}").pk)
    acc.refresh_from_db()
    signed = ChargeEntry.objects.filter(account=acc).aggregate(s=Sum("amount_fen"))["s"] or 0
    return acc, limit, results, signed


def test_concurrent_charges_never_pass_the_limit():
    n = pg_threads()
    acc, limit, results, signed = _run(n)
    ok = [r for r in results if isinstance(r, int)]
    assert len(ok) == n // 2
    assert sorted(set(results) - set(ok)) == ["B2B_CREDIT_LIMIT"]
    assert acc.outstanding_fen == signed == AMOUNT * (n // 2) <= limit


def test_negative_control_without_the_guard_updates_are_lost(monkeypatch):
    monkeypatch.setattr(sc, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(sc, "_UNGUARDED_PAUSE", 0.2)
    n = pg_threads()
    acc, _limit, _results, signed = _run(n)
    assert acc.outstanding_fen < signed  # money signed for but not owed
    assert ChargeAccount.objects.get(pk=acc.pk).outstanding_fen == acc.outstanding_fen
