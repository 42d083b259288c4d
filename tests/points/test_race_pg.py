"""Concurrent redemptions of the LAST gift in stock (PostgreSQL): exactly one member gets it, and
every loser keeps every point (the redemption's points debit rolls back with the refused stock
change). N members, each with enough points, are released together by a barrier.

Negative control: with the stock's guarded UPDATE replaced by read-check-save (catalog's test-only
switch), the same race hands the last gift out more than once — proof the test can fail.
"""

from __future__ import annotations

import pytest

from laoke.catalog import services as catalog_services
from laoke.catalog.models import GiftStock
from laoke.ledger.models import Account
from laoke.ledger.services import ledger_check, system_account
from laoke.points import selectors
from laoke.points.models import GiftRedemption
from laoke.points.services import gift_redeem
from tests.race import pg_threads, race

from .conftest import give, make_member, make_offer

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _last_gift_race(store):
    offer = make_offer(store, 80, stock=1)
    n = min(pg_threads(), 24)
    members = [make_member() for _ in range(n)]
    for m in members:
        give(m, 100)
    system_account("points_redeemed")
    results = race(n, lambda i: gift_redeem(member=members[i], offer=offer, key=f"race-{i}").pk)
    wins = [r for r in results if isinstance(r, int)]
    balances = sorted(
        Account.objects.filter(member__in=members, kind="points").values_list("balance", flat=True)
    )
    return n, wins, results, balances, GiftStock.objects.get(gift=offer.gift, store=store).quantity


def test_last_gift_goes_to_exactly_one(programme, store):
    n, wins, results, balances, left = _last_gift_race(store)
    assert n >= 8
    assert len(wins) == 1 and left == 0
    assert sorted(r for r in results if not isinstance(r, int)) == ["GIFT_OUT_OF_STOCK"] * (n - 1)
    # The winner paid 80; every loser still has all 100 points.
    assert balances == [20] + [100] * (n - 1)
    assert GiftRedemption.objects.count() == 1
    assert selectors.points_lots_check() == [] and ledger_check().ok


def test_negative_control_read_check_save_hands_out_the_last_gift_twice(programme, store, monkeypatch):
    monkeypatch.setattr(catalog_services, "_UNGUARDED_FOR_TESTS", True)
    _n, wins, _results, _balances, _left = _last_gift_race(store)
    assert len(wins) > 1, "lost update: the last gift was redeemed more than once"
    assert GiftRedemption.objects.count() == len(wins)


def _one_member_spend_race():
    """One member with 10 lots of 10 points; N threads each spend 10 points at once."""
    from laoke.points.services import points_spend

    member = make_member()
    for _ in range(10):
        give(member, 10)
    system_account("points_redeemed")
    n = min(pg_threads(), 24)
    results = race(n, lambda i: points_spend(member=member, key=f"s{i}", reference="o", points=10).pk)
    wins = [r for r in results if isinstance(r, int)]
    return n, member, wins, results


def test_one_members_spends_serialise_on_the_account_lock(programme):
    n, member, wins, results = _one_member_spend_race()
    assert n > 10
    # Exactly the 100 points are spent, every other call refused: no lot used twice, none skipped.
    assert len(wins) == 10
    assert sorted(r for r in results if not isinstance(r, int)) == ["POINTS_INSUFFICIENT"] * (n - 10)
    assert Account.objects.get(member=member, kind="points").balance == 0
    assert selectors.points_lots_check() == [] and ledger_check().ok


def test_negative_control_without_the_account_lock_members_are_refused_with_points_left(
    programme, monkeypatch
):
    from laoke.points import lots

    monkeypatch.setattr(lots, "_UNGUARDED_FOR_TESTS", True)
    _n, member, wins, _results = _one_member_spend_race()
    # Without the lock, spends plan on stale lot lists and give up although points are there.
    assert len(wins) < 10
    assert Account.objects.get(member=member, kind="points").balance > 0
