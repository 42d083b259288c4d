"""补积分 (S3): a member claims the points of a purchase later, by receipt or order number.

pending → approved (the points are earned as of the purchase: its member day and campaign rules
apply, the lot starts now) or rejected. Once per receipt: a partial unique index on (store,
receipt_no) over claims that are not rejected — a rejected claim does not block a corrected one,
two pending or approved ones cannot exist even when submitted at the same instant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.members.models import Member

from . import lots
from .earning import _check_member, _points_earn
from .error_codes import (
    POINTS_CLAIM_DECIDED,
    POINTS_CLAIM_DUPLICATE,
    POINTS_CLAIM_FUTURE,
    POINTS_CLAIM_TOO_OLD,
    POINTS_LINE_INVALID,
    POINTS_SETTING_INVALID,
)
from .models import PointsLot, ReceiptClaim
from .programme import active_programme
from .rules import EarnLine


def receipt_claim_submit(
    *,
    member: Member,
    store: Store,
    receipt_no: str,
    paid_fen: int,
    purchased_at: datetime,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> ReceiptClaim:
    receipt_no = receipt_no.strip() if isinstance(receipt_no, str) else ""
    if not receipt_no or len(receipt_no) > 64 or not receipt_no.isprintable():
        raise DomainError(POINTS_SETTING_INVALID, field="receipt_no")
    if isinstance(paid_fen, bool) or not isinstance(paid_fen, int) or not 0 < paid_fen <= 10**12:
        raise DomainError(POINTS_LINE_INVALID, field="paid_fen", ref=receipt_no, why="paid_fen")
    if not isinstance(purchased_at, datetime) or purchased_at.tzinfo is None:
        raise DomainError(POINTS_SETTING_INVALID, field="purchased_at")
    now = clock.now()
    if purchased_at > now:
        raise DomainError(POINTS_CLAIM_FUTURE, field="purchased_at")
    with transaction.atomic(durable=True):
        _check_member(member)
        programme = active_programme()
        if purchased_at < now - timedelta(days=programme.claim_days):
            raise DomainError(POINTS_CLAIM_TOO_OLD, field="purchased_at", days=programme.claim_days)
        taken = ReceiptClaim.objects.filter(store=store, receipt_no=receipt_no).exclude(
            status=ReceiptClaim.Status.REJECTED
        )
        if taken.exists():
            raise DomainError(POINTS_CLAIM_DUPLICATE, field="receipt_no")
        try:
            with transaction.atomic():
                claim = ReceiptClaim.objects.create(
                    member=member,
                    store=store,
                    receipt_no=receipt_no,
                    paid_fen=paid_fen,
                    purchased_at=purchased_at,
                    submitted_at=now,
                )
        except IntegrityError as exc:  # the same receipt submitted concurrently
            raise DomainError(POINTS_CLAIM_DUPLICATE, field="receipt_no") from exc
        audit_write(
            action="points.claim.submit",
            obj=claim,
            after={"store": store.code, "receipt_no": receipt_no, "paid_fen": paid_fen},
            actor=actor,
        )
        idempotency.complete(idem, claim)
    return claim


def receipt_claim_decide(
    *, claim_id: int, approve: bool, note: str = "", actor=None, idem: idempotency.Claim | None = None
) -> ReceiptClaim:
    if not isinstance(approve, bool):
        raise DomainError(POINTS_SETTING_INVALID, field="approve")
    if not isinstance(note, str) or len(note) > 200:
        raise DomainError(POINTS_SETTING_INVALID, field="note")
    with transaction.atomic(durable=True):
        claim = (
            ReceiptClaim.objects.select_for_update()
            .select_related("member", "store")
            .filter(pk=claim_id)
            .first()
        )
        if claim is None:
            raise DomainError(NOT_FOUND, field="claim_id")
        if claim.status != ReceiptClaim.Status.PENDING:
            raise DomainError(POINTS_CLAIM_DECIDED, status=claim.status)
        lots._lock_account(claim.member)
        before = lots._balance(claim.member)
        if approve:
            claim.earning = _points_earn(
                member=claim.member,
                key=f"claim:{claim.pk}",
                reference=f"receipt:{claim.store.code}:{claim.receipt_no}",
                lines=[EarnLine(ref="receipt", paid_fen=claim.paid_fen)],
                at=claim.purchased_at,
                kind=PointsLot.Kind.CLAIM,
            )
        claim.status = ReceiptClaim.Status.APPROVED if approve else ReceiptClaim.Status.REJECTED
        claim.decided_at = clock.now()
        claim.decided_by = actor if getattr(actor, "pk", None) else None
        claim.decision_note = note.strip()
        claim.save(update_fields=["status", "decided_at", "decided_by", "decision_note", "earning"])
        audit_write(
            action="points.claim.decide",
            obj=claim,
            before={"status": ReceiptClaim.Status.PENDING, "balance": before},
            after={
                "status": claim.status,
                "balance": lots._balance(claim.member),
                "points": claim.earning.points if claim.earning else 0,
                "note": note,
            },
            actor=actor,
        )
        idempotency.complete(idem, claim)
    return claim
