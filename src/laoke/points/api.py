"""REST endpoints of the points app under /api/v1/points (thin over services and selectors).

Writes that move points (adjustments, sign-in, migration, redemption, approving a claim) require
an Idempotency-Key; the others accept one. A member is looked up with the members object rule
(staff without ``members.see_group_members`` do not see group members).
"""

from datetime import datetime
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from laoke.core.api import idempotent_write, paginate, require
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.members.models import Member
from laoke.members.selectors import member_visible_queryset

from . import rules, selectors, services
from .models import GiftOffer, GiftRedemption, PointsMigrationEntry, PointsProgramme, ReceiptClaim, SignIn
from .programme import active_programme
from .rules import EarnLine

router = Router(tags=["points"])

READ, WRITE = "value:read", "value:write"


def _member(request, member_id: int) -> Member:
    member = member_visible_queryset(request.user).filter(pk=member_id).first()
    if member is None:
        raise DomainError(NOT_FOUND, field="member_id")
    return member


# --- programme ------------------------------------------------------------------------------------


class ProgrammeOut(Schema):
    code: str
    name: str
    points_per_yuan: int
    rounding: str
    expiry_months: int | None
    reminder_days: int
    allow_negative: bool
    window_start_day: int | None
    window_end_day: int | None
    gift_budget_bp: int
    permanent_points: int | None
    claim_days: int
    signin_points: int
    signin_streak_bonus: dict[str, int]


class ProgrammePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    points_per_yuan: int | None = Field(None, ge=1, le=1000)
    rounding: Literal["down", "half_up"] | None = None
    expiry_months: int | None = Field(None, ge=1, le=120)
    reminder_days: int | None = Field(None, ge=0, le=365)
    allow_negative: bool | None = None
    window_start_day: int | None = Field(None, ge=1, le=31)
    window_end_day: int | None = Field(None, ge=1, le=31)
    gift_budget_bp: int | None = Field(None, ge=0, le=10_000)
    permanent_points: int | None = Field(None, ge=1)
    claim_days: int | None = Field(None, ge=1, le=3650)
    signin_points: int | None = Field(None, ge=0, le=10_000)
    signin_streak_bonus: dict[str, int] | None = None


@router.get("/programme", response=ProgrammeOut, summary="The active points programme")
@require("points.view_pointsprogramme", READ)
def programme_read(request):
    return active_programme()


# Fields that may be set to null (switched off) by sending null explicitly.
_NULLABLE = {"expiry_months", "window_start_day", "window_end_day", "permanent_points"}


@router.patch("/programme", response=ProgrammeOut, summary="Change the programme (accepts Idempotency-Key)")
@require("points.change_pointsprogramme", WRITE)
def programme_patch(request, payload: ProgrammePatch):
    data = payload.dict(exclude_unset=True)
    for key in [k for k, v in data.items() if v is None and k not in _NULLABLE]:
        data.pop(key)

    def call(claim):
        return services.programme_update(data=data, actor=request.user, idem=claim)

    def render(p: PointsProgramme):
        return 200, ProgrammeOut.from_orm(p).model_dump(mode="json")

    return idempotent_write(request, scope="points.programme", payload=data, call=call, render=render)


# --- quote (how many points a purchase would earn, and why) --------------------------------------


class QuoteLineIn(Schema):
    ref: str = Field(..., min_length=1, max_length=64)
    paid_fen: int = Field(..., ge=0, le=10**12)
    category_id: int | None = None
    special_sale: bool = False


class QuoteIn(Schema):
    member_id: int | None = None
    lines: list[QuoteLineIn] = Field(..., min_length=1, max_length=500)
    campaign: str = Field("", max_length=32)


class QuoteLineOut(Schema):
    ref: str
    paid_fen: int
    base: int
    multiplier_bp: int
    points: int
    text: str


class QuoteOut(Schema):
    points: int
    lines: list[QuoteLineOut]
    text: str


@router.post(
    "/quote", response=QuoteOut, summary="Points a purchase would earn, line by line, with the reasons"
)
@require("points.view_pointsprogramme", READ)
def quote(request, payload: QuoteIn):
    member = _member(request, payload.member_id) if payload.member_id else None
    lines = [EarnLine(**line.dict()) for line in payload.lines]
    q = rules.quote(programme=active_programme(), lines=lines, member=member, campaign=payload.campaign)
    return {
        "points": q.points,
        "lines": [{**r.as_dict(), "text": r.text()} for r in q.lines],
        "text": q.text(),
    }


# --- balance, lots, history -----------------------------------------------------------------------


class BalanceOut(Schema):
    member_id: int
    balance: int
    available: int
    expiring: int
    first_expiry: datetime | None
    is_permanent: bool


@router.get("/members/{int:member_id}/balance", response=BalanceOut, summary="A member's points")
@require("points.view_pointslot", READ)
def balance(request, member_id: int):
    return selectors.points_balance(member=_member(request, member_id))


class LotOut(Schema):
    id: int
    kind: str
    amount: int
    remaining: int
    expired: int
    earned_at: datetime
    expires_at: datetime | None


@router.get("/members/{int:member_id}/lots", response=list[LotOut], summary="A member's lots, oldest-first")
@require("points.view_pointslot", READ)
def lots(request, member_id: int, open_only: bool = False):
    return list(selectors.member_lots(member=_member(request, member_id), open_only=open_only))


class MoveOut(Schema):
    id: int
    at: datetime
    points: int
    reason: str
    reference: str


class HistoryPage(Schema):
    items: list[MoveOut]
    next_cursor: str | None


@router.get(
    "/members/{int:member_id}/history", response=HistoryPage, summary="Points movements, newest first"
)
@require("points.view_pointslot", READ)
def history(request, member_id: int, cursor: str | None = None, limit: int = 50):
    member = _member(request, member_id)
    rows, nxt = paginate(selectors.points_history(member=member), cursor=cursor, limit=limit)
    items = [
        {
            "id": t.pk,
            "at": t.created_at,
            "points": selectors.signed_amount(t, member.pk),
            "reason": t.reason,
            "reference": t.reference,
        }
        for t in rows
    ]
    return {"items": items, "next_cursor": nxt}


# --- adjustments, sign-in, migration --------------------------------------------------------------


class AdjustIn(Schema):
    points: int = Field(..., ge=-(10**9), le=10**9)
    reason: str = Field(..., min_length=1, max_length=200)


class AdjustOut(Schema):
    member_id: int
    points: int
    balance: int


@router.post(
    "/members/{int:member_id}/adjustments",
    response={201: AdjustOut},
    summary="Add or take away points by hand, with a reason (Idempotency-Key required)",
)
@require("points.adjust_points", WRITE)
def adjust(request, member_id: int, payload: AdjustIn):
    member = _member(request, member_id)
    key = request.headers.get("Idempotency-Key", "")

    def call(claim):
        return services.points_adjust(
            member=member,
            points=payload.points,
            reason=payload.reason,
            key=f"api:{request.user.pk}:{key}",
            actor=request.user,
            idem=claim,
        )

    def render(_result):
        bal = selectors.points_balance(member=member).balance
        return 201, {"member_id": member.pk, "points": payload.points, "balance": bal}

    return idempotent_write(
        request,
        scope="points.adjust",
        payload={"m": member_id, **payload.dict()},
        call=call,
        render=render,
        required=True,
    )


class SignInOut(Schema):
    day: str
    streak: int
    points: int
    bonus: int


@router.post(
    "/members/{int:member_id}/sign-in",
    response={201: SignInOut},
    summary="Daily sign-in (签到) (Idempotency-Key required)",
)
@require("points.sign_in_member", WRITE)
def sign_in(request, member_id: int):
    member = _member(request, member_id)

    def call(claim):
        return services.points_sign_in(member=member, actor=request.user, idem=claim)

    def render(s: SignIn):
        return 201, {"day": s.day.isoformat(), "streak": s.streak, "points": s.points, "bonus": s.bonus}

    return idempotent_write(
        request, scope="points.signin", payload={"m": member_id}, call=call, render=render, required=True
    )


class MigrateIn(Schema):
    code: str = Field(..., min_length=1, max_length=32)
    mode: Literal["convert", "reset"]
    old_points: int = Field(..., ge=0, le=10**12)
    ratio_old: int = Field(10, ge=1, le=10**6)
    ratio_new: int = Field(1, ge=0, le=10**6)


class MigrateOut(Schema):
    member_id: int
    old_points: int
    new_points: int


@router.post(
    "/members/{int:member_id}/migration",
    response={201: MigrateOut},
    summary="Bring old-programme points over: convert (10:1) or reset, once per member (Idempotency-Key required)",
)
@require("points.migrate_points", WRITE)
def migrate(request, member_id: int, payload: MigrateIn):
    member = _member(request, member_id)

    def call(claim):
        return services.points_migrate(member=member, actor=request.user, idem=claim, **payload.dict())

    def render(e: PointsMigrationEntry):
        return 201, {"member_id": e.member_id, "old_points": e.old_points, "new_points": e.new_points}

    return idempotent_write(
        request,
        scope="points.migrate",
        payload={"m": member_id, **payload.dict()},
        call=call,
        render=render,
        required=True,
    )


# --- gift catalogue and redemption ----------------------------------------------------------------


class OfferOut(Schema):
    id: int
    store_code: str
    level_points: int
    level_name: str
    gift_code: str
    gift_name: str
    stock: int


@router.get("/gift-offers", response=list[OfferOut], summary="The gift catalogue (per store)")
@require("points.view_giftoffer", READ)
def gift_offers(request, store_id: int | None = None, missing_stock: bool = False):
    return [
        {
            "id": o.pk,
            "store_code": o.store.code,
            "level_points": o.level.points,
            "level_name": o.level.name,
            "gift_code": o.gift.code,
            "gift_name": o.gift.name,
            "stock": o.stock,
        }
        for o in selectors.gift_catalogue(store_id=store_id, missing_stock=missing_stock)
    ]


class RedeemIn(Schema):
    member_id: int
    offer_id: int
    outside_window: bool = False


class RedemptionOut(Schema):
    id: int
    member_id: int
    offer_id: int
    points: int
    outside_window: bool
    made_permanent: bool
    redeemed_at: datetime


@router.post(
    "/redemptions",
    response={201: RedemptionOut},
    summary="Redeem a gift for points (Idempotency-Key required)",
)
@require("points.add_giftredemption", WRITE)
def redeem(request, payload: RedeemIn):
    member = _member(request, payload.member_id)
    offer = get_object_or_404(GiftOffer, pk=payload.offer_id)
    key = request.headers.get("Idempotency-Key", "")

    def call(claim):
        return services.gift_redeem(
            member=member,
            offer=offer,
            key=f"api:{request.user.pk}:{key}",
            actor=request.user,
            outside_window=payload.outside_window,
            idem=claim,
        )

    def render(r):
        return 201, RedemptionOut.from_orm(r).model_dump(mode="json")

    return idempotent_write(
        request, scope="points.redeem", payload=payload.dict(), call=call, render=render, required=True
    )


class CancelIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/redemptions/{int:redemption_id}/cancel",
    response=RedemptionOut,
    summary="Cancel a redemption: points and stock go back (Idempotency-Key required)",
)
@require("points.cancel_giftredemption", WRITE)
def redemption_cancel(request, redemption_id: int, payload: CancelIn):
    row = get_object_or_404(GiftRedemption, pk=redemption_id)
    _member(request, row.member_id)

    def call(claim):
        return services.gift_redemption_cancel(
            redemption_id=redemption_id, reason=payload.reason, actor=request.user, idem=claim
        )

    def render(r):
        return 200, RedemptionOut.from_orm(r).model_dump(mode="json")

    return idempotent_write(
        request,
        scope="points.redeem.cancel",
        payload={"id": redemption_id, **payload.dict()},
        call=call,
        render=render,
        required=True,
    )


# --- receipt claims ---------------------------------------------------------------------------------


class ClaimIn(Schema):
    member_id: int
    store_id: int
    receipt_no: str = Field(..., min_length=1, max_length=64)
    paid_fen: int = Field(..., gt=0, le=10**12)
    purchased_at: datetime


class ClaimOut(Schema):
    id: int
    member_id: int
    store_id: int
    receipt_no: str
    paid_fen: int
    purchased_at: datetime
    status: str
    points: int | None
    decision_note: str


def _claim_out(c: ReceiptClaim) -> dict:
    return {
        "id": c.pk,
        "member_id": c.member_id,
        "store_id": c.store_id,
        "receipt_no": c.receipt_no,
        "paid_fen": c.paid_fen,
        "purchased_at": c.purchased_at,
        "status": c.status,
        "points": c.earning.points if c.earning_id else None,
        "decision_note": c.decision_note,
    }


class ClaimPage(Schema):
    items: list[ClaimOut]
    next_cursor: str | None


@router.get("/claims", response=ClaimPage, summary="Receipt claims (补积分)")
@require("points.view_receiptclaim", READ)
def claims(
    request,
    status: Literal["pending", "approved", "rejected"] | None = None,
    store_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    qs = selectors.receipt_claims(status=status, store_id=store_id).filter(
        member__in=member_visible_queryset(request.user)
    )
    rows, nxt = paginate(qs.select_related("earning"), cursor=cursor, limit=limit)
    return {"items": [_claim_out(c) for c in rows], "next_cursor": nxt}


@router.post(
    "/claims", response={201: ClaimOut}, summary="Claim the points of a receipt (accepts Idempotency-Key)"
)
@require("points.add_receiptclaim", WRITE)
def claim_submit(request, payload: ClaimIn):
    member = _member(request, payload.member_id)
    store = get_object_or_404(Store, pk=payload.store_id)
    body = payload.dict()

    def call(claim):
        return services.receipt_claim_submit(
            member=member,
            store=store,
            receipt_no=payload.receipt_no,
            paid_fen=payload.paid_fen,
            purchased_at=payload.purchased_at,
            actor=request.user,
            idem=claim,
        )

    def render(c):
        return 201, ClaimOut(**_claim_out(c)).model_dump(mode="json")

    return idempotent_write(request, scope="points.claim", payload=body, call=call, render=render)


class DecideIn(Schema):
    approve: bool
    note: str = Field("", max_length=200)


@router.post(
    "/claims/{int:claim_id}/decide",
    response=ClaimOut,
    summary="Approve (points credited) or reject a claim (Idempotency-Key required)",
)
@require("points.decide_receiptclaim", WRITE)
def claim_decide(request, claim_id: int, payload: DecideIn):
    claim_row = get_object_or_404(ReceiptClaim, pk=claim_id)
    _member(request, claim_row.member_id)

    def call(claim):
        return services.receipt_claim_decide(
            claim_id=claim_id, approve=payload.approve, note=payload.note, actor=request.user, idem=claim
        )

    def render(c):
        return 200, ClaimOut(**_claim_out(c)).model_dump(mode="json")

    return idempotent_write(
        request,
        scope="points.claim.decide",
        payload={"id": claim_id, **payload.dict()},
        call=call,
        render=render,
        required=True,
    )
