"""/api/v1/me reads: each filters by the session's member (``request.member``), never by an id
the caller gives; a path id of another member's object is 404."""

from django.http import Http404
from ninja import Query, Schema

from laoke.core import clock
from laoke.ledger.models import Account
from laoke.ledger.selectors import account_transfers
from laoke.points.models import PointsLot
from laoke.points.selectors import points_balance, points_history, signed_amount

from . import selectors
from .auth import router

PAGE = 20


class PageIn(Schema):
    cursor: str | None = None
    limit: int = PAGE


@router.get("/points", summary="Points balance, lots with their expiry, and movements")
def points(request, limit: int = PAGE):
    member = request.member
    b = points_balance(member=member)
    lots = [
        {
            "id": lot.pk,
            "kind": lot.kind,
            "amount": lot.amount,
            "remaining": lot.remaining,
            "earned_at": lot.earned_at,
            "expires_at": lot.expires_at,
        }
        for lot in PointsLot.objects.filter(member=member, remaining__gt=0).order_by("expires_at", "pk")[:100]
    ]
    moves = [
        {"id": t.pk, "at": t.created_at, "reason": t.reason, "amount": signed_amount(t, member.pk)}
        for t in points_history(member=member).order_by("-created_at", "-pk")[: min(max(limit, 1), 100)]
    ]
    return {
        "balance": b.balance,
        "available": b.available,
        "expiring": b.expiring,
        "first_expiry": b.first_expiry,
        "permanent": b.is_permanent,
        "lots": lots,
        "history": moves,
    }


@router.get("/coupons", summary="The member's coupons")
def coupons(request, state: str | None = None):
    from laoke.promotions.selectors import member_coupons

    rows = member_coupons(request.member, state=state or None).order_by("-issued_at", "-pk")[:100]
    return [
        {
            "code": c.code,
            "name": c.template.name,
            "kind": c.template.kind,
            "state": c.state,
            "threshold_fen": c.template.threshold_fen,
            "amount_off_fen": c.template.amount_off_fen,
            "rate_off_bp": c.template.rate_off_bp,
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
        }
        for c in rows
    ]


@router.get("/wallet", summary="Wallet (paid and bonus) and its movements")
def wallet(request, limit: int = PAGE):
    member = request.member
    accounts = {
        a.pk: a
        for a in Account.objects.filter(
            member=member, kind__in=[Account.Kind.WALLET, Account.Kind.WALLET_BONUS]
        )
    }
    moves = []
    for account in accounts.values():
        for t in account_transfers(account).order_by("-created_at", "-pk")[: min(max(limit, 1), 100)]:
            amount = t.amount if t.credit_id == account.pk else -t.amount
            moves.append(
                {
                    "id": t.pk,
                    "at": t.created_at,
                    "account": account.kind,
                    "reason": t.reason,
                    "amount": amount,
                }
            )
    moves.sort(key=lambda m: (m["at"], m["id"]), reverse=True)
    return {**selectors.balances(member), "history": moves[: min(max(limit, 1), 100)]}


@router.get("/history", summary="Activity: orders, points and wallet moves, gift redemptions (cursor)")
def history(request, q: Query[PageIn]):
    items, nxt = selectors.history(request.member, cursor=q.cursor, limit=q.limit)
    return {"items": items, "next_cursor": nxt}


@router.get("/agreement", summary="The current membership agreement and whether the member accepted it")
def agreement(request):
    return selectors.agreement_state(request.member)


@router.get("/referral", summary="The member's referral link and its QR code (SVG data URI)")
def referral(request):
    import segno

    from laoke.promotions.qr import public_url
    from laoke.referrals.selectors import member_referrals

    member = request.member
    link = f"{public_url()}/m/login/?ref={member.code}"
    qr = segno.make(link, error="m")
    return {
        "code": member.code,
        "link": link,
        "qr_svg": qr.svg_data_uri(scale=4),
        "referred": member_referrals(member).count(),
    }


@router.get("/gifts", summary="Gifts to redeem with points, and whether the redemption window is open")
def gifts(request, store_id: int | None = None):
    from laoke.points.gifts import in_window
    from laoke.points.models import PointsProgramme
    from laoke.points.selectors import gift_catalogue

    programme = PointsProgramme.objects.filter(is_active=True).first()
    open_now = bool(programme and in_window(programme))
    offers = [
        {
            "id": o.pk,
            "store_id": o.store_id,
            "store": o.store.name,
            "gift": o.gift.name,
            "points": o.level.points,
            "level": o.level.name,
            "in_stock": o.stock > 0,
        }
        for o in gift_catalogue(store_id=store_id)[:200]
    ]
    window = None
    if programme is not None and programme.window_start_day is not None:
        window = {"start_day": programme.window_start_day, "end_day": programme.window_end_day}
    return {
        "window_open": open_now,
        "window": window,
        "balance": points_balance(member=request.member).available,
        "today": clock.today(),
        "offers": offers,
    }


# --- recharge packages (payments) ------------------------------------------------------------------


def purchase_start_out(result) -> dict:
    # the service returns (purchase, url); its idempotency record renders the purchase alone
    purchase, pay_url = result if isinstance(result, tuple) else (result, result.redirect_url)
    return {"purchase_id": purchase.pk, "pay_url": pay_url}


def _purchase(p) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "price_fen": p.price_fen,
        "bonus_fen": p.bonus_fen,
        "provider": p.provider,
        "state": p.state,
        "created_at": p.created_at,
        "paid_at": p.paid_at,
    }


@router.get("/packages", summary="Recharge packages on sale (pay online, bonus credited)")
def packages(request):
    from laoke.payments.config import load
    from laoke.payments.models import RechargePackage
    from laoke.payments.services import package_available

    now = clock.now()
    rows = RechargePackage.objects.filter(active=True).order_by("sort", "price_fen", "pk")
    return {
        "providers": list(load().providers),
        "packages": [
            {"id": p.pk, "name": p.name, "price_fen": p.price_fen, "bonus_fen": p.bonus_fen}
            for p in rows
            if package_available(p, now)
        ],
    }


@router.get("/purchases/{int:purchase_id}", summary="One of the member's package purchases")
def purchase(request, purchase_id: int):
    from laoke.payments.models import PackagePurchase

    row = PackagePurchase.objects.filter(member=request.member, pk=purchase_id).first()
    if row is None:
        raise Http404
    return _purchase(row)


@router.get("/stores", summary="Stores (for a receipt claim)")
def stores(request):
    from laoke.core.models import Store

    return [{"id": s.pk, "code": s.code, "name": s.name} for s in Store.objects.order_by("code")[:500]]
