"""A member merge moves the merged member's wallet balance to the survivor (the cards merge hook)."""

from __future__ import annotations

import pytest

from laoke.cards.wallet import wallet_account, wallet_close, wallet_credit
from laoke.core.errors import DomainError
from laoke.ledger.services import ledger_check
from laoke.members.models import Member, MergeRecord
from laoke.members.services import member_create, member_merge


@pytest.fixture
def pair(db):
    return member_create(name="老客", mobile="13800005555"), member_create(name="老客（淘宝）")


def test_balance_follows_the_survivor(pair):
    target, source = pair
    wallet_credit(member=source, amount_fen=12_345, key="top-up-1", reason="card_recharge")
    wallet_credit(member=target, amount_fen=100, key="top-up-2", reason="card_recharge")
    member_merge(source_id=source.pk, target_id=target.pk)
    assert (wallet_account(source).balance, wallet_account(target).balance) == (0, 12_445)
    assert MergeRecord.objects.get(source=source).moved["cards"] == {"wallet_moved_fen": 12_345}
    assert ledger_check().ok


def test_no_wallet_or_empty_wallet_moves_nothing(pair):
    target, source = pair
    member_merge(source_id=source.pk, target_id=target.pk)
    assert MergeRecord.objects.get(source=source).moved["cards"] == {}


def test_a_closed_survivor_refuses_the_merge_and_nothing_moves(pair):
    target, source = pair
    wallet_close(
        member=target,
        policy="refund",
        confirm_name="老客",
        confirm_mobile="13800005555",
        confirm_account=target.code,
        confirmed_via="in_person",
    )
    wallet_credit(member=source, amount_fen=5_000, key="top-up-3", reason="card_recharge")
    with pytest.raises(DomainError) as exc:
        member_merge(source_id=source.pk, target_id=target.pk)
    assert exc.value.code == "WALLET_CLOSED"
    assert wallet_account(source).balance == 5_000
    assert Member.objects.get(pk=source.pk).status == Member.Status.ACTIVE
