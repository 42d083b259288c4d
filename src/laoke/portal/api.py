"""/api/v1/me: the member's own data and actions (thin adapters over services and selectors).

Every query is filtered by the session's member (auth.py); an id in a path that is not the
member's is 404, the same answer as an id that does not exist.
"""

from datetime import datetime

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Schema, Status

from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.middleware import client_ip
from laoke.core.models import Store

from . import api_reads, selectors, services
from .auth import COOKIE, csrf_check, member_idem, router

__all__ = ["router"]


# --- login -----------------------------------------------------------------------------------------


class CodeIn(Schema):
    mobile: str = Field(max_length=40)


class LoginIn(Schema):
    mobile: str = Field(max_length=40)
    code: str = Field(max_length=12)
    accept_agreement: bool = False
    referrer: str = Field("", max_length=40)


class LoginOut(Schema):
    token: str
    expires_at: datetime
    member_id: int
    registered: bool


def _login_csrf(request) -> None:
    # Login and logout by the pages: same header rule (login CSRF would sign a victim in as us).
    if "Authorization" not in request.headers:
        csrf_check(request)


@router.post("/login/code", auth=None, response={202: dict}, summary="Send a one-time login code by SMS")
def login_code(request, payload: CodeIn):
    _login_csrf(request)
    row = services.login_code_request(mobile=payload.mobile, ip=client_ip(request))
    return Status(202, {"sent": True, "expires_at": row.expires_at.isoformat()})


@router.post(
    "/login", auth=None, response=LoginOut, summary="Sign in with the code (registers with the agreement)"
)
def login(request, payload: LoginIn, response: HttpResponse):
    _login_csrf(request)
    session, token, registered = services.member_login(
        mobile=payload.mobile,
        code=payload.code,
        accept_agreement=payload.accept_agreement,
        referrer=payload.referrer,
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    response.set_cookie(
        COOKIE,
        token,
        expires=session.expires_at,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),  # always Secure in production
        path="/",
    )
    return {
        "token": token,
        "expires_at": session.expires_at,
        "member_id": session.member_id,
        "registered": registered,
    }


@router.get("/login/agreement", auth=None, summary="The membership agreement a new member accepts")
def login_agreement(request):
    return selectors.agreement_state(None)


@router.post("/logout", response={204: None}, summary="End this session")
def logout(request, response: HttpResponse):
    services.member_logout(session=request.member_session)
    response.delete_cookie(COOKIE, path="/", samesite="Lax")
    return Status(204, None)


# --- the member's own data -------------------------------------------------------------------------


@router.get("", summary="Profile, wallet (paid + bonus), points, tier and progress, coupons")
def me(request):
    return selectors.summary(request.member)


# --- actions ---------------------------------------------------------------------------------------


class RechargeIn(Schema):
    card_no: str = Field(max_length=40)
    pin: str = Field(max_length=40)


@router.post("/recharge", summary="Recharge the wallet with a card number + PIN (Idempotency-Key required)")
def recharge(request, payload: RechargeIn):
    from laoke.cards.models import Card
    from laoke.cards.recharge import card_recharge

    member = request.member

    def call(claim):
        return card_recharge(
            number=payload.card_no,
            pin=payload.pin,
            member=member,
            channel=Card.Channel.H5,
            ip=client_ip(request),
            actor=services.actor_for(member),
            idem=claim,
        )

    def render(card):
        return 200, {"card_no": card.number, "amount_fen": card.face_value_fen, **selectors.balances(member)}

    # The PIN never enters the stored request hash in clear.
    fingerprint = {"card_no": payload.card_no, "pin": services.token_hash(payload.pin)}
    return member_idem(
        request, scope="recharge", payload=fingerprint, call=call, render=render, required=True
    )


class BuyIn(Schema):
    provider: str = Field(max_length=32)
    return_url: str = Field("", max_length=500)


@router.post(
    "/packages/{int:package_id}/buy",
    response={201: dict},
    summary="Buy a recharge package: start an online payment",
)
def package_buy(request, package_id: int, payload: BuyIn):
    from laoke.payments import services as pay

    member = request.member
    return_url = payload.return_url or request.build_absolute_uri("/m/result/")
    if not return_url.startswith(request.build_absolute_uri("/")):
        return_url = request.build_absolute_uri("/m/result/")  # no open redirect to another site

    def call(claim):
        return pay.package_purchase_start(
            member=member, package_id=package_id, provider=payload.provider, return_url=return_url, idem=claim
        )

    def render(result):
        return 201, api_reads.purchase_start_out(result)

    return member_idem(
        request,
        scope="package_buy",
        payload={"package": package_id, **payload.dict()},
        call=call,
        render=render,
    )


@router.post("/signin", response={201: dict}, summary="Daily sign-in (streak bonus points)")
def signin(request):
    from laoke.points.services import points_sign_in

    member = request.member

    def render(s):
        return 201, {"day": s.day.isoformat(), "streak": s.streak, "points": s.points, "bonus": s.bonus}

    return member_idem(
        request,
        scope="signin",
        payload={},
        call=lambda claim: points_sign_in(member=member, actor=services.actor_for(member), idem=claim),
        render=render,
    )


@router.post(
    "/gifts/{int:offer_id}/redeem",
    response={201: dict},
    summary="Redeem a gift for points (Idempotency-Key required)",
)
def gift_redeem(request, offer_id: int):
    from laoke.points.gifts import gift_redeem as redeem
    from laoke.points.models import GiftOffer

    member = request.member
    offer = get_object_or_404(GiftOffer, pk=offer_id, is_active=True)
    key = request.headers.get("Idempotency-Key") or ""

    def render(r):
        return 201, {"id": r.pk, "points": r.points, "status": r.status, "gift": r.gift.name}

    return member_idem(
        request,
        scope="gift_redeem",
        payload={"offer": offer_id},
        call=lambda claim: redeem(
            member=member,
            offer=offer,
            key=f"h5:{member.pk}:{key}",
            actor=services.actor_for(member),
            idem=claim,
        ),
        render=render,
        required=True,
    )


class ReceiptIn(Schema):
    store_id: int
    receipt_no: str = Field(max_length=64)
    paid_fen: int
    purchased_at: datetime


@router.post("/receipts", response={201: dict}, summary="Claim points for a receipt (reviewed by staff)")
def receipt_claim(request, payload: ReceiptIn):
    from laoke.points.claims import receipt_claim_submit

    member = request.member
    store = Store.objects.filter(pk=payload.store_id).first()
    if store is None:
        raise DomainError(NOT_FOUND, field="store_id")

    def render(c):
        return 201, {"id": c.pk, "status": c.status, "receipt_no": c.receipt_no, "paid_fen": c.paid_fen}

    return member_idem(
        request,
        scope="receipt",
        payload=payload.dict(),
        call=lambda claim: receipt_claim_submit(
            member=member,
            store=store,
            receipt_no=payload.receipt_no,
            paid_fen=payload.paid_fen,
            purchased_at=payload.purchased_at,
            actor=services.actor_for(member),
            idem=claim,
        ),
        render=render,
    )


class UnsubscribeIn(Schema):
    channel: str = Field(max_length=20)


@router.post("/unsubscribe", summary="Stop marketing messages on a channel")
def unsubscribe(request, payload: UnsubscribeIn):
    from laoke.members.models import Channel
    from laoke.members.services import member_unsubscribe

    from .error_codes import PORTAL_CHANNEL_INVALID

    if payload.channel not in Channel.values or payload.channel == "sensitive_pi":
        raise DomainError(PORTAL_CHANNEL_INVALID, field="channel")
    consent = member_unsubscribe(
        member_id=request.member.pk,
        channel=payload.channel,
        source="h5",
        actor=services.actor_for(request.member),
    )
    return {"channel": consent.channel, "state": consent.state}
