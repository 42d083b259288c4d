"""A recharge package's bonus in its own ledger account (wallet_bonus): a wallet payment draws on
paid and bonus money in proportion (largest remainder), its refunds put each part back where it
came from (exactly, over several partial refunds), 销卡 forfeits the bonus, a merge moves it, and
the balance shown is paid + bonus."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from django.db import transaction

from laoke.cards.selectors import wallet_summary
from laoke.cards.wallet import (
    _wallet_bonus_credit,
    split_proportional,
    wallet_close,
    wallet_credit,
    wallet_debit,
)
from laoke.core.errors import DomainError
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import ledger_check
from laoke.members.merge import member_merge
from laoke.members.services import member_create


def test_split_is_exact_and_proportional():
    rng = random.Random(7)  # seeded: 3,000 cases, the same every run
    cases = [(rng.randrange(10**7), rng.randrange(10**7), rng.randrange(10**6)) for _ in range(3_000)]
    cases += [(1, 1, 1), (3, 1, 1), (7, 0, 5), (0, 0, 0), (5, 5, 0), (11_000, 50_000, 5_000)]
    for amount, paid, bonus in cases:
        amount = min(amount, paid + bonus)
        p, b = split_proportional(amount, paid, bonus)
        assert p + b == amount and 0 <= p <= paid and 0 <= b <= bonus
        if paid + bonus:
            exact_b = Fraction(amount * bonus, paid + bonus)
            assert abs(b - exact_b) <= Fraction(1, 2)  # largest remainder of two parts: nearest fen
    assert split_proportional(11_000, 50_000, 5_000) == (10_000, 1_000)
    assert split_proportional(1, 1, 1) == (1, 0)  # a tie goes to the paid part


@pytest.fixture
def member(db):
    return member_create(name="套餐会员", mobile="13800007777")


def _bonus(member, amount, key="package:T:bonus"):
    with transaction.atomic():
        _wallet_bonus_credit(
            member=member, amount_fen=amount, key=key, reason="package.bonus", source="package_bonus"
        )


def _balances(member):
    rows = dict(Account.objects.filter(member=member).values_list("kind", "balance"))
    return rows.get("wallet", 0), rows.get("wallet_bonus", 0)


def test_payment_draws_in_proportion_and_refunds_put_each_part_back(member):
    wallet_credit(member=member, amount_fen=50_000, key="package:T:paid", reason="package.paid")
    _bonus(member, 5_000)
    assert wallet_summary(member=member)["balance_fen"] == 55_000
    assert (wallet_summary(member=member)["paid_fen"], wallet_summary(member=member)["bonus_fen"]) == (
        50_000,
        5_000,
    )

    wallet_debit(member=member, amount_fen=12_345, key="order:A", reason="order.pay", reference="A")
    # 12345 × 50000/55000 = 11222.7…, × 5000/55000 = 1122.27… → 11223 + 1122 (largest remainder)
    assert _balances(member) == (50_000 - 11_223, 5_000 - 1_122)
    # A retried payment moves nothing again, though the balances changed.
    wallet_debit(member=member, amount_fen=12_345, key="order:A", reason="order.pay", reference="A")
    assert _balances(member) == (38_777, 3_878)

    # Three partial refunds of the payment, then nothing left: each part back exactly.
    for i, amount in enumerate((1_001, 7_777, 12_345 - 1_001 - 7_777)):
        wallet_credit(
            member=member,
            amount_fen=amount,
            key=f"refund:A{i}",
            reason="order.refund",
            source="wallet_spent",
            reference="A",
        )
    assert _balances(member) == (50_000, 5_000)
    back = Transfer.objects.filter(reference="A", reason="order.refund")
    assert sum(back.filter(credit__kind="wallet").values_list("amount", flat=True)) == 11_223
    assert sum(back.filter(credit__kind="wallet_bonus").values_list("amount", flat=True)) == 1_122
    assert ledger_check().ok


def test_payment_refused_beyond_paid_plus_bonus(member):
    wallet_credit(member=member, amount_fen=1_000, key="p", reason="package.paid")
    _bonus(member, 100)
    with pytest.raises(DomainError) as e:
        wallet_debit(member=member, amount_fen=1_101, key="order:B", reason="order.pay", reference="B")
    assert e.value.code == "INSUFFICIENT_BALANCE"
    wallet_debit(member=member, amount_fen=1_100, key="order:C", reason="order.pay", reference="C")
    assert _balances(member) == (0, 0)


def test_close_forfeits_the_bonus_under_either_policy(member):
    wallet_credit(member=member, amount_fen=20_000, key="p", reason="package.paid")
    _bonus(member, 1_000)
    closure = wallet_close(
        member=member,
        confirm_name="套餐会员",
        confirm_mobile="13800007777",
        confirm_account=member.code,
        policy="refund",
        confirmed_via="in_person",
    )
    assert closure.balance_fen == 20_000 and closure.transfer.credit.code == "wallet_refunds"
    forfeited = Transfer.objects.get(idempotency_key=f"wallet_close:{member.pk}:bonus")
    assert (forfeited.amount, forfeited.credit.code) == (1_000, "wallet_bonus_breakage")
    assert _balances(member) == (0, 0)
    assert ledger_check().ok


def test_merge_moves_the_bonus(member):
    other = member_create(name="套餐会员")
    wallet_credit(member=other, amount_fen=3_000, key="p2", reason="package.paid")
    _bonus(other, 300, key="b2")
    member_merge(source_id=other.pk, target_id=member.pk)
    assert _balances(member) == (3_000, 300)
    assert ledger_check().ok


def test_a_retried_key_must_ask_for_the_same_amount(member):
    wallet_credit(member=member, amount_fen=10_000, key="p", reason="package.paid")
    _bonus(member, 1_000)
    wallet_debit(member=member, amount_fen=2_200, key="order:K", reason="order.pay", reference="K")
    for amount, code in ((2_201, "TRANSFER_KEY_CONFLICT"), (0, "TRANSFER_AMOUNT_INVALID")):
        with pytest.raises(DomainError) as e:
            wallet_debit(member=member, amount_fen=amount, key="order:K", reason="order.pay", reference="K")
        assert e.value.code == code
    assert _balances(member) == (8_000, 800)
