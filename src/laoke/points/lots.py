"""Lots: the helpers through which every points movement goes (each needs the caller's transaction).

* ``_credit`` moves points from a system account (or back from one, a reversal) into the member's
  points account and records the lot. A deficit (negative balance) is paid off first.
* ``_debit`` takes points out oldest-first: lots ordered by expiry (no expiry last), then earned
  time, then id; a lot past its expiry is not spendable even before ``points_tick`` expires it.
  Each lot is taken by a guarded UPDATE (``remaining >= x``) and a ``LotConsumption`` row says
  which lots paid for which transfer.

Lock before you check: both first lock the member's points account row (``SELECT … FOR UPDATE``;
on SQLite the write transaction is IMMEDIATE anyway), so one member's points operations run one
after the other while different members never wait for each other (system accounts are updated
by the ledger's guarded UPDATE at the end).

Invariant (tested after every step of a property test): the account's balance equals the sum of
``remaining`` over the member's lots, the deficit lot included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import F, Q, Sum

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import _reverse, _transfer, owner_account, system_account
from laoke.members.models import Member

from .error_codes import POINTS_INSUFFICIENT, POINTS_KEY_REUSED
from .models import LotConsumption, PointsLot

# Test-only switch for the negative control of the lot race: no account lock, lots taken by
# read-modify-save. Never set outside tests.
_UNGUARDED_FOR_TESTS = False


def points_account(member: Member) -> Account:
    return owner_account(kind=Account.Kind.POINTS, member=member)


def _balance(member: Member) -> int:
    """The member's points balance as the ledger holds it now (for audit rows' before/after: read
    once under :func:`_lock_account` before the change and once after it)."""
    return (
        Account.objects.filter(member=member, kind=Account.Kind.POINTS)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


def _lock_account(member: Member) -> Account:
    if not connection.in_atomic_block:
        raise RuntimeError("points lots need the caller's transaction")
    if _UNGUARDED_FOR_TESTS:
        return points_account(member)
    # One locking read for an existing account (the hot path); create it on first use.
    account = Account.objects.select_for_update().filter(member=member, kind=Account.Kind.POINTS).first()
    if account is None:
        account = Account.objects.select_for_update().get(pk=points_account(member).pk)
    return account


def fifo_order():
    return (F("expires_at").asc(nulls_last=True), "earned_at", "id")


def spendable_lots(member: Member, now: datetime):
    return (
        PointsLot.objects.filter(member=member, remaining__gt=0)
        .exclude(kind=PointsLot.Kind.DEFICIT)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by(*fifo_order())
    )


def available(member: Member, now: datetime | None = None) -> int:
    """Points the member can spend now (expired-but-not-yet-swept lots do not count)."""
    return spendable_lots(member, now or clock.now()).aggregate(s=Sum("remaining"))["s"] or 0


def _pay_deficit(member: Member, amount: int) -> int:
    """Use up to ``amount`` of a new credit to pay off the member's deficit; returns what was used."""
    deficit = PointsLot.objects.filter(member=member, kind=PointsLot.Kind.DEFICIT, remaining__lt=0).first()
    if deficit is None:
        return 0
    take = min(amount, -deficit.remaining)
    if (
        PointsLot.objects.filter(pk=deficit.pk, remaining__lte=-take).update(remaining=F("remaining") + take)
        != 1
    ):
        raise RuntimeError("deficit changed under the account lock")
    return take


@dataclass
class Credit:
    transfer: Transfer
    lot: PointsLot
    new: bool


def _credit(
    *,
    member: Member,
    amount: int,
    key: str,
    reason: str,
    kind: str,
    reference: str = "",
    source: str = "points_liability",
    expires_at: datetime | None = None,
    reverses: Transfer | None = None,
    at: datetime | None = None,
) -> Credit:
    """Give the member ``amount`` points as a new lot. Same key again → the same lot, no change.
    ``reverses``: the credit is a (partial) reversal of that debit transfer (spent points given
    back) instead of a fresh issue from ``source``."""
    account = _lock_account(member)
    at = at or clock.now()
    existing = Transfer.objects.filter(idempotency_key=key).first()
    if existing is not None:
        lot = PointsLot.objects.filter(transfer=existing).first()
        if lot is None or existing.credit_id != account.pk or existing.amount != amount:
            raise DomainError(POINTS_KEY_REUSED, field="key")
        return Credit(existing, lot, False)
    if reverses is not None:
        t = _reverse(transfer=reverses, key=key, amount=amount, reason=reason)
    else:
        t = _transfer(
            debit=system_account(source),
            credit=account,
            amount=amount,
            key=key,
            reason=reason,
            reference=reference,
        )
    paid_off = _pay_deficit(member, amount)
    lot = PointsLot.objects.create(
        member=member,
        kind=kind,
        amount=amount,
        remaining=amount - paid_off,
        earned_at=at,
        expires_at=expires_at,
        transfer=t,
    )
    return Credit(t, lot, True)


def _take_from(lot_id: int, take: int) -> bool:
    if _UNGUARDED_FOR_TESTS:
        lot = PointsLot.objects.get(pk=lot_id)
        if lot.remaining < take:
            return False
        lot.remaining -= take
        lot.save(update_fields=["remaining"])
        return True
    return (
        PointsLot.objects.filter(pk=lot_id, remaining__gte=take).update(remaining=F("remaining") - take) == 1
    )


def _debit(
    *,
    member: Member,
    amount: int,
    key: str,
    reason: str,
    reference: str = "",
    sink: str = "points_redeemed",
    allow_deficit: bool = False,
    prefer_lot: PointsLot | None = None,
    reverses: Transfer | None = None,
    now: datetime | None = None,
) -> tuple[Transfer, bool]:
    """Take ``amount`` points from the member, oldest lots first. Returns (transfer, new?).

    ``allow_deficit``: what the open lots cannot cover goes onto the deficit lot (a negative
    balance; only a refund does this, and only when the programme allows it). ``prefer_lot`` is
    consumed first (a refund takes back the points of the purchase it refunds). ``reverses``:
    the debit is a (partial) reversal of that crediting transfer instead of a transfer to ``sink``.
    """
    account = _lock_account(member)
    now = now or clock.now()
    existing = Transfer.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.debit_id != account.pk or existing.amount != amount:
            raise DomainError(POINTS_KEY_REUSED, field="key")
        return existing, False
    lots = list(spendable_lots(member, now).values_list("pk", "remaining"))
    if prefer_lot is not None:
        lots.sort(key=lambda pair: pair[0] != prefer_lot.pk)
    have = sum(r for _pk, r in lots)
    if have < amount and not allow_deficit:
        raise DomainError(POINTS_INSUFFICIENT, field="points", available=have, needed=amount)
    if have < amount and not account.allow_negative:
        Account.objects.filter(pk=account.pk).update(allow_negative=True)
        account.allow_negative = True
    if reverses is not None:
        t = _reverse(transfer=reverses, key=key, amount=amount, reason=reason)
    else:
        t = _transfer(
            debit=account,
            credit=system_account(sink),
            amount=amount,
            key=key,
            reason=reason,
            reference=reference,
        )
    left = amount
    taken = []
    for lot_id, remaining in lots:
        if left == 0:
            break
        take = min(remaining, left)
        if not _take_from(lot_id, take):
            raise DomainError(POINTS_INSUFFICIENT, field="points", available=amount - left, needed=amount)
        taken.append(LotConsumption(lot_id=lot_id, transfer=t, amount=take))
        left -= take
    if left:
        deficit, _ = PointsLot.objects.get_or_create(
            member=member,
            kind=PointsLot.Kind.DEFICIT,
            defaults={"amount": 0, "remaining": 0, "earned_at": now},
        )
        PointsLot.objects.filter(pk=deficit.pk).update(remaining=F("remaining") - left)
        taken.append(LotConsumption(lot_id=deficit.pk, transfer=t, amount=left))
    LotConsumption.objects.bulk_create(taken)
    return t, True


def _expire_lot(lot_id: int, now: datetime) -> int:
    """Expire what is left of one due lot (deterministic key ``expire:{lot_id}``). Safe to run
    twice or concurrently: the guarded UPDATE on ``remaining`` lets one run take it."""
    lot = PointsLot.objects.select_related("member").filter(pk=lot_id).first()
    if lot is None:
        return 0
    _lock_account(lot.member)
    lot.refresh_from_db()
    x = lot.remaining
    if x <= 0 or lot.expires_at is None or lot.expires_at > now or lot.kind == PointsLot.Kind.DEFICIT:
        return 0
    if PointsLot.objects.filter(pk=lot.pk, remaining=x).update(remaining=0, expired=F("expired") + x) != 1:
        return 0
    account = points_account(lot.member)
    t = _transfer(
        debit=account,
        credit=system_account("points_breakage"),
        amount=x,
        key=f"expire:{lot.pk}",
        reason="points.expire",
        reference=f"lot:{lot.pk}",
    )
    LotConsumption.objects.create(lot_id=lot.pk, transfer=t, amount=x)
    return x
