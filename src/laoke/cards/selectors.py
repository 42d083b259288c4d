"""Reads of the cards app (never a PIN, never a PIN hash)."""

from __future__ import annotations

from laoke.core.errors import NOT_FOUND, DomainError
from laoke.ledger.models import Account
from laoke.ledger.selectors import account_transfers
from laoke.members.models import GroupAccount, Member

from .models import MAX_PIN_FAILURES, Card, CardBatch

CARD_FIELDS = (
    "id",
    "number",
    "batch_id",
    "serial",
    "kind",
    "face_value_fen",
    "sale_price_fen",
    "state",
    "expires_on",
    "failed_pin_count",
    "locked_at",
    "activated_at",
    "redeemed_at",
    "redeemed_member_id",
    "redeemed_group_id",
    "redeemed_channel",
    "cancelled_at",
    "expired_at",
)


def batch_progress(batch: CardBatch) -> dict:
    return {
        "id": batch.pk,
        "code": batch.code,
        "kind": batch.kind,
        "face_value_fen": batch.face_value_fen,
        "sale_price_fen": batch.sale_price_fen,
        "count": batch.count,
        "generated_count": batch.generated_count,
        "percent": round(100 * batch.generated_count / batch.count, 1) if batch.count else 0.0,
        "state": batch.state,
        "store_id": batch.store_id,
        "expires_on": batch.expires_on,
        "buyer_company": batch.buyer_company,
        "purpose": batch.purpose,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
        "downloaded_at": batch.downloaded_at,
        "error": batch.error,
    }


def batch_get(batch_id: int) -> CardBatch:
    batch = CardBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise DomainError(NOT_FOUND, field="batch_id")
    return batch


def card_status(number: str) -> dict:
    row = Card.objects.filter(number=number).values(*CARD_FIELDS).first()
    if row is None:
        raise DomainError(NOT_FOUND, field="number")
    row["locked"] = row["locked_at"] is not None or row["failed_pin_count"] >= MAX_PIN_FAILURES
    return row


def wallet_summary(*, member: Member | None = None, group_account: GroupAccount | None = None) -> dict:
    lookup = {"member": member} if member is not None else {"group_account": group_account}
    # One query for both: the paid wallet and (members only) a recharge package's bonus account.
    rows = {
        a.kind: a
        for a in Account.objects.filter(kind__in=[Account.Kind.WALLET, Account.Kind.WALLET_BONUS], **lookup)
    }
    account = rows.get(Account.Kind.WALLET)
    closed = member is not None and hasattr(member, "wallet_closure")
    paid = account.balance if account else 0
    bonus_row = rows.get(Account.Kind.WALLET_BONUS)
    bonus = bonus_row.balance if bonus_row is not None else 0
    return {
        "balance_fen": paid + bonus,
        "paid_fen": paid,
        "bonus_fen": bonus,
        "closed": closed,
        "account": account,
    }


def wallet_history(account: Account | None):
    """Wallet movements, newest first: +amount into the wallet, −amount out of it."""
    if account is None:
        return []
    return account_transfers(account)
