"""/api/v1/orders: quote (试算), settle (Idempotency-Key required), list and read, refunds and
returns (Idempotency-Key required), ship / deliver / review, big-order discount approvals and the
order settings. Thin over ``services`` and ``selectors``."""

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from laoke.core.api import check_permission, idempotent_write, paginate, require
from laoke.members.selectors import member_visible_queryset

from . import selectors, services
from .checkout import CheckoutIn, LineIn, order_settings
from .models import DiscountApproval, Order, PaymentMethod, Refund, ReviewLevel

router = Router(tags=["orders"])


class LineSchema(Schema):
    sku: str = Field(..., min_length=1, max_length=64)
    quantity: int = Field(..., gt=0, le=100_000)
    unit_price_fen: int | None = Field(None, ge=0, le=10**10, description="default: the product's list price")
    flash: bool = Field(False, description="buy at the old-customer flash-zone price")


class CheckoutSchema(Schema):
    lines: list[LineSchema] = Field(..., min_length=1, max_length=200)
    member_id: int | None = None
    store_id: int | None = None
    channel: str = Field("store", max_length=16)
    group_purchase: bool = False
    coupon_codes: list[str] = Field([], max_length=20)
    courier: str = Field("", max_length=8, description="'' = picked up at the till; normal, sf or ems")
    address: str = Field("", max_length=255)
    province: str = Field("", max_length=30)
    country: str = Field("CN", max_length=2)
    prefer_gift: bool = False
    wallet_fen: int = Field(0, ge=0, le=10**12)
    points: int = Field(0, ge=0, le=10**12)
    payment_method: PaymentMethod = PaymentMethod.CASH
    approval_id: int | None = None
    note: str = Field("", max_length=255)


def _checkout(request, payload: CheckoutSchema) -> CheckoutIn:
    if payload.member_id is not None:
        get_object_or_404(member_visible_queryset(request.user), pk=payload.member_id)
    data = payload.dict()
    lines = tuple(LineIn(**ln) for ln in data.pop("lines"))
    data["coupon_codes"] = tuple(data["coupon_codes"])
    return CheckoutIn(lines=lines, **data)


class QuoteOut(Schema):
    goods_gross_fen: int
    goods_net_fen: int
    postage_fen: int
    total_fen: int
    points_used: int
    points_fen: int
    wallet_fen: int
    cash_fen: int
    member_kind: str
    tier_code: str
    text: str
    explanation: dict[str, Any]


@router.post("/quote", response=QuoteOut, summary="试算: price a cart with its line-by-line explanation")
@require("orders.settle_order", "orders:read")
def order_quote(request, payload: CheckoutSchema):
    q = services.order_quote(request=_checkout(request, payload))
    r = q.result
    return {
        "goods_gross_fen": r.goods_gross_fen,
        "goods_net_fen": r.goods_net_fen,
        "postage_fen": r.shipping.net_fen,
        "total_fen": r.total_fen,
        "points_used": r.points_used,
        "points_fen": r.points_fen,
        "wallet_fen": r.wallet_fen,
        "cash_fen": r.cash_fen,
        "member_kind": q.prepared.member_kind,
        "tier_code": q.prepared.tier_code,
        "text": r.text(),
        "explanation": {**r.as_dict(), "offers": q.prepared.offers},
    }


class LineOut(Schema):
    ref: str
    sku: str
    title: str
    unit_price_fen: int
    quantity: int
    gross_fen: int
    net_fen: int
    discounts: dict[str, int]
    points_used: int
    points_fen: int
    wallet_fen: int
    refunded_quantity: int
    special_sale: bool
    flash: bool
    returnable: bool


class OrderOut(Schema):
    id: int
    number: str
    member_id: int | None
    store_id: int | None
    channel: str
    status: str
    group_purchase: bool
    member_kind: str
    tier_code: str
    courier: str
    ship_province: str
    goods_gross_fen: int
    goods_net_fen: int
    postage_gross_fen: int
    postage_net_fen: int
    total_fen: int
    points_used: int
    points_fen: int
    wallet_fen: int
    cash_fen: int
    payment_method: str
    refunded_fen: int
    coupons: list[str]
    lines: list[LineOut]
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class OrderDetailOut(OrderOut):
    explanation: dict[str, Any]


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


def _order_dict(order: Order, *, detail: bool = False) -> dict:
    fields = set(OrderOut.model_fields) - {"coupons", "lines"}
    data = {f: getattr(order, f) for f in fields}
    data["coupons"] = [oc.coupon.code for oc in order.coupons.all()]
    data["lines"] = [{f: getattr(ln, f) for f in LineOut.model_fields} for ln in order.lines.all()]
    if detail:
        data["explanation"] = order.explanation
    return data


def _render_order(order: Order) -> tuple[int, dict]:
    order = selectors.order_get(order.number)
    return 201, OrderDetailOut(**_order_dict(order, detail=True)).model_dump(mode="json")


@router.post(
    "",
    response={201: OrderDetailOut},
    summary="Settle an order: one transaction for the order, coupons, points, wallet, tier and statistics "
    "(Idempotency-Key required)",
)
@require("orders.settle_order", "orders:write")
def order_settle(request, payload: CheckoutSchema):
    checkout = _checkout(request, payload)

    def call(claim):
        return services.order_settle(request=checkout, actor=request.user, idem=claim)

    return idempotent_write(
        request, scope="orders.settle", payload=payload.dict(), call=call, render=_render_order, required=True
    )


@router.get("", response=OrderPage, summary="Orders, newest first (filter by member or status)")
@require("orders.view_order", "orders:read")
def order_list(
    request,
    member_id: int | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    qs = selectors.order_list(user=request.user, member_id=member_id, status=status)
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_order_dict(o) for o in rows], "next_cursor": next_cursor}


class RefundIn(Schema):
    lines: dict[str, int] | None = Field(None, description="line ref → units; omitted = everything left")
    reason: str = Field("", max_length=255)
    restore_coupons: bool | None = Field(None, description="default: each coupon template's own setting")
    override_window: bool = Field(False, description="a manager returns goods past the return window")


class RefundOut(Schema):
    id: int
    order_number: str
    kind: str
    completes_order: bool
    goods_net_fen: int
    postage_fen: int
    points_returned: int
    points_fen: int
    wallet_fen: int
    cash_fen: int
    discounts: dict[str, int]
    coupons_restored: bool
    created_at: datetime


def _render_refund(refund: Refund) -> tuple[int, dict]:
    data = {f: getattr(refund, f) for f in set(RefundOut.model_fields) - {"order_number"}}
    data["order_number"] = refund.order.number
    return 201, RefundOut(**data).model_dump(mode="json")


@router.post(
    "/{number}/refunds",
    response={201: RefundOut},
    summary="Refund or return lines (full or partial), reversing every part (Idempotency-Key required)",
)
@require("orders.refund_order", "orders:write")
def order_refund(request, number: str, payload: RefundIn):
    order = selectors.order_get(number, user=request.user)
    if payload.override_window:
        check_permission(request, "orders.approve_discount", "orders:write")
    key = request.headers.get("Idempotency-Key") or ""

    def call(claim):
        return services.order_refund(
            order_id=order.pk,
            key=f"{order.number}:{key}",
            quantities=payload.lines,
            reason=payload.reason,
            restore_coupons=payload.restore_coupons,
            override_window=payload.override_window,
            actor=request.user,
            idem=claim,
        )

    return idempotent_write(
        request,
        scope="orders.refund",
        payload={"order": number, **payload.dict()},
        call=call,
        render=_render_refund,
        required=True,
    )


@router.post("/{number}/ship", response=OrderOut, summary="Mark shipped")
@require("orders.ship_order", "orders:write")
def order_ship(request, number: str):
    order = selectors.order_get(number, user=request.user)
    services.order_ship(order_id=order.pk, actor=request.user)
    return _order_dict(selectors.order_get(number))


@router.post("/{number}/deliver", response=OrderOut, summary="Mark delivered (COD: cash collected)")
@require("orders.ship_order", "orders:write")
def order_deliver(request, number: str):
    order = selectors.order_get(number, user=request.user)
    services.order_deliver(order_id=order.pk, actor=request.user)
    return _order_dict(selectors.order_get(number))


class ReviewIn(Schema):
    level: ReviewLevel
    text: str = Field("", max_length=2000)


class ReviewOut(Schema):
    order_number: str
    level: str
    text: str
    is_default: bool
    created_at: datetime


@router.post("/{number}/review", response={201: ReviewOut}, summary="Record the member's review")
@require("orders.ship_order", "orders:write")
def order_review(request, number: str, payload: ReviewIn):
    order = selectors.order_get(number, user=request.user)
    r = services.order_review(order_id=order.pk, level=payload.level, text=payload.text, actor=request.user)
    return Status(
        201,
        {**{f: getattr(r, f) for f in ("level", "text", "is_default", "created_at")}, "order_number": number},
    )


class ApprovalIn(Schema):
    member_id: int | None = None
    order_total_fen: int = Field(..., gt=0, le=10**12)
    amount_fen: int = Field(..., gt=0, le=10**12)
    reason: str = Field(..., min_length=1, max_length=255)


class DecisionIn(Schema):
    note: str = Field("", max_length=255)


class ApprovalOut(Schema):
    id: int
    member_id: int | None
    order_total_fen: int
    amount_fen: int
    reason: str
    state: str
    requested_by_id: int
    decided_by_id: int | None
    decision_note: str
    order_id: int | None
    created_at: datetime
    decided_at: datetime | None


@router.get("/discount-approvals", response=list[ApprovalOut], summary="Big-order discount requests")
@require("orders.view_discountapproval", "orders:read")
def approval_list(request, state: str | None = None):
    return list(selectors.approval_list(state=state)[:200])


@router.post(
    "/discount-approvals",
    response={201: ApprovalOut},
    summary="Ask a manager for a big order's extra discount",
)
@require("orders.settle_order", "orders:write")
def approval_request(request, payload: ApprovalIn):
    if payload.member_id is not None:
        get_object_or_404(member_visible_queryset(request.user), pk=payload.member_id)
    return Status(
        201,
        services.discount_request(
            member_id=payload.member_id,
            order_total_fen=payload.order_total_fen,
            amount_fen=payload.amount_fen,
            reason=payload.reason,
            actor=request.user,
        ),
    )


@router.post(
    "/discount-approvals/{int:approval_id}/approve", response=ApprovalOut, summary="Approve (manager)"
)
@require("orders.approve_discount", "orders:write")
def approval_approve(request, approval_id: int, payload: DecisionIn):
    get_object_or_404(DiscountApproval, pk=approval_id)
    return services.discount_decide(
        approval_id=approval_id, approve=True, note=payload.note, actor=request.user
    )


@router.post("/discount-approvals/{int:approval_id}/reject", response=ApprovalOut, summary="Reject (manager)")
@require("orders.approve_discount", "orders:write")
def approval_reject(request, approval_id: int, payload: DecisionIn):
    get_object_or_404(DiscountApproval, pk=approval_id)
    return services.discount_decide(
        approval_id=approval_id, approve=False, note=payload.note, actor=request.user
    )


class SettingsOut(Schema):
    return_days_member: int
    return_days_other: int
    cod_review_hours: int
    points_per_yuan_paid: int
    approval_threshold_fen: int


class SettingsPatch(Schema):
    return_days_member: int | None = Field(None, ge=0, le=365)
    return_days_other: int | None = Field(None, ge=0, le=365)
    cod_review_hours: int | None = Field(None, ge=1, le=720)
    points_per_yuan_paid: int | None = Field(None, ge=1, le=100_000)
    approval_threshold_fen: int | None = Field(None, ge=0, le=10**12)


@router.get("/settings", response=SettingsOut, summary="Order policies (return windows, COD review, …)")
@require("orders.view_ordersettings", "orders:read")
def settings_get(request):
    return order_settings()


@router.patch("/settings", response=SettingsOut, summary="Change order policies")
@require("orders.change_ordersettings", "orders:write")
def settings_update(request, payload: SettingsPatch):
    return services.order_settings_update(data=payload.dict(exclude_unset=True), actor=request.user)


# Last: "/{number}" would otherwise shadow "/settings" and "/discount-approvals".
@router.get("/{number}", response=OrderDetailOut, summary="An order with its settlement explanation")
@require("orders.view_order", "orders:read")
def order_get(request, number: str):
    return _order_dict(selectors.order_get(number, user=request.user), detail=True)
