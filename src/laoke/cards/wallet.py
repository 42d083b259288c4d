"""The member wallet (储值): credits and debits through the ledger, and the low-balance reminder.

Money in a wallet is the balance of the member's ``wallet`` ledger account; it moves only by
ledger transfers with an idempotency key (a repeated call with the same key is the same
movement). A debit that would overdraw is refused (INSUFFICIENT_BALANCE) — the order pays the rest
another way. When a debit takes the balance from at or above the threshold (preset 20元) to below
it, one transactional reminder is queued in the outbox in the same transaction (it ignores
marketing opt-outs; it still needs a mobile).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from laoke.core.audit import audit_write
from laoke.core.money import format_yuan
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import _transfer, owner_account, system_account
from laoke.members.models import Member
from laoke.messaging.models import Message
from laoke.messaging.services import _message_enqueue


def low_balance_threshold_fen() -> int:
    return settings.LAOKE.get("LOW_BALANCE_THRESHOLD_FEN", 2_000)


def wallet_account(member: Member) -> Account:
    return owner_account(kind=Account.Kind.WALLET, member=member)


def wallet_credit(
    *,
    member: Member,
    amount_fen: int,
    key: str,
    reason: str,
    source: str = "card_float",
    reference: str = "",
    actor=None,
) -> Transfer:
    """Put money into the wallet (card recharge, online top-up, refund to wallet)."""
    with transaction.atomic(durable=True):
        t = _transfer(
            debit=system_account(source),
            credit=wallet_account(member),
            amount=amount_fen,
            key=key,
            reason=reason,
            reference=reference,
        )
        audit_write(
            action="wallet.credit",
            obj=member,
            after={"amount_fen": amount_fen, "reason": reason, "transfer": t.pk},
            actor=actor,
        )
    return t


def wallet_debit(
    *,
    member: Member,
    amount_fen: int,
    key: str,
    reason: str,
    sink: str = "wallet_spent",
    reference: str = "",
    actor=None,
) -> Transfer:
    """Pay from the wallet; refused rather than overdrawn. Queues the low-balance reminder when the
    balance crosses the threshold downwards."""
    with transaction.atomic(durable=True):
        account = wallet_account(member)
        already = Transfer.objects.filter(idempotency_key=key).exists()
        t = _transfer(
            debit=account,
            credit=system_account(sink),
            amount=amount_fen,
            key=key,
            reason=reason,
            reference=reference,
        )
        if not already:
            audit_write(
                action="wallet.debit",
                obj=member,
                after={"amount_fen": amount_fen, "reason": reason, "transfer": t.pk},
                actor=actor,
            )
            balance = Account.objects.values_list("balance", flat=True).get(pk=account.pk)
            threshold = low_balance_threshold_fen()
            if balance < threshold <= balance + amount_fen and member.mobile:
                _message_enqueue(
                    purpose=f"low_balance:{t.pk}",
                    member=member,
                    channel=Message.Channel.SMS,
                    kind=Message.Kind.TRANSACTIONAL,
                    body=f"您的储值余额为{format_yuan(balance)}，已低于{format_yuan(threshold)}，欢迎到店或在会员中心充值。",
                )
    return t
