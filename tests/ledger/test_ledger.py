"""Ledger invariants: zero-sum transfers, no negative balance where not allowed, idempotent keys,
reversals that never exceed the original, cached balances equal to the sum of transfers."""

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from laoke.core.errors import DomainError
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import (
    _reverse,
    _transfer,
    account_balance,
    ledger_check,
    owner_account,
    system_account,
    transfer_create,
    transfer_reverse,
)
from laoke.members.services import member_create


@pytest.fixture
def wallets(db):
    a = owner_account(kind="wallet", member=member_create(name="甲"))
    b = owner_account(kind="wallet", member=member_create(name="乙"))
    return system_account("card_float"), a, b


def _code(fn, **kwargs):
    with pytest.raises(DomainError) as exc:
        fn(**kwargs)
    return exc.value.code


def test_transfer_moves_value_and_is_idempotent(wallets):
    float_, a, _ = wallets
    t1 = transfer_create(debit=float_, credit=a, amount=10_000, key="recharge:1", reason="recharge")
    t2 = transfer_create(debit=float_, credit=a, amount=10_000, key="recharge:1", reason="recharge")
    assert t1.pk == t2.pk and Transfer.objects.count() == 1
    a.refresh_from_db()
    float_.refresh_from_db()
    assert (a.balance, account_balance(float_)) == (10_000, -10_000)
    assert float_.balance == 0  # a system account keeps no cached balance: every transfer would queue on it
    assert (
        _code(transfer_create, debit=float_, credit=a, amount=1, key="recharge:1", reason="x")
        == "TRANSFER_KEY_CONFLICT"
    )


def test_member_account_never_goes_negative(wallets):
    float_, a, b = wallets
    transfer_create(debit=float_, credit=a, amount=500, key="k1", reason="recharge")
    assert (
        _code(transfer_create, debit=a, credit=b, amount=501, key="k2", reason="pay")
        == "INSUFFICIENT_BALANCE"
    )
    assert not Transfer.objects.filter(idempotency_key="k2").exists()  # nothing half-written
    a.refresh_from_db()
    assert a.balance == 500


def test_bad_amounts_and_units(wallets, db):
    float_, a, _ = wallets
    points = owner_account(kind="points", member=a.member)
    for amount in (0, -5, 1.5, True):
        assert _code(
            transfer_create, debit=float_, credit=a, amount=amount, key=f"x{amount}", reason="r"
        ) == ("TRANSFER_AMOUNT_INVALID")
    assert (
        _code(transfer_create, debit=float_, credit=points, amount=1, key="u", reason="r")
        == "TRANSFER_UNIT_MISMATCH"
    )


def test_partial_reversals_never_exceed_the_original(wallets):
    float_, a, b = wallets
    transfer_create(debit=float_, credit=a, amount=1_000, key="r", reason="recharge")
    pay = transfer_create(debit=a, credit=b, amount=600, key="pay", reason="order")
    transfer_reverse(transfer=pay, amount=200, key="refund:1")
    transfer_reverse(transfer=pay, amount=200, key="refund:1")  # retried: same effect once
    transfer_reverse(transfer=pay, amount=300, key="refund:2")
    assert _code(transfer_reverse, transfer=pay, amount=101, key="refund:3") == "REVERSAL_EXCEEDS"
    last = transfer_reverse(transfer=pay, key="refund:3")  # the rest
    assert last.amount == 100
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.balance, b.balance) == (1_000, 0)
    assert _code(transfer_reverse, transfer=last, key="again") == "REVERSAL_OF_REVERSAL"
    assert ledger_check().ok


def test_ledger_check_finds_a_tampered_balance(wallets):
    float_, a, _ = wallets
    transfer_create(debit=float_, credit=a, amount=700, key="k", reason="recharge")
    report = ledger_check()
    assert report.ok
    assert report.summary() == (
        "ledger check: 3 accounts, 1 transfers, 700 fen moved; sum of fen balances 0; 0 mismatches — OK"
    )
    Account.objects.filter(pk=a.pk).update(balance=701)  # what a bypass of the services would do
    bad = ledger_check()
    assert not bad.ok and bad.mismatches == [(a.pk, 701, 700)]


_keys = itertools.count()


@pytest.mark.django_db
@pytest.mark.timeout(900)  # 200 examples x 50 steps: about 45 s on SQLite, 95 s on PostgreSQL here
def test_stateful_random_movements_keep_every_invariant():
    """Random recharges, payments between members, and (partial) reversals, checked after every
    step: no member balance below zero, cached == derived, each unit sums to zero."""
    from django.db import transaction

    people = [member_create(name=f"m{i}") for i in range(3)]

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self._example = transaction.atomic()  # each example starts from the same empty ledger
            self._example.__enter__()
            self.float = system_account("card_float")
            self.members = [owner_account(kind="wallet", member=m) for m in people]
            self.transfers: list[Transfer] = []

        def _try(self, fn, **kwargs):
            try:
                with transaction.atomic():
                    t = fn(key=f"k{next(_keys)}", **kwargs)
                self.transfers.append(t)
            except DomainError as exc:
                assert exc.code in ("INSUFFICIENT_BALANCE", "REVERSAL_EXCEEDS", "REVERSAL_OF_REVERSAL")

        @rule(i=st.integers(0, 2), amount=st.integers(1, 5_000))
        def recharge(self, i, amount):
            self._try(_transfer, debit=self.float, credit=self.members[i], amount=amount, reason="recharge")

        @rule(i=st.integers(0, 2), j=st.integers(0, 2), amount=st.integers(1, 5_000))
        def pay(self, i, j, amount):
            if i != j:
                self._try(
                    _transfer, debit=self.members[i], credit=self.members[j], amount=amount, reason="pay"
                )

        @rule(data=st.data())
        def reverse(self, data):
            if self.transfers:
                t = data.draw(st.sampled_from(self.transfers))
                amount = data.draw(st.one_of(st.none(), st.integers(1, t.amount)))
                self._try(_reverse, transfer=t, amount=amount)

        def teardown(self):
            transaction.set_rollback(True)
            self._example.__exit__(None, None, None)

        @invariant()
        def balances_hold(self):
            report = ledger_check()
            assert report.ok, report.summary()
            assert Account.objects.filter(allow_negative=False, balance__lt=0).count() == 0

    LedgerMachine.TestCase.settings = settings(
        max_examples=200,
        stateful_step_count=50,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    LedgerMachine.TestCase().runTest()
