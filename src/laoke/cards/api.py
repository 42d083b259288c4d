"""REST endpoints of the cards app: /api/v1/cards/… (thin over services and selectors).

No response carries a PIN or a PIN hash; the only way to PINs is the batch file, downloaded once.
"""

from datetime import date, datetime

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from laoke.core.api import idempotent_write, paginate, require
from laoke.core.models import Store
from laoke.members.models import GroupAccount
from laoke.members.selectors import member_visible_queryset

from . import selectors, services
from .models import Card, CardKind, WalletPolicy
from .pins import pin_fingerprint

router = Router(tags=["cards"])


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class BatchIn(Schema):
    face_value_fen: int = Field(..., gt=0, le=10**9)
    count: int = Field(..., ge=1, le=100_000)
    kind: CardKind = CardKind.NORMAL
    sale_price_fen: int | None = Field(None, ge=0, le=10**9)
    store_id: int | None = None
    expires_on: date | None = None
    buyer_member_id: int | None = None
    buyer_group_id: int | None = None
    buyer_company: str = Field("", max_length=200)
    purpose: str = Field("", max_length=200)


class BatchOut(Schema):
    id: int
    code: str
    kind: str
    face_value_fen: int
    sale_price_fen: int
    count: int
    generated_count: int
    percent: float
    state: str
    store_id: int | None
    expires_on: date | None
    buyer_company: str
    purpose: str
    created_at: datetime
    finished_at: datetime | None
    downloaded_at: datetime | None
    error: str


def _owners(request, member_id: int | None, group_id: int | None):
    """The member (under the viewer's object rule) and the group account a request names; 404 if
    a named one is not there for this viewer."""
    member = get_object_or_404(member_visible_queryset(request.user), pk=member_id) if member_id else None
    group = get_object_or_404(GroupAccount, pk=group_id) if group_id else None
    return member, group


@router.post(
    "/batches", response={201: BatchOut}, summary="Create a card batch (generated in the background)"
)
@require("cards.add_cardbatch", "value:write")
def batch_create(request, payload: BatchIn):
    store = get_object_or_404(Store, pk=payload.store_id) if payload.store_id else None
    member, group = _owners(request, payload.buyer_member_id, payload.buyer_group_id)

    def call(claim):
        return services.card_batch_create(
            face_value_fen=payload.face_value_fen,
            count=payload.count,
            kind=payload.kind,
            sale_price_fen=payload.sale_price_fen,
            store=store,
            expires_on=payload.expires_on,
            buyer_member=member,
            buyer_group=group,
            buyer_company=payload.buyer_company,
            purpose=payload.purpose,
            actor=request.user,
            idem=claim,
        )

    def render(batch):
        return 201, BatchOut(**selectors.batch_progress(batch)).dict()

    return idempotent_write(
        request, scope="cards.batch_create", payload=payload.dict(), call=call, render=render
    )


@router.get("/batches/{int:batch_id}", response=BatchOut, summary="A batch and its generation progress")
@require("cards.view_cardbatch", "value:read")
def batch_status(request, batch_id: int):
    return selectors.batch_progress(selectors.batch_get(batch_id))


@router.post("/batches/{int:batch_id}/download", summary="The batch's PIN file (xlsx), once; then it is gone")
@require("cards.download_cardbatch", "value:write")
def batch_download(request, batch_id: int):
    name, data = services.card_batch_download(batch_id=batch_id, actor=request.user)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class RangeIn(Schema):
    first_serial: int
    last_serial: int
    member_id: int | None = None
    group_account_id: int | None = None
    buyer_company: str = Field("", max_length=200)
    purpose: str = Field("", max_length=200)


class CountOut(Schema):
    count: int


@router.post(
    "/batches/{int:batch_id}/activate",
    response={200: CountOut},
    summary="Sell (activate) a serial range of a batch (accepts Idempotency-Key)",
)
@require("cards.activate_card", "value:write")
def batch_activate(request, batch_id: int, payload: RangeIn):
    batch = selectors.batch_get(batch_id)
    member, group = _owners(request, payload.member_id, payload.group_account_id)

    def call(claim):
        return services.card_activate(
            batch=batch,
            first_serial=payload.first_serial,
            last_serial=payload.last_serial,
            member=member,
            group_account=group,
            buyer_company=payload.buyer_company,
            purpose=payload.purpose,
            actor=request.user,
            idem=claim,
        )

    return idempotent_write(
        request,
        scope="cards.activate",
        payload={"batch": batch_id, **payload.dict()},
        call=call,
        render=lambda n: (200, {"count": n}),
    )


class CancelIn(Schema):
    first_serial: int
    last_serial: int
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/batches/{int:batch_id}/cancel", response=CountOut, summary="Cancel a range of unredeemed cards"
)
@require("cards.cancel_card", "value:write")
def batch_cancel(request, batch_id: int, payload: CancelIn):
    batch = selectors.batch_get(batch_id)
    n = services.card_cancel(
        batch=batch,
        first_serial=payload.first_serial,
        last_serial=payload.last_serial,
        reason=payload.reason,
        actor=request.user,
    )
    return {"count": n}


class CardOut(Schema):
    id: int
    number: str
    batch_id: int
    serial: int
    kind: str
    face_value_fen: int
    sale_price_fen: int
    state: str
    expires_on: date | None
    locked: bool
    failed_pin_count: int
    activated_at: datetime | None
    redeemed_at: datetime | None
    redeemed_member_id: int | None
    redeemed_group_id: int | None
    redeemed_channel: str
    cancelled_at: datetime | None
    expired_at: datetime | None


@router.get("/cards/{number}", response=CardOut, summary="A card's state (never its PIN)")
@require("cards.view_card", "value:read")
def card_status(request, number: str):
    return selectors.card_status(number)


class UnlockIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/cards/{number}/unlock", response=CardOut, summary="Unlock a card locked by wrong PINs (audited)"
)
@require("cards.unlock_card", "value:write")
def card_unlock(request, number: str, payload: UnlockIn):
    card = get_object_or_404(Card, number=number)
    services.card_unlock(card_id=card.pk, reason=payload.reason, actor=request.user)
    return selectors.card_status(number)


class RechargeIn(Schema):
    number: str = Field(..., min_length=1, max_length=32)
    pin: str = Field(..., min_length=1, max_length=32)
    member_id: int | None = None
    group_account_id: int | None = None
    channel: Card.Channel = Card.Channel.API


class RechargeOut(Schema):
    number: str
    amount_fen: int
    member_id: int | None
    group_account_id: int | None
    channel: str
    redeemed_at: datetime
    balance_fen: int


@router.post(
    "/recharge",
    response={200: RechargeOut},
    summary="Recharge a wallet with a card number and PIN (Idempotency-Key required)",
)
@require("cards.recharge_card", "value:write")
def recharge(request, payload: RechargeIn):
    member, group = _owners(request, payload.member_id, payload.group_account_id)

    def call(claim):
        return services.card_recharge(
            number=payload.number,
            pin=payload.pin,
            member=member,
            group_account=group,
            channel=payload.channel,
            ip=_client_ip(request),
            actor=request.user,
            idem=claim,
        )

    def render(card):
        summary = selectors.wallet_summary(member=member, group_account=group)
        return 200, {
            "number": card.number,
            "amount_fen": card.face_value_fen,
            "member_id": card.redeemed_member_id,
            "group_account_id": card.redeemed_group_id,
            "channel": card.redeemed_channel,
            "redeemed_at": card.redeemed_at.isoformat(),
            "balance_fen": summary["balance_fen"],
        }

    # The request hash never sees the PIN itself, only a keyed fingerprint.
    body = {**payload.dict(), "pin": pin_fingerprint(payload.pin)}
    return idempotent_write(
        request, scope="cards.recharge", payload=body, call=call, render=render, required=True
    )


class WalletOut(Schema):
    member_id: int
    balance_fen: int
    closed: bool


class MovementOut(Schema):
    id: int
    at: datetime
    amount_fen: int
    reason: str
    reference: str


class HistoryPage(Schema):
    items: list[MovementOut]
    next_cursor: str | None


@router.get("/wallets/{int:member_id}", response=WalletOut, summary="A member's stored-value balance")
@require("cards.view_wallet", "value:read")
def wallet_balance(request, member_id: int):
    member = get_object_or_404(member_visible_queryset(request.user), pk=member_id)
    summary = selectors.wallet_summary(member=member)
    return {"member_id": member.pk, "balance_fen": summary["balance_fen"], "closed": summary["closed"]}


@router.get(
    "/wallets/{int:member_id}/history",
    response=HistoryPage,
    summary="A member's wallet movements, newest first",
)
@require("cards.view_wallet", "value:read")
def wallet_history(request, member_id: int, cursor: str | None = None, limit: int = 50):
    member = get_object_or_404(member_visible_queryset(request.user), pk=member_id)
    account = selectors.wallet_summary(member=member)["account"]
    if account is None:
        return {"items": [], "next_cursor": None}
    items, nxt = paginate(selectors.wallet_history(account), cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": t.pk,
                "at": t.created_at,
                "amount_fen": t.amount if t.credit_id == account.pk else -t.amount,
                "reason": t.reason,
                "reference": t.reference,
            }
            for t in items
        ],
        "next_cursor": nxt,
    }


class CloseIn(Schema):
    confirm_name: str = Field(..., max_length=60)
    confirm_mobile: str = Field(..., max_length=20)
    confirm_account: str = Field(..., max_length=20)
    policy: WalletPolicy.ClosePolicy
    confirmed_via: str = Field(..., max_length=16)
    note: str = Field("", max_length=200)


class CloseOut(Schema):
    member_id: int
    balance_fen: int
    policy: str
    confirmed_via: str
    closed_at: datetime


@router.post(
    "/wallets/{int:member_id}/close",
    response={201: CloseOut},
    summary="销卡: close a member's stored value after confirmation (Idempotency-Key required)",
)
@require("cards.close_wallet", "value:write")
def wallet_close(request, member_id: int, payload: CloseIn):
    member = get_object_or_404(member_visible_queryset(request.user), pk=member_id)

    def call(claim):
        return services.wallet_close(
            member=member,
            confirm_name=payload.confirm_name,
            confirm_mobile=payload.confirm_mobile,
            confirm_account=payload.confirm_account,
            policy=payload.policy,
            confirmed_via=payload.confirmed_via,
            note=payload.note,
            actor=request.user,
            idem=claim,
        )

    def render(closure):
        return 201, {
            "member_id": closure.member_id,
            "balance_fen": closure.balance_fen,
            "policy": closure.policy,
            "confirmed_via": closure.confirmed_via,
            "closed_at": closure.closed_at.isoformat(),
        }

    return idempotent_write(
        request,
        scope="cards.wallet_close",
        payload={"member": member_id, **payload.dict()},
        call=call,
        render=render,
        required=True,
    )
