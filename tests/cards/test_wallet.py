import pytest

from laoke.cards.wallet import wallet_account, wallet_credit, wallet_debit
from laoke.core.errors import DomainError
from laoke.ledger.services import ledger_check
from laoke.members.services import member_create, member_unsubscribe
from laoke.messaging.models import Message


@pytest.fixture
def member(db, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    return member_create(name="储值会员", mobile="13800005555")


def _balance(member):
    return wallet_account(member).balance


def test_credit_debit_and_idempotent_keys(member):
    wallet_credit(member=member, amount_fen=100_000, key="recharge:card-1", reason="card_recharge")
    wallet_credit(member=member, amount_fen=100_000, key="recharge:card-1", reason="card_recharge")
    wallet_debit(member=member, amount_fen=30_000, key="order:1", reason="order")
    wallet_debit(member=member, amount_fen=30_000, key="order:1", reason="order")
    assert _balance(member) == 70_000
    with pytest.raises(DomainError) as exc:
        wallet_debit(member=member, amount_fen=70_001, key="order:2", reason="order")
    assert exc.value.code == "INSUFFICIENT_BALANCE"
    assert _balance(member) == 70_000
    assert ledger_check().ok


def test_low_balance_reminder_once_when_crossing_the_threshold(member):
    member_unsubscribe(member_id=member.pk, channel="sms", source="sms_reply")  # transactional still goes
    wallet_credit(member=member, amount_fen=5_000, key="r", reason="recharge")
    wallet_debit(member=member, amount_fen=2_000, key="o1", reason="order")  # 50元 → 30元: above 20元
    assert not Message.objects.exists()
    wallet_debit(member=member, amount_fen=1_500, key="o2", reason="order")  # 30元 → 15元: crosses
    wallet_debit(member=member, amount_fen=500, key="o3", reason="order")  # 15元 → 10元: already below
    wallet_debit(
        member=member, amount_fen=1_500, key="o2", reason="order"
    )  # a retry of o2: no second reminder
    assert _balance(member) == 1_000
    messages = list(Message.objects.all())
    assert len(messages) == 1
    assert messages[0].kind == "transactional" and messages[0].state == "waiting"
    assert "¥15.00" in messages[0].body and "¥20.00" in messages[0].body
