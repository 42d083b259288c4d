"""From a checkout request to the engine's inputs: the one place that reads every other app.

``prepare(request, now=)`` validates what the cashier (or an API client) sent, loads the member's
tier, coupons, the shop's rules (promotions), flash-zone and member prices, the shipping tariff
and the member's wallet and points, and returns a ``Prepared``: the engine ``Order`` plus what
settlement needs to book it (the coupons by code, the flash lines, the approval). The same
function prices the quote (试算) and the settlement, so what the cashier was shown is what is
booked, as long as nothing changed in between (settlement re-prepares under the member's lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext

from laoke.cards.selectors import wallet_summary
from laoke.catalog.models import Product
from laoke.core import clock
from laoke.core.errors import FIELD_INVALID, DomainError
from laoke.core.models import Store
from laoke.flash.selectors import flash_offer
from laoke.members.locks import locked_members
from laoke.members.models import Member
from laoke.points.lots import available as available_points
from laoke.points.models import PointsProgramme
from laoke.promotions import error_codes as PE
from laoke.promotions.models import Coupon, CouponKind, CouponState
from laoke.promotions.rules import RuleLine, member_prices, order_offers
from laoke.promotions.services import _state_error
from laoke.shipping.models import Courier
from laoke.shipping.quote import destination_resolve, shipping_offers
from laoke.shipping.selectors import active_rule_set, member_kind_of, tariff_of
from laoke.tiers.selectors import current_level

from . import error_codes as E
from .engine import (
    Benefit,
    Cart,
    CartLine,
    Kind,
    MemberContext,
    Order,
    PaymentRequest,
    ShippingQuote,
    Stage,
)
from .models import DiscountApproval, OrderSettings, PaymentMethod

MAX_LINES = 200
MAX_QUANTITY = 100_000
# Test-only switch for the negative controls of the settlement races: no member row lock, so two
# settlements of one member price and book side by side.
_UNLOCKED_FOR_TESTS = False


@dataclass(frozen=True)
class LineIn:
    sku: str
    quantity: int
    unit_price_fen: int | None = None  # None: the product's list price
    flash: bool = False  # buy at the old-customer flash-zone price


@dataclass(frozen=True)
class CheckoutIn:
    lines: tuple[LineIn, ...]
    member_id: int | None = None
    store_id: int | None = None
    channel: str = "store"
    group_purchase: bool = False
    coupon_codes: tuple[str, ...] = ()
    courier: str = ""  # "" = no delivery (picked up at the till)
    address: str = ""
    province: str = ""
    country: str = "CN"
    prefer_gift: bool = False  # new customers: the towel instead of free shipping
    wallet_fen: int = 0
    points: int = 0
    payment_method: str = PaymentMethod.CASH
    approval_id: int | None = None
    note: str = ""


@dataclass
class Prepared:
    request: CheckoutIn
    order: Order
    member: Member | None
    store: Store | None
    products: dict[str, Product]  # line ref → product
    coupons: dict[str, Coupon] = field(default_factory=dict)  # benefit code → coupon
    flash_refs: tuple[str, ...] = ()
    approval: DiscountApproval | None = None
    member_kind: str = ""
    tier_code: str = ""
    destination: Any = None
    offers: list[dict] = field(default_factory=list)  # what rules contributed (for the explanation)
    rule_lines: tuple[RuleLine, ...] = ()  # the cart as the promotions rules see it
    points_active: bool = False  # a member and an active points programme: points are earned


def order_settings() -> OrderSettings:
    """The shop's order policies; the presets (an unsaved row) until someone changes them — a read
    never writes, so concurrent first settlements do not queue on creating the row."""
    return OrderSettings.objects.filter(pk=1).first() or OrderSettings(pk=1, updated_at=clock.now())


def _bad(field_name: str, **details) -> DomainError:
    return DomainError(FIELD_INVALID, field=field_name, details=details or None)


def _check_request(req: CheckoutIn) -> None:
    if not req.lines:
        raise DomainError(E.ORDER_EMPTY, field="lines")
    if len(req.lines) > MAX_LINES:
        raise _bad("lines", max=MAX_LINES)
    for i, ln in enumerate(req.lines):
        if (
            not isinstance(ln.quantity, int)
            or isinstance(ln.quantity, bool)
            or not 0 < ln.quantity <= MAX_QUANTITY
        ):
            raise _bad(f"lines[{i}].quantity")
        if ln.unit_price_fen is not None and (
            not isinstance(ln.unit_price_fen, int) or not 0 <= ln.unit_price_fen <= 10**10
        ):
            raise _bad(f"lines[{i}].unit_price_fen")
    for name in ("wallet_fen", "points"):
        v = getattr(req, name)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10**12:
            raise _bad(name)
    if req.payment_method not in PaymentMethod.values:
        raise _bad("payment_method", allowed=list(PaymentMethod.values))
    if req.courier and req.courier not in Courier.values:
        raise _bad("courier", allowed=list(Courier.values))
    if len(set(c.strip().upper() for c in req.coupon_codes)) != len(req.coupon_codes):
        raise _bad("coupon_codes")


def _member_of(req: CheckoutIn, lock: bool) -> Member | None:
    if req.member_id is None:
        return None
    qs = Member.objects.all()
    if lock and not _UNLOCKED_FOR_TESTS:
        qs = locked_members(qs)
    member = qs.filter(pk=req.member_id).first()
    if member is None or member.status != Member.Status.ACTIVE:
        raise DomainError(E.ORDER_MEMBER_INVALID, field="member_id")
    return member


def _products(req: CheckoutIn) -> dict[str, Product]:
    skus = {ln.sku.strip() for ln in req.lines}
    found = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    out = {}
    for i, ln in enumerate(req.lines):
        p = found.get(ln.sku.strip())
        if p is None or not p.is_active:
            raise DomainError(E.ORDER_PRODUCT_UNKNOWN, field=f"lines[{i}].sku", sku=ln.sku[:64])
        out[str(i + 1)] = p
    return out


def _coupon_check(coupon: Coupon, member: Member | None, now: datetime, channel_kind: str) -> None:
    if member is None or coupon.member_id != member.pk:
        raise DomainError(PE.COUPON_NOT_OWNER, field="coupon_codes")
    if coupon.state != CouponState.ISSUED or not coupon.valid_from <= now < coupon.valid_to:
        raise _state_error(coupon, now, field="coupon_codes")  # the promotions app's own reasons
    sales = coupon.template.sales_channel
    if sales and sales != channel_kind:
        raise DomainError(E.ORDER_COUPON_WRONG_CHANNEL, field="coupon_codes", code=coupon.code)


def coupon_benefit(coupon: Coupon, refs_by_sku: dict[str, list[str]]) -> Benefit:
    """Decision 0017's mapping of a coupon template to an engine benefit (code = coupon code).
    Free-shipping cards are priced by the shipping rules instead (``_shipping``)."""
    tpl = coupon.template
    common = {
        "member_only": True,  # a member's coupon is a member benefit: none on group purchases (S2)
        "code": coupon.code,
        "stackable": tpl.stackable,
        "label": tpl.name,
        "threshold_fen": tpl.threshold_fen,
    }
    if tpl.kind == CouponKind.PERCENT:
        return Benefit(kind=Kind.RATE_OFF, off_bp=tpl.rate_off_bp, cap_fen=tpl.cap_fen, **common)
    if tpl.kind == CouponKind.COMBO:
        refs = frozenset(r for sku in tpl.product_skus for r in refs_by_sku.get(sku, ()))
        return Benefit(kind=Kind.AMOUNT_OFF, amount_fen=tpl.amount_off_fen, eligible_refs=refs, **common)
    if tpl.kind == CouponKind.GIFT:
        return Benefit(
            kind=Kind.GIFT, stage=Stage.GIFTS, gift_ref=None, gift_qty=1, include_special_sale=True, **common
        )
    return Benefit(kind=Kind.AMOUNT_OFF, amount_fen=tpl.amount_off_fen, **common)


def _offer_benefit(offer) -> Benefit:
    return Benefit(
        code=offer.code,
        kind=Kind(offer.kind),
        stage=Stage(offer.stage),
        amount_fen=offer.amount_fen,
        off_bp=offer.off_bp,
        threshold_fen=offer.threshold_fen,
        cap_fen=offer.cap_fen,
        eligible_refs=offer.eligible_refs,
        stackable=offer.stackable,
        repeat=offer.repeat,
        member_only=offer.member_only,
        include_special_sale=offer.include_special_sale,
        gift_ref=offer.gift_ref,
        gift_qty=offer.gift_qty,
        label=offer.label,
    )


# Shipping rules' benefit codes sort before every coupon code, so that when a rule and a
# free-shipping card give the same discount the rule wins the tie and the card is kept.
SHIP_PREFIX = "#ship:"


def _shipping(req: CheckoutIn, tariff, member_kind: str, tier_free_shipping: bool, card: Coupon | None):
    """(ShippingQuote, shipping-stage benefits, destination, whether a rule offers free shipping
    *or* the gift — seed 001's new customers: 包邮或者赠送小方巾). A free-shipping card (包邮卡) is
    priced by the shipping rules (its own rows: free normal courier, the remote reading, nothing
    for 港澳台), and its benefit carries the coupon's code so settlement redeems it only if it
    won."""
    if not req.courier:
        return ShippingQuote(), [], None, False
    if tariff is None:
        raise DomainError(E.ORDER_NO_SHIPPING_RULES, field="courier")
    dest = destination_resolve(
        address=req.address or None,
        province=None if req.address else (req.province or None),
        country=req.country or "CN",
    )
    postage, offers = shipping_offers(
        tariff,
        member_kind=member_kind,
        courier=req.courier,
        destination=dest,
        free_shipping_card=card is not None,
        tier_free_shipping=tier_free_shipping,
        prefer_gift=req.prefer_gift,
    )
    benefits = []
    for o in offers:
        if o.discount_fen < 0 and o.threshold_fen == 0:
            postage = o.price_fen  # a flat charge above the list postage replaces it
        elif o.discount_fen > 0:
            benefits.append(
                Benefit(
                    code=card.code if o.card and card is not None else f"{SHIP_PREFIX}{o.code}",
                    member_only=bool(o.card and card is not None),
                    kind=Kind.AMOUNT_OFF,
                    stage=Stage.SHIPPING,
                    amount_fen=o.discount_fen,
                    threshold_fen=o.threshold_fen,
                    stackable=False,
                    include_special_sale=True,
                    label=o.name,
                )
            )
    return (
        ShippingQuote(postage_fen=postage, courier=req.courier, region=dest.province or dest.country),
        benefits,
        dest,
        any(o.gift_alternative for o in offers),
    )


def _approval(req: CheckoutIn, member: Member | None, lock: bool) -> DiscountApproval | None:
    if req.approval_id is None:
        return None
    qs = DiscountApproval.objects.all()
    if lock:
        qs = locked_members(qs)
    a = qs.filter(pk=req.approval_id).first()
    if (
        a is None
        or a.state != DiscountApproval.State.APPROVED
        or a.member_id != (member.pk if member else None)
    ):
        raise DomainError(E.ORDER_APPROVAL_INVALID, field="approval_id")
    return a


def prepare(req: CheckoutIn, *, now: datetime, lock: bool = False) -> Prepared:
    """Everything the engine needs; ``lock`` (inside settlement) locks the member row first so a
    member's settlements run one after the other."""
    _check_request(req)
    member = _member_of(req, lock)
    store = None
    if req.store_id is not None:
        store = Store.objects.filter(pk=req.store_id).first()
        if store is None:
            raise _bad("store_id")
    products = _products(req)
    is_member = member is not None
    level = current_level(member=member) if member is not None else None
    price_rate = level.price_rate_bp if level else 10_000
    ctx = MemberContext(
        is_member=is_member,
        price_rate_bp=price_rate,
        points_multiplier_bp=level.points_multiplier_bp if level else 10_000,
        tier_code=level.code if level else "",
    )
    # Member kind (old/new) is read before this order is booked into the statistics.
    rule_set = active_rule_set()
    tariff = tariff_of(rule_set) if rule_set else None
    member_kind = (
        member_kind_of(member=member, tariff=tariff) if tariff else ("non_member" if member is None else "")
    )
    specials = member_prices(product_ids=[p.pk for p in products.values()], now=now) if is_member else {}
    lines, rule_lines, flash_refs, refs_by_sku = [], [], [], {}
    for i, ln in enumerate(req.lines):
        ref = str(i + 1)
        p = products[ref]
        unit = p.list_price_fen if ln.unit_price_fen is None else ln.unit_price_fen
        flash_price = None
        if ln.flash:
            offer = flash_offer(product_id=p.pk, member=member, now=now)
            if offer is None or offer.reason_code:
                raise DomainError(
                    E.ORDER_FLASH_UNAVAILABLE,
                    field=f"lines[{i}].flash",
                    why=(offer.reason_code if offer else "FLASH_NOT_ON_SALE"),
                )
            flash_price = offer.unit_price_fen
            flash_refs.append(ref)
        lines.append(
            CartLine(
                ref=ref,
                unit_price_fen=unit,
                quantity=ln.quantity,
                product_id=p.pk,
                category_id=p.category_id,
                special_sale=p.is_special_sale,
                member_price_fen=specials.get(p.pk),
                flash_price_fen=flash_price,
            )
        )
        rule_lines.append(
            RuleLine(
                ref=ref,
                product_id=p.pk,
                sku=p.sku,
                category_id=p.category_id,
                unit_price_fen=unit,
                quantity=ln.quantity,
                special_sale=p.is_special_sale,
            )
        )
        refs_by_sku.setdefault(p.sku, []).append(ref)
    cart = Cart(lines=tuple(lines), group_purchase=req.group_purchase)
    # Coupons
    channel_kind = "online" if req.courier or req.channel != "store" else "store"
    codes = [c.strip().upper() for c in req.coupon_codes]
    coupons: dict[str, Coupon] = {}
    if codes:
        qs = Coupon.objects.select_related("template").filter(code__in=codes)
        found = {c.code: c for c in qs}
        groups: dict[str, str] = {}
        for code in codes:
            c = found.get(code)
            if c is None:
                raise DomainError(PE.COUPON_NOT_FOUND, field="coupon_codes")
            _coupon_check(c, member, now, channel_kind)
            g = c.template.exclusive_group
            if g and g in groups:
                raise DomainError(E.ORDER_COUPONS_EXCLUSIVE, field="coupon_codes", a=groups[g], b=code)
            if g:
                groups[g] = code
            coupons[code] = c
    cards = [c for c in coupons.values() if c.template.kind == CouponKind.FREE_SHIPPING]
    if len(cards) > 1:
        raise DomainError(E.ORDER_COUPONS_EXCLUSIVE, field="coupon_codes", a=cards[0].code, b=cards[1].code)
    ship_quote, ship_benefits, dest, gift_alternative = _shipping(
        req,
        tariff,
        member_kind or "non_member",
        bool(level and level.free_shipping),  # the level that prices the member (own or group's)
        cards[0] if cards else None,
    )
    benefits: list[Benefit] = [
        coupon_benefit(c, refs_by_sku)
        for c in coupons.values()
        if c.template.kind != CouponKind.FREE_SHIPPING
    ]
    benefits += ship_benefits
    offers = order_offers(lines=rule_lines, is_member=is_member, now=now) if not req.group_purchase else []
    if gift_alternative and not req.prefer_gift:
        # Free shipping was chosen over the gift: the cart gifts of gift rules (须拍下) are not given.
        offers = [o for o in offers if not (o.code.startswith("gift:") and o.gift_ref is not None)]
    benefits += [_offer_benefit(o) for o in offers]
    approval = _approval(req, member, lock)
    if approval is not None:
        benefits.append(
            Benefit(
                code=f"approval:{approval.pk}",
                kind=Kind.AMOUNT_OFF,
                amount_fen=approval.amount_fen,
                include_special_sale=True,
                label=gettext("approved extra discount"),
            )
        )
    # Payment
    wallet_available = points_available = 0
    if member is not None and req.wallet_fen:
        w = wallet_summary(member=member)
        wallet_available = 0 if w["closed"] else w["balance_fen"]
        if req.wallet_fen > wallet_available:
            raise DomainError(E.ORDER_WALLET_SHORT, field="wallet_fen", available=wallet_available)
    settings_row = order_settings()
    points_active = member is not None and PointsProgramme.objects.filter(is_active=True).exists()
    if req.points:
        if member is None or not points_active:
            raise _bad("points")
        points_available = available_points(member, now)
        if req.points > points_available:
            raise DomainError(E.ORDER_POINTS_SHORT, field="points", available=points_available)
    payment = PaymentRequest(
        wallet_available_fen=wallet_available,
        wallet_asked_fen=req.wallet_fen,
        points_available=points_available,
        points_asked=req.points,
        points_per_unit=settings_row.points_per_yuan_paid,
        fen_per_unit=100,
    )
    order = Order(cart=cart, member=ctx, benefits=tuple(benefits), shipping=ship_quote, payment=payment)
    return Prepared(
        request=req,
        order=order,
        member=member,
        store=store,
        products=products,
        coupons=coupons,
        flash_refs=tuple(flash_refs),
        approval=approval,
        member_kind=member_kind,
        tier_code=ctx.tier_code,
        destination=dest,
        offers=[{"code": o.code, "label": o.label, "gift_item_id": o.gift_item_id} for o in offers],
        rule_lines=tuple(rule_lines),
        points_active=points_active,
    )
