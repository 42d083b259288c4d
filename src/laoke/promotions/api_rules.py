"""/api/v1/promotions, order rules: 满就送 rules, gift rules, bundles, member special prices (list,
create, change — validated and audited by the services, Idempotency-Key accepted: no value moves
when a rule is written), the seed-001 preset installer, the offers of a cart (writes nothing) and
a shareable coupon's QR code. Registered on the promotions router (imported by api.py)."""

from datetime import datetime

from django.http import HttpResponse
from ninja import Field, Schema
from pydantic import ConfigDict

from laoke.catalog.models import GiftItem, Product
from laoke.core import clock
from laoke.core.api import idempotent_write, paginate, require
from laoke.core.errors import DomainError

from . import error_codes as E
from . import qr, rule_services, selectors
from .api import router
from .models import Bundle, CouponState, CouponTemplate, FullSendRule, GiftRule, MemberPrice
from .presets import promotions_presets_install
from .rules import RuleLine, full_send_preview, member_prices, order_offers

READ, WRITE = "value:read", "value:write"
FEN = {"ge": 0, "le": 10**10}


class CommonOut(Schema):
    id: int
    code: str
    name: str
    is_active: bool
    valid_from: datetime | None
    valid_to: datetime | None


class TierOut(Schema):
    id: int
    threshold_fen: int
    template_id: int
    template_name: str


class FullSendOut(CommonOut):
    mode: str
    tiers: list[TierOut]


class GiftOut(CommonOut):
    kind: str
    threshold_fen: int
    once_per_order: bool
    gift_qty: int
    members_only: bool
    gift_product_id: int | None
    gift_item_id: int | None


class BundleItemOut(Schema):
    product_id: int
    sku: str
    quantity: int


class BundleGiftOut(Schema):
    gift_item_id: int
    quantity: int


class BundleOut(CommonOut):
    hot_product_id: int
    bundle_price_fen: int | None
    free_shipping_template_id: int | None
    members_only: bool
    items: list[BundleItemOut]
    gifts: list[BundleGiftOut]


class PriceOut(Schema):
    id: int
    product_id: int
    sku: str
    price_fen: int
    is_active: bool
    valid_from: datetime | None
    valid_to: datetime | None


def _page_of(out):
    class Page(Schema):
        items: list[out]
        next_cursor: str | None

    Page.__name__ = f"{out.__name__}Page"
    return Page


FullSendPage, GiftPage, BundlePage, PricePage = (
    _page_of(FullSendOut),
    _page_of(GiftOut),
    _page_of(BundleOut),
    _page_of(PriceOut),
)


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class Window(In):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=100)
    is_active: bool = True
    valid_from: datetime | None = None
    valid_to: datetime | None = None


class WindowPatch(In):
    code: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, min_length=1, max_length=100)
    is_active: bool | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


def _fk(model, pk, field: str):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise DomainError(E.RULE_INVALID, field=field)
    return obj


def _write(request, *, scope: str, data: dict, call, out, status: int):
    def render(obj):
        return status, out(obj)

    return idempotent_write(request, scope=scope, payload=data, call=lambda claim: call(claim), render=render)


def _page(qs, out, cursor, limit):
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [out(r) for r in rows], "next_cursor": next_cursor}


def _iso(v):
    return v.isoformat() if isinstance(v, datetime) else v


def _common(obj) -> dict:
    return {
        "id": obj.pk,
        **{k: _iso(getattr(obj, k)) for k in ("code", "name", "is_active", "valid_from", "valid_to")},
    }


# --- 满就送 ----------------------------------------------------------------------------------------


class TierIn(In):
    threshold_fen: int = Field(..., gt=0, le=10**10)
    template_id: int


class FullSendIn(Window):
    mode: str = Field("highest", max_length=12, description="highest | cumulative")
    tiers: list[TierIn] = Field(..., min_length=1, max_length=20)


class FullSendPatch(WindowPatch):
    mode: str | None = Field(None, max_length=12)
    tiers: list[TierIn] | None = Field(None, min_length=1, max_length=20)


def _full_send_out(rule: FullSendRule) -> dict:
    rule = selectors.full_send_rule_list().get(pk=rule.pk)
    tiers = [t for t in rule.tiers.all() if t.retired_at is None]
    return {
        **_common(rule),
        "mode": rule.mode,
        "tiers": [
            {
                "id": t.pk,
                "threshold_fen": t.threshold_fen,
                "template_id": t.template_id,
                "template_name": t.template.name,
            }
            for t in tiers
        ],
    }


@router.get("/full-send-rules", response=FullSendPage, summary="满就送 rules with their tiers")
@require("promotions.view_fullsendrule", READ)
def full_send_list(request, cursor: str | None = None, limit: int | None = None):
    return _page(selectors.full_send_rule_list(), _full_send_out, cursor, limit)


@router.post(
    "/full-send-rules", response={201: FullSendOut}, summary="Create a 满就送 rule (accepts Idempotency-Key)"
)
@require("promotions.add_fullsendrule", WRITE)
def full_send_create(request, payload: FullSendIn):
    data = payload.dict()
    return _write(
        request,
        scope="promotions.full_send.create",
        data=data,
        call=lambda claim: rule_services.full_send_rule_create(data=data, actor=request.user, idem=claim),
        out=_full_send_out,
        status=201,
    )


@router.patch(
    "/full-send-rules/{int:rule_id}",
    response=FullSendOut,
    summary="Change a 满就送 rule; tiers replace the list",
)
@require("promotions.change_fullsendrule", WRITE)
def full_send_update(request, rule_id: int, payload: FullSendPatch):
    data = payload.dict(exclude_unset=True)
    return _write(
        request,
        scope=f"promotions.full_send.update:{rule_id}",
        data=data,
        call=lambda claim: rule_services.full_send_rule_update(
            rule_id=rule_id, data=data, actor=request.user, idem=claim
        ),
        out=_full_send_out,
        status=200,
    )


# --- gift rules ------------------------------------------------------------------------------------


class GiftIn(Window):
    kind: str = Field(..., max_length=16, description="per_threshold | item_price | always")
    threshold_fen: int = Field(0, **FEN)
    once_per_order: bool = False
    gift_product_id: int | None = Field(None, description="a cart product (须拍下)")
    gift_item_id: int | None = Field(None, description="a gift handed over outside the cart")
    gift_qty: int = Field(1, gt=0, le=1000)
    members_only: bool = False


class GiftPatch(WindowPatch):
    kind: str | None = Field(None, max_length=16)
    threshold_fen: int | None = Field(None, **FEN)
    once_per_order: bool | None = None
    gift_product_id: int | None = None
    gift_item_id: int | None = None
    gift_qty: int | None = Field(None, gt=0, le=1000)
    members_only: bool | None = None


def _gift_data(data: dict) -> dict:
    if "gift_product_id" in data:
        data["gift_product"] = _fk(Product, data.pop("gift_product_id"), "gift_product")
    if "gift_item_id" in data:
        data["gift_item"] = _fk(GiftItem, data.pop("gift_item_id"), "gift_item")
    return data


def _gift_out(rule: GiftRule) -> dict:
    return {
        **_common(rule),
        **{
            k: getattr(rule, k)
            for k in ("kind", "threshold_fen", "once_per_order", "gift_qty", "members_only")
        },
        "gift_product_id": rule.gift_product_id,
        "gift_item_id": rule.gift_item_id,
    }


@router.get("/gift-rules", response=GiftPage, summary="Gift rules (赠品)")
@require("promotions.view_giftrule", READ)
def gift_list(request, cursor: str | None = None, limit: int | None = None):
    return _page(selectors.gift_rule_list(), _gift_out, cursor, limit)


@router.post("/gift-rules", response={201: GiftOut}, summary="Create a gift rule (accepts Idempotency-Key)")
@require("promotions.add_giftrule", WRITE)
def gift_create(request, payload: GiftIn):
    raw = payload.dict()
    return _write(
        request,
        scope="promotions.gift_rule.create",
        data=raw,
        call=lambda claim: rule_services.gift_rule_create(
            data=_gift_data(dict(raw)), actor=request.user, idem=claim
        ),
        out=_gift_out,
        status=201,
    )


@router.patch("/gift-rules/{int:rule_id}", response=GiftOut, summary="Change a gift rule")
@require("promotions.change_giftrule", WRITE)
def gift_update(request, rule_id: int, payload: GiftPatch):
    raw = payload.dict(exclude_unset=True)
    return _write(
        request,
        scope=f"promotions.gift_rule.update:{rule_id}",
        data=raw,
        call=lambda claim: rule_services.gift_rule_update(
            rule_id=rule_id, data=_gift_data(dict(raw)), actor=request.user, idem=claim
        ),
        out=_gift_out,
        status=200,
    )


# --- bundles ---------------------------------------------------------------------------------------


class BundleItemIn(In):
    product_id: int
    quantity: int = Field(1, gt=0, le=100)


class BundleGiftIn(In):
    gift_item_id: int
    quantity: int = Field(1, gt=0, le=100)


class BundleIn(Window):
    hot_product_id: int
    items: list[BundleItemIn] = Field([], max_length=20)
    bundle_price_fen: int | None = Field(None, **FEN)
    gifts: list[BundleGiftIn] = Field([], max_length=20)
    free_shipping_template_id: int | None = None
    members_only: bool = False


class BundlePatch(WindowPatch):
    hot_product_id: int | None = None
    items: list[BundleItemIn] | None = Field(None, max_length=20)
    bundle_price_fen: int | None = Field(None, **FEN)
    gifts: list[BundleGiftIn] | None = Field(None, max_length=20)
    free_shipping_template_id: int | None = None
    members_only: bool | None = None


def _bundle_data(data: dict) -> dict:
    if "hot_product_id" in data:
        data["hot_product"] = _fk(Product, data.pop("hot_product_id"), "hot_product")
    if "free_shipping_template_id" in data:
        data["free_shipping_template"] = _fk(
            CouponTemplate, data.pop("free_shipping_template_id"), "free_shipping_template"
        )
    return data


def _bundle_out(bundle: Bundle) -> dict:
    bundle = selectors.bundle_list().get(pk=bundle.pk)
    return {
        **_common(bundle),
        "hot_product_id": bundle.hot_product_id,
        "bundle_price_fen": bundle.bundle_price_fen,
        "free_shipping_template_id": bundle.free_shipping_template_id,
        "members_only": bundle.members_only,
        "items": [
            {"product_id": i.product_id, "sku": i.product.sku, "quantity": i.quantity}
            for i in bundle.items.all()
        ],
        "gifts": [{"gift_item_id": g.gift_item_id, "quantity": g.quantity} for g in bundle.gifts.all()],
    }


@router.get("/bundles", response=BundlePage, summary="Bundles (搭配套餐)")
@require("promotions.view_bundle", READ)
def bundle_list(request, cursor: str | None = None, limit: int | None = None):
    return _page(selectors.bundle_list(), _bundle_out, cursor, limit)


@router.post("/bundles", response={201: BundleOut}, summary="Create a bundle (accepts Idempotency-Key)")
@require("promotions.add_bundle", WRITE)
def bundle_create(request, payload: BundleIn):
    raw = payload.dict()
    return _write(
        request,
        scope="promotions.bundle.create",
        data=raw,
        call=lambda claim: rule_services.bundle_create(
            data=_bundle_data(dict(raw)), actor=request.user, idem=claim
        ),
        out=_bundle_out,
        status=201,
    )


@router.patch(
    "/bundles/{int:bundle_id}",
    response=BundleOut,
    summary="Change a bundle; items and gifts replace the lists",
)
@require("promotions.change_bundle", WRITE)
def bundle_update(request, bundle_id: int, payload: BundlePatch):
    raw = payload.dict(exclude_unset=True)
    return _write(
        request,
        scope=f"promotions.bundle.update:{bundle_id}",
        data=raw,
        call=lambda claim: rule_services.bundle_update(
            bundle_id=bundle_id, data=_bundle_data(dict(raw)), actor=request.user, idem=claim
        ),
        out=_bundle_out,
        status=200,
    )


# --- member special prices -------------------------------------------------------------------------


class MemberPriceIn(In):
    product_id: int
    price_fen: int = Field(..., **FEN)
    is_active: bool = True
    valid_from: datetime | None = None
    valid_to: datetime | None = None


class MemberPricePatch(In):
    price_fen: int | None = Field(None, **FEN)
    is_active: bool | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


def _price_out(mp: MemberPrice) -> dict:
    return {
        "id": mp.pk,
        "product_id": mp.product_id,
        "sku": mp.product.sku,
        "price_fen": mp.price_fen,
        "is_active": mp.is_active,
        "valid_from": _iso(mp.valid_from),
        "valid_to": _iso(mp.valid_to),
    }


@router.get("/member-prices", response=PricePage, summary="Member special prices (会员特价)")
@require("promotions.view_memberprice", READ)
def member_price_list(request, cursor: str | None = None, limit: int | None = None):
    return _page(selectors.member_price_list(), _price_out, cursor, limit)


@router.post(
    "/member-prices",
    response={201: PriceOut},
    summary="Create a member special price (accepts Idempotency-Key)",
)
@require("promotions.add_memberprice", WRITE)
def member_price_create(request, payload: MemberPriceIn):
    raw = payload.dict()

    def call(claim):
        data = dict(raw)
        data["product"] = _fk(Product, data.pop("product_id"), "product")
        return rule_services.member_price_create(data=data, actor=request.user, idem=claim)

    return _write(
        request, scope="promotions.member_price.create", data=raw, call=call, out=_price_out, status=201
    )


@router.patch("/member-prices/{int:price_id}", response=PriceOut, summary="Change a member special price")
@require("promotions.change_memberprice", WRITE)
def member_price_update(request, price_id: int, payload: MemberPricePatch):
    raw = payload.dict(exclude_unset=True)
    return _write(
        request,
        scope=f"promotions.member_price.update:{price_id}",
        data=raw,
        call=lambda claim: rule_services.member_price_update(
            price_id=price_id, data=dict(raw), actor=request.user, idem=claim
        ),
        out=_price_out,
        status=200,
    )


# --- presets, offers --------------------------------------------------------------------------------


@router.post(
    "/rules/presets", response=dict[str, int], summary="Install seed 001's 满就送 and gift rules (idempotent)"
)
@require("promotions.add_giftrule", WRITE)
def presets_install(request):
    return promotions_presets_install(actor=request.user)


class LineIn(In):
    ref: str = Field(..., min_length=1, max_length=64)
    sku: str = Field(..., min_length=1, max_length=64)
    product_id: int | None = None
    category_id: int | None = None
    unit_price_fen: int = Field(..., **FEN)
    quantity: int = Field(..., gt=0, le=100_000)
    special_sale: bool = False


class OffersIn(In):
    lines: list[LineIn] = Field(..., min_length=1, max_length=500)
    is_member: bool = False
    paid_fen: int | None = Field(None, description="Preview 满就送 for this paid amount", **FEN)


@router.post(
    "/offers",
    response=dict,
    summary="The order rules' offers for a cart and the 满就送 preview (writes nothing)",
)
@require("promotions.view_giftrule", READ)
def offers(request, payload: OffersIn):
    now = clock.now()
    lines = [RuleLine(**ln.dict()) for ln in payload.lines]
    found = order_offers(lines=lines, is_member=payload.is_member, now=now)
    ids = [ln.product_id for ln in lines if ln.product_id]
    return {
        "offers": [
            {**o.__dict__, "eligible_refs": sorted(o.eligible_refs) if o.eligible_refs is not None else None}
            for o in found
        ],
        "member_prices": {str(k): v for k, v in member_prices(product_ids=ids, now=now).items()}
        if payload.is_member
        else {},
        "full_send": full_send_preview(payload.paid_fen, now) if payload.paid_fen is not None else [],
    }


# --- QR code ---------------------------------------------------------------------------------------


@router.get(
    "/coupons/{code}/qr.png",
    summary="QR code (PNG) of a shareable coupon's claim link, for a friend to scan",
    response={200: bytes},
    openapi_extra={"responses": {200: {"content": {"image/png": {}}}}},
)
@require("promotions.view_coupon", READ)
def coupon_qr(request, code: str):
    coupon = selectors.coupon_get(code)
    if not coupon.shareable:
        raise DomainError(E.COUPON_NOT_SHAREABLE)
    if coupon.member_id is not None:
        raise DomainError(E.COUPON_ALREADY_CLAIMED)
    if coupon.state != CouponState.ISSUED:
        raise DomainError(E.COUPON_VOIDED if coupon.state == CouponState.VOIDED else E.COUPON_EXPIRED)
    response = HttpResponse(qr.qr_png(qr.claim_url(coupon.code)), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response
