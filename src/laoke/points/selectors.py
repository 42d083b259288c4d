"""Reads of the points app: balance, lots, history, claims, catalogue, and the lot invariant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, Sum

from laoke.core import clock
from laoke.ledger.models import Account, Transfer
from laoke.members.models import Member

from .lots import fifo_order, spendable_lots
from .models import GiftOffer, PointsLot, PointsProgramme, ReceiptClaim
from .tick import expiring_soon


@dataclass
class Balance:
    member_id: int
    balance: int
    available: int
    expiring: int
    first_expiry: datetime | None
    is_permanent: bool


def points_balance(*, member: Member, now: datetime | None = None) -> Balance:
    """The ledger balance, what may be spent now (expired-but-unswept lots excluded) and what
    expires within the programme's reminder period."""
    now = now or clock.now()
    balance = (
        Account.objects.filter(member=member, kind=Account.Kind.POINTS)
        .values_list("balance", flat=True)
        .first()
        or 0
    )
    available = spendable_lots(member, now).aggregate(s=Sum("remaining"))["s"] or 0
    programme = PointsProgramme.objects.filter(is_active=True).first()
    days = programme.reminder_days if programme else 30
    expiring, first = expiring_soon(member.pk, now, days)
    return Balance(member.pk, balance, available, expiring, first, member.is_permanent)


def member_lots(*, member: Member, open_only: bool = False):
    qs = PointsLot.objects.filter(member=member)
    if open_only:
        qs = qs.filter(~Q(remaining=0))
    return qs.order_by(*fifo_order())


def points_history(*, member: Member):
    """The member's points movements (ledger transfers), newest first."""
    account = Account.objects.filter(member=member, kind=Account.Kind.POINTS).first()
    if account is None:
        return Transfer.objects.none()
    return Transfer.objects.filter(Q(debit=account) | Q(credit=account)).select_related("debit", "credit")


def signed_amount(transfer: Transfer, member_id: int) -> int:
    """+amount for points coming in, −amount for points going out."""
    return transfer.amount if transfer.credit.member_id == member_id else -transfer.amount


def receipt_claims(*, status: str | None = None, store_id: int | None = None):
    qs = ReceiptClaim.objects.select_related("member", "store")
    if status:
        qs = qs.filter(status=status)
    if store_id:
        qs = qs.filter(store_id=store_id)
    return qs


def gift_catalogue(*, store_id: int | None = None):
    qs = GiftOffer.objects.filter(is_active=True, level__is_active=True, level__programme__is_active=True)
    if store_id:
        qs = qs.filter(store_id=store_id)
    return qs.select_related("level", "gift", "store").order_by("store_id", "level__points", "gift__code")


def points_lots_check(member_ids: list[int] | None = None) -> list[tuple[int, int, int]]:
    """(member, account balance, sum of lots' remaining) for every member where they differ —
    the invariant kept by every points movement. Empty list = consistent."""
    accounts = Account.objects.filter(kind=Account.Kind.POINTS)
    if member_ids is not None:
        accounts = accounts.filter(member_id__in=member_ids)
    balances = dict(accounts.values_list("member_id", "balance"))
    lots = PointsLot.objects.all()
    if member_ids is not None:
        lots = lots.filter(member_id__in=member_ids)
    sums = dict(lots.values("member_id").annotate(s=Sum("remaining")).values_list("member_id", "s"))
    return [
        (m, balances.get(m, 0), sums.get(m, 0) or 0)
        for m in sorted(set(balances) | set(sums))
        if balances.get(m, 0) != (sums.get(m, 0) or 0)
    ]
