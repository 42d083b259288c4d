"""Earning, spending and refunds of points (settlement calls the ``_`` helpers in its own
transaction; the public forms are for callers without one).

Deterministic ledger keys: ``earn:{key}``, ``spend:{key}``, ``refund-earn:{key}``,
``refund-spend:{key}`` — a retried order, payment or refund moves nothing twice.

Refunds (SPEC 3) work on cumulative figures so that several partial refunds add up exactly to a
full one: after a line has ``refunded_fen`` of ``paid_fen`` refunded, the points due back for it
are ``half_up(points × refunded_fen / paid_fen)``; each refund takes the difference to what was
already due. Spent points are given back in the proportion of the whole order refunded, the same
way. Spent points are given back *first*, then earned points are taken back (from the lot of the
purchase first, then oldest-first): a member who spent the very points a refund takes back is
not pushed below zero needlessly. What the member no longer has is recorded as
``points_unrecovered`` (the programme does not allow negative balances) or goes onto the deficit
lot (it does); given-back points are never lost: they come back as a fresh lot with the
programme's current expiry.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Sum

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError
from laoke.core.money import half_up_div
from laoke.members.models import Member

from . import lots
from .error_codes import (
    POINTS_AMOUNT_INVALID,
    POINTS_KEY_REUSED,
    POINTS_LINE_INVALID,
    POINTS_MEMBER_INACTIVE,
    POINTS_REFUND_EXCEEDS,
)
from .models import PointsEarning, PointsEarningLine, PointsLot, PointsRefund, PointsSpend
from .programme import active_programme, expiry_for
from .rules import EarnLine, check_lines, quote


def _need_tx(name: str) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError(f"{name} needs the caller's transaction")


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > 140 or not key.isprintable():
        raise DomainError(POINTS_AMOUNT_INVALID, field="key")
    return key


def _check_member(member: Member) -> None:
    if member.status != Member.Status.ACTIVE:
        raise DomainError(POINTS_MEMBER_INACTIVE)


def _check_points(points, field: str = "points") -> int:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0 or points > 10**12:
        raise DomainError(POINTS_AMOUNT_INVALID, field=field)
    return points


def _points_earn(
    *,
    member: Member,
    key: str,
    reference: str,
    lines: list[EarnLine],
    at: datetime | None = None,
    campaign: str = "",
    kind: str = PointsLot.Kind.EARN,
) -> PointsEarning:
    """Record what a purchase earns and credit it as a lot. The earning row is kept even at 0
    points (its lines are what a later refund works from). Same key again → the first earning."""
    _need_tx("_points_earn")
    _check_key(key)
    check_lines(lines)
    existing = PointsEarning.objects.filter(key=key).first()
    if existing is not None:
        if existing.member_id != member.pk:
            raise DomainError(POINTS_KEY_REUSED, field="key")
        return existing
    _check_member(member)
    programme = active_programme()
    now = clock.now()
    at = at or now
    q = quote(programme=programme, lines=lines, member=member, at=at, campaign=campaign)
    earning = PointsEarning.objects.create(
        member=member,
        key=key,
        reference=reference[:128],
        points=q.points,
        campaign=campaign[:32],
        explanation=q.as_list(),
        created_at=now,
    )
    PointsEarningLine.objects.bulk_create(
        PointsEarningLine(earning=earning, ref=r.ref, paid_fen=r.paid_fen, points=r.points) for r in q.lines
    )
    if q.points > 0:
        credit = lots._credit(
            member=member,
            amount=q.points,
            key=f"earn:{key}",
            reason="points.earn",
            kind=kind,
            reference=reference,
            expires_at=expiry_for(programme, now),
            at=now,
        )
        earning.transfer, earning.lot = credit.transfer, credit.lot
        earning.save(update_fields=["transfer", "lot"])
    return earning


def points_earn(
    *,
    member: Member,
    key: str,
    reference: str,
    lines: list[EarnLine],
    at=None,
    campaign: str = "",
    actor=None,
) -> PointsEarning:
    with transaction.atomic(durable=True):
        lots._lock_account(member)
        before = lots._balance(member)
        earning = _points_earn(
            member=member, key=key, reference=reference, lines=lines, at=at, campaign=campaign
        )
        audit_write(
            action="points.earn",
            obj=earning,
            before={"balance": before},
            after={"key": key, "points": earning.points, "balance": lots._balance(member)},
            actor=actor,
        )
    return earning


def _points_spend(*, member: Member, key: str, reference: str, points: int) -> PointsSpend:
    """Pay with points (oldest lots first). Same key again → the first payment."""
    _need_tx("_points_spend")
    _check_key(key)
    _check_points(points)
    existing = PointsSpend.objects.filter(key=key).first()
    if existing is not None:
        if existing.member_id != member.pk or existing.points != points:
            raise DomainError(POINTS_KEY_REUSED, field="key")
        return existing
    _check_member(member)
    transfer, _new = lots._debit(
        member=member, amount=points, key=f"spend:{key}", reason="points.spend", reference=reference
    )
    return PointsSpend.objects.create(
        member=member,
        key=key,
        reference=reference[:128],
        points=points,
        transfer=transfer,
        created_at=clock.now(),
    )


def points_spend(*, member: Member, key: str, reference: str, points: int, actor=None) -> PointsSpend:
    with transaction.atomic(durable=True):
        lots._lock_account(member)
        before = lots._balance(member)
        spend = _points_spend(member=member, key=key, reference=reference, points=points)
        audit_write(
            action="points.spend",
            obj=spend,
            before={"balance": before},
            after={"key": key, "points": points, "balance": lots._balance(member)},
            actor=actor,
        )
    return spend


def _give_back_spent(
    spend: PointsSpend, *, fraction: tuple[int, int], key: str, programme, exact: int | None = None
) -> int:
    done, total = fraction
    if exact is not None:  # the caller's own split (settlement's refund_split) says how many
        give = min(exact, spend.points - spend.points_returned)
    else:
        due = half_up_div(spend.points * done, total) if total else 0
        give = due - spend.points_returned
    if give <= 0:
        return 0
    if (
        PointsSpend.objects.filter(pk=spend.pk, points_returned=spend.points_returned).update(
            points_returned=F("points_returned") + give
        )
        != 1
    ):
        raise RuntimeError("spend changed under the member lock")
    now = clock.now()
    lots._credit(
        member=spend.member,
        amount=give,
        key=f"refund-spend:{key}",
        reason="points.refund.return",
        kind=PointsLot.Kind.RETURN,
        reverses=spend.transfer,
        expires_at=expiry_for(programme, now),
        at=now,
    )
    return give


def _points_reverse(
    *, key: str, reference: str, refunds: dict[str, int], actor=None, spent_back: int | None = None
) -> PointsRefund:
    """A refund or return of part (or all) of the order ``reference`` inside the caller's
    transaction (settlement refunds the money in the same one): ``refunds`` maps each refunded
    line's ref to the fen refunded *now*. Spent points come back in the proportion of the order
    refunded, or exactly ``spent_back`` of them when the caller split them itself (settlement
    does, line by line; a line paid wholly with points then refunds 0 fen). Idempotent by ``key``."""
    _need_tx("_points_reverse")
    _check_key(key)
    if spent_back is not None and (
        isinstance(spent_back, bool) or not isinstance(spent_back, int) or spent_back < 0
    ):
        raise DomainError(POINTS_LINE_INVALID, field="spent_back", ref="", why="points")
    if not isinstance(refunds, dict) or not (refunds or spent_back):
        raise DomainError(POINTS_LINE_INVALID, field="refunds", ref="", why="empty")
    for ref, fen in refunds.items():
        if isinstance(fen, bool) or not isinstance(fen, int) or fen <= 0:
            raise DomainError(POINTS_LINE_INVALID, field="refunds", ref=str(ref)[:64], why="refunded fen")
    done = PointsRefund.objects.filter(key=key).first()
    if done is not None:
        if done.reference != reference:
            raise DomainError(POINTS_KEY_REUSED, field="key")
        return done
    earning = PointsEarning.objects.filter(reference=reference).order_by("pk").first()
    if earning is None:
        raise DomainError(POINTS_LINE_INVALID, field="reference", ref=reference[:64], why="no such order")
    member = earning.member
    lots._lock_account(member)  # one member's points operations run one after the other
    balance_before = lots._balance(member)
    programme = active_programme()
    lines = {ln.ref: ln for ln in earning.lines.select_for_update()}
    for ref, fen in refunds.items():
        line = lines.get(ref)
        if line is None:
            raise DomainError(POINTS_LINE_INVALID, field="refunds", ref=str(ref)[:64], why="unknown line")
        if line.refunded_fen + fen > line.paid_fen:
            raise DomainError(POINTS_REFUND_EXCEEDS, field="refunds", left=line.paid_fen - line.refunded_fen)
    due_now = 0
    refunded_now = 0
    for ref, fen in sorted(refunds.items()):
        line = lines[ref]
        total = line.refunded_fen + fen
        due = half_up_div(line.points * total, line.paid_fen) if line.paid_fen else 0
        due_now += due - line.points_due_back
        refunded_now += fen
        line.refunded_fen, line.points_due_back = total, due
        line.save(update_fields=["refunded_fen", "points_due_back"])
    order_paid = sum(ln.paid_fen for ln in lines.values())
    order_refunded = sum(ln.refunded_fen for ln in lines.values())
    refund = PointsRefund(
        member=member,
        key=key,
        reference=reference[:128],
        earning=earning,
        refunded_fen=refunded_now,
        points_due=due_now,
        created_at=clock.now(),
    )
    spend = PointsSpend.objects.select_for_update().filter(reference=reference, member=member).first()
    if spend is not None:
        refund.spend = spend
        refund.points_returned = _give_back_spent(
            spend, fraction=(order_refunded, order_paid), key=key, programme=programme, exact=spent_back
        )
    if due_now > 0:
        refund.points_reversed, refund.points_unrecovered = _take_back(
            earning, due_now, key=key, allow_negative=programme.allow_negative
        )
    refund.save()
    audit_write(
        action="points.refund",
        obj=refund,
        before={"balance": balance_before},
        after={
            "balance": lots._balance(member),
            "reference": reference,
            "refunded_fen": refunded_now,
            "points_reversed": refund.points_reversed,
            "points_unrecovered": refund.points_unrecovered,
            "points_returned": refund.points_returned,
        },
        actor=actor,
    )
    return refund


def points_reverse(
    *, key: str, reference: str, refunds: dict[str, int], actor=None, idem: idempotency.Claim | None = None
) -> PointsRefund:
    """Public form of :func:`_points_reverse` for callers without a transaction."""
    with transaction.atomic(durable=True):
        refund = _points_reverse(key=key, reference=reference, refunds=refunds, actor=actor)
        idempotency.complete(idem, refund)
    return refund


def _take_back(earning: PointsEarning, due: int, *, key: str, allow_negative: bool) -> tuple[int, int]:
    """(taken back, not recoverable). Takes from the purchase's own lot first."""
    member = earning.member
    have = lots.available(member)
    take = due if allow_negative else min(due, have)
    if take > 0:
        lots._debit(
            member=member,
            amount=take,
            key=f"refund-earn:{key}",
            reason="points.refund.reverse",
            allow_deficit=allow_negative,
            prefer_lot=earning.lot,
            reverses=earning.transfer,
        )
    PointsEarning.objects.filter(pk=earning.pk).update(points_reversed=F("points_reversed") + take)
    return take, due - take


def refunded_so_far(reference: str) -> int:
    return (
        PointsEarningLine.objects.filter(earning__reference=reference).aggregate(s=Sum("refunded_fen"))["s"]
        or 0
    )
