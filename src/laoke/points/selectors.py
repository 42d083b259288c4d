"""Reads of the points app: balance, lots, history, claims, catalogue, and the lot invariant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from laoke.catalog.models import GiftStock
from laoke.core import clock
from laoke.core.money import apply_bp
from laoke.ledger.models import Account, Transfer
from laoke.members.models import Member

from .lots import fifo_order, spendable_lots
from .models import GiftOffer, GiftRedemption, PointsLot, PointsProgramme, ReceiptClaim
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


def members_with_points(at_least: int):
    """Members holding at least ``at_least`` points (SPEC 3 privileges, e.g. the member-day lottery
    at ≥ 5,000 points, story 3)."""
    return Member.objects.filter(
        status=Member.Status.ACTIVE,
        accounts__kind=Account.Kind.POINTS,
        accounts__balance__gte=at_least,
    )


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


def gift_catalogue(*, store_id: int | None = None, missing_stock: bool = False):
    """Active offers with the store's stock of each gift (``stock``). ``missing_stock``: only
    offers with none in stock (seed 002: gifts must be in place before the redemption days)."""
    stock = GiftStock.objects.filter(gift=OuterRef("gift"), store=OuterRef("store")).values("quantity")[:1]
    qs = GiftOffer.objects.filter(
        is_active=True, level__is_active=True, level__programme__is_active=True
    ).annotate(stock=Coalesce(Subquery(stock), 0))
    if store_id:
        qs = qs.filter(store_id=store_id)
    if missing_stock:
        qs = qs.filter(stock=0)
    return qs.select_related("level", "gift", "store").order_by("store_id", "level__points", "gift__code")


@dataclass
class GiftBudget:
    sales_fen: int
    budget_bp: int
    budget_fen: int
    spent_fen: int
    redemptions: int

    @property
    def left_fen(self) -> int:
        return self.budget_fen - self.spent_fen


def gift_budget(
    *, sales_fen: int, since: datetime, until: datetime, store_id: int | None = None
) -> GiftBudget:
    """The gift budget of a period as a share of its sales (preset 0.6 %, seed 002) next to the
    cost of the gifts redeemed in it (cancelled redemptions do not count)."""
    programme = PointsProgramme.objects.filter(is_active=True).first()
    bp = programme.gift_budget_bp if programme else 0
    qs = GiftRedemption.objects.filter(
        status=GiftRedemption.Status.DONE, redeemed_at__gte=since, redeemed_at__lt=until
    )
    if store_id:
        qs = qs.filter(store_id=store_id)
    agg = qs.aggregate(cost=Sum("gift__unit_cost_fen"), n=Count("id"))
    return GiftBudget(sales_fen, bp, apply_bp(sales_fen, bp), agg["cost"] or 0, agg["n"])


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
