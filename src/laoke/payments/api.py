"""/api/v1/payments (staff; thin adapters over services and selectors): recharge packages
(admin/marketer write; service roles and cashiers read), purchases (read), refunds
(admin/service manager; Idempotency-Key required — it moves value)."""

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from ninja import Field, Router, Schema

from laoke.core.api import idempotent_write, paginate, require

from . import selectors, services
from .models import PackagePurchase

router = Router(tags=["payments"])
READ, WRITE = "value:read", "value:write"


class PackageIn(Schema):
    name: str = Field(..., max_length=60)
    price_fen: int = Field(..., gt=0, le=10**9)
    bonus_fen: int = Field(0, ge=0, le=10**9)
    active: bool = True
    sale_starts_at: datetime | None = None
    sale_ends_at: datetime | None = None
    per_member_limit: int | None = Field(None, ge=1)
    sort: int = 0


class PackagePatch(Schema):
    name: str | None = Field(None, max_length=60)
    price_fen: int | None = Field(None, gt=0, le=10**9)
    bonus_fen: int | None = Field(None, ge=0, le=10**9)
    active: bool | None = None
    sale_starts_at: datetime | None = None
    sale_ends_at: datetime | None = None
    per_member_limit: int | None = Field(None, ge=1)
    sort: int | None = None


class PackageOut(Schema):
    id: int
    name: str
    price_fen: int
    bonus_fen: int
    stored_value_fen: int
    active: bool
    on_sale: bool
    sale_starts_at: datetime | None
    sale_ends_at: datetime | None
    per_member_limit: int | None
    sort: int


class PurchaseOut(Schema):
    id: int
    member_id: int
    member_code: str
    package_id: int
    name: str
    price_fen: int
    bonus_fen: int
    provider: str
    out_trade_no: str
    provider_trade_no: str
    state: str
    created_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    refund_fen: int
    bonus_back_fen: int
    refunded_at: datetime | None
    last_error: str


class PurchasePage(Schema):
    items: list[PurchaseOut]
    next_cursor: str | None


class NotificationOut(Schema):
    id: int
    provider: str
    received_at: datetime
    verified: bool
    result: str
    amount_fen: int | None
    detail: str
    body: str


class RefundIn(Schema):
    reason: str = Field("", max_length=200)


def _jsonable(data: dict) -> dict:
    """What the idempotency record stores (JSON: datetimes as ISO strings)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _package(p) -> dict:
    from laoke.core import clock

    return {
        "id": p.pk,
        "name": p.name,
        "price_fen": p.price_fen,
        "bonus_fen": p.bonus_fen,
        "stored_value_fen": p.price_fen + p.bonus_fen,
        "active": p.active,
        "on_sale": services.package_available(p, clock.now()),
        "sale_starts_at": p.sale_starts_at,
        "sale_ends_at": p.sale_ends_at,
        "per_member_limit": p.per_member_limit,
        "sort": p.sort,
    }


@router.get("/packages", response=list[PackageOut], summary="Recharge packages (充值套餐)")
@require("payments.view_rechargepackage", READ)
def package_list(request):
    return [_package(p) for p in selectors.packages()]


@router.post("/packages", response={201: PackageOut}, summary="Create a recharge package")
@require("payments.add_rechargepackage", WRITE)
def package_create(request, payload: PackageIn):
    def call(claim):
        return services.package_create(**payload.dict(), actor=request.user, idem=claim)

    return idempotent_write(
        request,
        scope="payments.package_create",
        payload=payload.dict(),
        call=call,
        render=lambda p: (201, _jsonable(_package(p))),
    )


@router.patch("/packages/{int:package_id}", response=PackageOut, summary="Change a recharge package")
@require("payments.change_rechargepackage", WRITE)
def package_update(request, package_id: int, payload: PackagePatch):
    # null clears the sale window or the limit; for the other fields it means "leave as is"
    # (a package always has a name, prices, an active flag and a sort position)
    changes = {
        k: v
        for k, v in payload.dict(exclude_unset=True).items()
        if v is not None or k in ("sale_starts_at", "sale_ends_at", "per_member_limit")
    }

    def call(claim):
        return services.package_update(package_id=package_id, changes=changes, actor=request.user, idem=claim)

    return idempotent_write(
        request,
        scope="payments.package_update",
        payload={"id": package_id, **changes},
        call=call,
        render=lambda p: (200, _jsonable(_package(p))),
    )


@router.get("/purchases", response=PurchasePage, summary="Package purchases, newest first")
@require("payments.view_packagepurchase", READ)
def purchase_list(
    request,
    state: PackagePurchase.State | None = None,
    member_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    qs = selectors.purchases_visible(request.user, state=state, member_id=member_id)
    rows, nxt = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [selectors.purchase_summary(p) for p in rows], "next_cursor": nxt}


@router.get("/purchases/{int:purchase_id}", response=PurchaseOut, summary="A package purchase")
@require("payments.view_packagepurchase", READ)
def purchase_detail(request, purchase_id: int):
    return selectors.purchase_summary(selectors.purchase_get(request.user, purchase_id))


@router.get(
    "/purchases/{int:purchase_id}/notifications",
    response=list[NotificationOut],
    summary="The provider's notifications of a purchase, as received (for support)",
)
@require("payments.view_paymentnotification", READ)
def purchase_notifications(request, purchase_id: int):
    purchase = selectors.purchase_get(request.user, purchase_id)
    return [
        {
            "id": n.pk,
            "provider": n.provider,
            "received_at": n.received_at,
            "verified": n.verified,
            "result": n.result,
            "amount_fen": n.amount_fen,
            "detail": n.detail,
            "body": n.body,
        }
        for n in selectors.purchase_notifications(purchase)
    ]


@router.post(
    "/purchases/{int:purchase_id}/refund",
    response=PurchaseOut,
    summary="Refund the unspent part of a purchase through the provider (Idempotency-Key required)",
)
@require("payments.refund_packagepurchase", WRITE)
def purchase_refund(request, purchase_id: int, payload: RefundIn):
    selectors.purchase_get(request.user, purchase_id)  # visible to this user, or 404

    def call(claim):
        return services.package_purchase_refund(
            purchase_id=purchase_id, reason=payload.reason, actor=request.user, idem=claim
        )

    return idempotent_write(
        request,
        scope="payments.refund",
        payload={"id": purchase_id, **payload.dict()},
        call=call,
        render=lambda p: (200, _jsonable(selectors.purchase_summary(p))),
        required=True,
    )
