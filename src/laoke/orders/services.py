"""Order writes: settle (one durable transaction booking everything the engine decided), refund
and return (reversing each part exactly along the recorded split), shipping and delivery, reviews
with the COD default review, big-order discount approvals, and the order settings.

Settlement order inside the transaction (SPEC 5): lock the member → price (``checkout.prepare``
+ ``engine.quote``) → order and lines → coupons redeemed (guarded UPDATE: exactly once) → flash
units claimed (guarded stock) → approval used → points spent → wallet debited → points earned →
statistics → tier re-evaluation → 满就送 coupons → referral → audit. Any refusal rolls all of it
back. Every value movement is keyed by the order number (``order:{number}``) or the refund key
(``refund:{key}``), so a retried call moves nothing twice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from laoke.cards.models import WalletClosure
from laoke.cards.wallet import _wallet_credit, _wallet_debit
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, DomainError
from laoke.flash.services import _flash_claim, _flash_release
from laoke.ledger.models import Account
from laoke.points.earning import _points_earn, _points_reverse, _points_spend
from laoke.points.models import PointsEarning
from laoke.points.rules import EarnLine
from laoke.promotions.rule_services import _bundle_cards_issue, _full_send_issue, _full_send_revoke
from laoke.promotions.services import _coupon_redeem, _coupon_release
from laoke.referrals.services import _referral_order_paid, _referral_order_refunded
from laoke.stats.services import _stats_add
from laoke.tiers.services import _tiers_evaluate

from . import error_codes as E
from .checkout import CheckoutIn, Prepared, order_settings, prepare
from .engine import SHIPPING_REF, LineResult, SettlementResult, quote, refund_split
from .models import (
    DiscountApproval,
    Order,
    OrderCoupon,
    OrderLine,
    OrderReview,
    OrderSettings,
    OrderStatus,
    PaymentMethod,
    Refund,
    RefundLine,
    ReviewLevel,
)

REFUNDABLE = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
)


@dataclass
class QuoteOut:
    prepared: Prepared
    result: SettlementResult


def order_quote(*, request: CheckoutIn, now: datetime | None = None) -> QuoteOut:
    """试算: the price and its explanation; nothing is written."""
    now = now or clock.now()
    prep = prepare(request, now=now)
    return QuoteOut(prep, quote(prep.order))


def _new_number(now: datetime) -> str:
    return f"LK{clock.to_local(now):%Y%m%d%H%M}{secrets.randbelow(10**8):08d}"


def _create_order(prep: Prepared, result: SettlementResult, *, now: datetime, actor) -> Order:
    req = prep.request
    method = req.payment_method if result.cash_fen else PaymentMethod.NONE
    delivered = not req.courier  # picked up at the till: handed over now
    fields = dict(
        member=prep.member,
        store=prep.store,
        channel=req.channel[:16] or "store",
        status=OrderStatus.DELIVERED if delivered else OrderStatus.PAID,
        group_purchase=req.group_purchase,
        member_kind=prep.member_kind,
        tier_code=prep.tier_code,
        ship_to=req.address[:255],
        ship_country=(prep.destination.country if prep.destination else ""),
        ship_province=(prep.destination.province if prep.destination else "")[:30],
        courier=req.courier,
        goods_gross_fen=result.goods_gross_fen,
        goods_net_fen=result.goods_net_fen,
        postage_gross_fen=result.shipping.gross_fen,
        postage_net_fen=result.shipping.net_fen,
        total_fen=result.total_fen,
        points_used=result.points_used,
        points_fen=result.points_fen,
        wallet_fen=result.wallet_fen,
        cash_fen=result.cash_fen,
        payment_method=method,
        explanation={**result.as_dict(), "offers": prep.offers},
        note=req.note[:255],
        created_by=actor if getattr(actor, "pk", None) else None,
        paid_at=now,
        delivered_at=now if delivered else None,
        created_at=now,
    )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(number=_new_number(now), **fields)
            break
        except IntegrityError:  # an order number taken in the same minute: draw again
            continue
    else:  # pragma: no cover - 10^8 numbers a minute
        raise RuntimeError("could not draw a free order number")
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            ref=ln.ref,
            product=prep.products[ln.ref],
            sku=prep.products[ln.ref].sku,
            title=prep.products[ln.ref].title[:200],
            category_id=ln.category_id,
            unit_price_fen=ln.unit_price_fen,
            quantity=ln.quantity,
            special_sale=ln.special_sale,
            flash=ln.ref in prep.flash_refs,
            member_price="member_price" in ln.discounts,
            returnable=prep.products[ln.ref].returnable,
            gross_fen=ln.gross_fen,
            net_fen=ln.net_fen,
            discounts=dict(ln.discounts),
            points_used=ln.points_used,
            points_fen=ln.points_fen,
            wallet_fen=ln.wallet_fen,
        )
        for ln in result.lines
    )
    return order


def _categories(lines, sign: int = 1) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for category_id, net, qty in lines:
        if category_id is None:
            continue
        s, q = out.get(category_id, (0, 0))
        out[category_id] = (s + sign * net, q + sign * qty)
    return out


def order_settle(
    *, request: CheckoutIn, actor=None, idem: idempotency.Claim | None = None, now: datetime | None = None
) -> Order:
    """Settle a checkout: one durable transaction, all or nothing (see the module docstring)."""
    now = now or clock.now()
    with transaction.atomic(durable=True):
        prep = prepare(request, now=now, lock=True)
        result = quote(prep.order)
        order = _create_order(prep, result, now=now, actor=actor)
        member, number = prep.member, order.number
        totals = result.benefit_totals()
        for code, coupon in sorted(prep.coupons.items()):
            if totals.get(code, 0) <= 0 and not result.outcome(code).applied:
                continue  # presented but did not apply: the member keeps it
            _coupon_redeem(coupon=coupon, member=member, order_ref=number, now=now)
            OrderCoupon.objects.create(order=order, coupon=coupon, discount_fen=totals.get(code, 0))
        lines_by_ref = {ln.ref: ln for ln in result.lines}
        for ref in prep.flash_refs:
            ln = lines_by_ref[ref]
            _flash_claim(
                product_id=prep.products[ref].pk,
                member=member,
                quantity=ln.quantity,
                order_ref=number,
                now=now,
            )
        if prep.approval is not None:
            if (
                DiscountApproval.objects.filter(
                    pk=prep.approval.pk, state=DiscountApproval.State.APPROVED
                ).update(state=DiscountApproval.State.USED, order=order)
                != 1
            ):
                raise DomainError(E.ORDER_APPROVAL_INVALID, field="approval_id")
        earned = 0
        if member is not None:
            earned = _book_member(order, result, member, now, earn_points=prep.points_active)
            if not order.group_purchase:
                _bundle_cards_issue(member=member, order_ref=number, lines=prep.rule_lines, now=now)
        before, after = _member_value(member, points=earned - order.points_used, wallet=-order.wallet_fen)
        audit_write(
            action="order.settle",
            obj=order,
            before=before,
            after={
                **after,
                "number": number,
                "member": member.pk if member else None,
                "total_fen": order.total_fen,
                "wallet_fen": order.wallet_fen,
                "points_used": order.points_used,
                "coupons": sorted(
                    c for c in prep.coupons if totals.get(c, 0) > 0 or result.outcome(c).applied
                ),
            },
            actor=actor,
        )
        idempotency.complete(idem, order)
    return order


def _member_value(member, *, points: int | None, wallet: int) -> tuple[dict | None, dict]:
    """The member's points and wallet (paid + bonus) after the settlement — its transfers hold
    those rows' locks — and before it (after minus what this settlement moved), for the audit."""
    if member is None:
        return None, {}
    kinds = (Account.Kind.POINTS, Account.Kind.WALLET, Account.Kind.WALLET_BONUS)
    now = dict(Account.objects.filter(member=member, kind__in=kinds).values_list("kind", "balance"))
    p_after = now.get(Account.Kind.POINTS, 0)
    w_after = now.get(Account.Kind.WALLET, 0) + now.get(Account.Kind.WALLET_BONUS, 0)
    before, after = {"wallet_balance_fen": w_after - wallet}, {"wallet_balance_fen": w_after}
    if points is not None:  # (a refund's points have their own points.refund row)
        before["points_balance"], after["points_balance"] = p_after - points, p_after
    return before, after


def _book_member(order: Order, result: SettlementResult, member, now: datetime, *, earn_points: bool) -> int:
    """Points, wallet, stats, tier, full-send and referral bookings of a member's order. Returns
    the points earned."""
    number = order.number
    key = f"order:{number}"
    if result.points_used:
        _points_spend(member=member, key=key, reference=number, points=result.points_used)
    if result.wallet_fen:
        _wallet_debit(
            member=member, amount_fen=result.wallet_fen, key=key, reason="order.pay", reference=number
        )
    earn = result.earn_lines()
    earned = 0
    if earn and earn_points:
        earned = _points_earn(
            member=member, key=key, reference=number, lines=[EarnLine(**d) for d in earn], at=now
        ).points
    _stats_add(
        member=member,
        spend_fen=result.goods_net_fen,
        orders=1,
        discount_fen=result.goods_gross_fen - result.goods_net_fen,
        categories=_categories((ln.category_id, ln.net_fen, ln.quantity) for ln in result.lines),
        at=now,
    )
    _tiers_evaluate(member=member, reason="order", at=now)
    if not order.group_purchase:
        _full_send_issue(member=member, order_ref=number, paid_fen=result.goods_net_fen, now=now)
    _referral_order_paid(
        member=member,
        order_ref=number,
        paid_fen=result.goods_net_fen,
        lines=[(ln.product_id, ln.quantity, ln.net_fen) for ln in result.lines],
        now=now,
    )
    return earned


# --- refunds --------------------------------------------------------------------------------------


def stored_result(order: Order) -> SettlementResult:
    """The settled split, rebuilt from the order's rows (what ``refund_split`` needs)."""
    lines = [
        LineResult(
            ref=ln.ref,
            quantity=ln.quantity,
            unit_price_fen=ln.unit_price_fen,
            gross_fen=ln.gross_fen,
            net_fen=ln.net_fen,
            product_id=ln.product_id,
            category_id=ln.category_id,
            special_sale=ln.special_sale,
            discounts=dict(ln.discounts),
            points_used=ln.points_used,
            points_fen=ln.points_fen,
            wallet_fen=ln.wallet_fen,
        )
        for ln in order.lines.all()
    ]
    ship = order.explanation.get("shipping") or {}
    shipping = LineResult(
        ref=SHIPPING_REF,
        quantity=1,
        unit_price_fen=order.postage_gross_fen,
        gross_fen=order.postage_gross_fen,
        net_fen=order.postage_net_fen,
        discounts=dict(ship.get("discounts") or {}),
        wallet_fen=order.wallet_fen - sum(ln.wallet_fen for ln in lines),
    )
    return SettlementResult(lines=lines, shipping=shipping, stages=[], group_purchase=order.group_purchase)


def _window_check(
    order: Order, lines: dict[str, OrderLine], quantities: dict[str, int], now: datetime
) -> str:
    """The refund's kind; raises when a delivered line may not be returned any more."""
    if order.delivered_at is None:
        return Refund.Kind.CANCEL
    s = order_settings()
    days = s.return_days_member if order.member_id else s.return_days_other
    for ref in sorted(quantities):
        ln = lines[ref]
        if not ln.returnable:
            raise DomainError(E.ORDER_NOT_RETURNABLE, field="lines", sku=ln.sku)
        if now > order.delivered_at + timedelta(days=days):
            raise DomainError(E.ORDER_RETURN_WINDOW_CLOSED, field="lines", sku=ln.sku, days=days)
    return Refund.Kind.RETURN


def order_refund(
    *,
    order_id: int,
    key: str,
    quantities: dict[str, int] | None = None,
    reason: str = "",
    restore_coupons: bool | None = None,
    override_window: bool = False,
    actor=None,
    idem: idempotency.Claim | None = None,
    now: datetime | None = None,
) -> Refund:
    """Refund ``quantities`` (line ref → units; None = everything not yet refunded). Gives back
    exactly the recorded parts: wallet, spent points, earned points taken back, the coupons when
    the refund completes the order (``restore_coupons`` None = each template's own setting), flash
    units, 满就送 coupons no longer earned, statistics. The cash part is what the shop pays back
    by the original method. Idempotent by ``key``."""
    now = now or clock.now()
    if not isinstance(key, str) or not key or len(key) > 120:
        raise DomainError(E.ORDER_REFUND_INVALID, field="key", why="key")
    with transaction.atomic(durable=True):
        done = Refund.objects.filter(key=key).first()
        if done is not None:
            if done.order_id != order_id:
                raise DomainError(E.ORDER_REFUND_INVALID, field="key", why="key used for another order")
            idempotency.complete(idem, done)
            return done
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise DomainError(E.ORDER_NOT_FOUND)
        if order.status not in REFUNDABLE:
            raise DomainError(E.ORDER_STATE, status=order.get_status_display())
        lines = {ln.ref: ln for ln in order.lines.select_for_update()}
        if quantities is None:
            quantities = {r: ln.quantity - ln.refunded_quantity for r, ln in lines.items()}
        quantities = {r: q for r, q in quantities.items() if q}
        if not quantities:
            raise DomainError(E.ORDER_REFUND_INVALID, field="lines", why="nothing to refund")
        for ref, q in quantities.items():
            if ref not in lines or isinstance(q, bool) or not isinstance(q, int) or q < 0:
                raise DomainError(E.ORDER_REFUND_INVALID, field="lines", why=f"line {ref}")
            if lines[ref].refunded_quantity + q > lines[ref].quantity:
                raise DomainError(E.ORDER_REFUND_INVALID, field="lines", why=f"line {ref}: too many")
        kind = Refund.Kind.RETURN if override_window and order.delivered_at else None
        kind = kind or _window_check(order, lines, quantities, now)
        split = refund_split(
            stored_result(order), quantities, already={r: ln.refunded_quantity for r, ln in lines.items()}
        )
        refund = _book_refund(order, lines, split, key=key, kind=kind, reason=reason, actor=actor, now=now)
        member = order.member
        if member is not None:
            _unbook_member(order, lines, split, refund, now)
        if split.shipping_included:  # the refund completes the order
            refund.coupons_restored = _release_coupons(order, restore_coupons, now)
            _flash_release(order_ref=order.number, now=now)
            if member is not None:
                _referral_order_refunded(order_ref=order.number, fully=True, now=now)
        refund.save()
        order.refunded_fen = F("refunded_fen") + split.net_fen
        order.status = OrderStatus.REFUNDED if split.shipping_included else OrderStatus.PARTIALLY_REFUNDED
        if split.shipping_included and order.delivered_at is None:
            order.status, order.cancelled_at = OrderStatus.CANCELLED, now
        order.save(update_fields=["refunded_fen", "status", "cancelled_at"])
        order.refresh_from_db()
        before, after = _member_value(member, points=None, wallet=refund.wallet_fen)
        audit_write(
            action=f"order.{kind}",
            obj=order,
            before=before,
            after={
                **after,
                "refund": refund.pk,
                "key": key,
                "lines": quantities,
                "net_fen": split.net_fen,
                "wallet_fen": refund.wallet_fen,
                "cash_fen": refund.cash_fen,
                "points_returned": refund.points_returned,
                "coupons_restored": refund.coupons_restored,
            },
            actor=actor,
        )
        idempotency.complete(idem, refund)
    return refund


def _book_refund(order, lines, split, *, key, kind, reason, actor, now) -> Refund:
    wallet_back = split.wallet_fen
    cash_back = split.cash_fen
    if wallet_back and order.member_id and WalletClosure.objects.filter(member_id=order.member_id).exists():
        cash_back, wallet_back = cash_back + wallet_back, 0  # the wallet was closed (销卡): pay it out
    goods = [ln for ln in split.lines if ln.ref != SHIPPING_REF]
    refund = Refund.objects.create(
        order=order,
        key=key,
        kind=kind,
        reason=reason[:255],
        completes_order=split.shipping_included,
        goods_net_fen=sum(ln.net_fen for ln in goods),
        postage_fen=split.net_fen - sum(ln.net_fen for ln in goods),
        points_fen=split.points_fen,
        wallet_fen=wallet_back,
        cash_fen=cash_back,
        discounts=split.benefits,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
    )
    RefundLine.objects.bulk_create(
        RefundLine(
            refund=refund,
            line=lines[ln.ref],
            quantity=ln.quantity,
            net_fen=ln.net_fen,
            points_used=ln.points_used,
            points_fen=ln.points_fen,
            wallet_fen=ln.wallet_fen,
            discounts=ln.discounts,
        )
        for ln in goods
    )
    for ln in goods:
        OrderLine.objects.filter(pk=lines[ln.ref].pk).update(
            refunded_quantity=F("refunded_quantity") + ln.quantity
        )
    return refund


def _unbook_member(order: Order, lines: dict[str, OrderLine], split, refund: Refund, now: datetime) -> None:
    member, number = order.member, order.number
    rkey = f"refund:{refund.key}"
    if refund.wallet_fen:
        _wallet_credit(
            member=member,
            amount_fen=refund.wallet_fen,
            key=rkey,
            reason="order.refund",
            source="wallet_spent",
            reference=number,
        )
    if PointsEarning.objects.filter(reference=number, member=member).exists():
        paid_back = {
            ln.ref: ln.net_fen - ln.points_fen
            for ln in split.lines
            if ln.ref != SHIPPING_REF and ln.net_fen > ln.points_fen
        }
        if paid_back or split.points_used:
            r = _points_reverse(key=rkey, reference=number, refunds=paid_back, spent_back=split.points_used)
            refund.points_returned = r.points_returned
    goods = [ln for ln in split.lines if ln.ref != SHIPPING_REF]
    goods_net = sum(ln.net_fen for ln in goods)
    _stats_add(
        member=member,
        spend_fen=-goods_net,
        orders=-1 if split.shipping_included else 0,
        discount_fen=-sum(f for ln in goods for f in ln.discounts.values()),
        categories=_categories(
            ((lines[ln.ref].category_id, ln.net_fen, ln.quantity) for ln in goods), sign=-1
        ),
        at=now,
    )
    if not order.group_purchase:
        left = order.goods_net_fen - _goods_refunded(order)
        _full_send_revoke(order_ref=number, paid_fen_after=left, now=now)


def _goods_refunded(order: Order) -> int:
    """Goods refunded so far, this refund included (its row exists already)."""
    return sum(Refund.objects.filter(order=order).values_list("goods_net_fen", flat=True))


def _release_coupons(order: Order, restore: bool | None, now: datetime) -> bool:
    restored = False
    for oc in OrderCoupon.objects.select_related("coupon").filter(order=order, released_at__isnull=True):
        coupon = _coupon_release(coupon=oc.coupon, order_ref=order.number, restore=restore, now=now)
        OrderCoupon.objects.filter(pk=oc.pk).update(released_at=now)
        restored = restored or coupon.state == "issued"
    return restored


# --- fulfilment and reviews -----------------------------------------------------------------------


def _transition(
    order_id: int, allowed: tuple[str, ...], changes: dict[str, Any], action: str, actor
) -> Order:
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise DomainError(E.ORDER_NOT_FOUND)
        if order.status not in allowed:
            raise DomainError(E.ORDER_STATE, status=order.get_status_display())
        before = {"status": order.status}
        for k, v in changes.items():
            setattr(order, k, v)
        order.save(update_fields=list(changes))
        audit_write(action=action, obj=order, before=before, after={"status": order.status}, actor=actor)
    return order


def order_ship(*, order_id: int, actor=None, now: datetime | None = None) -> Order:
    now = now or clock.now()
    return _transition(
        order_id, (OrderStatus.PAID,), {"status": OrderStatus.SHIPPED, "shipped_at": now}, "order.ship", actor
    )


def order_deliver(*, order_id: int, actor=None, now: datetime | None = None) -> Order:
    """Delivered (for COD: the courier collected the cash). Starts the return window and, for COD
    orders, the default-review clock."""
    now = now or clock.now()
    return _transition(
        order_id,
        (OrderStatus.PAID, OrderStatus.SHIPPED),
        {"status": OrderStatus.DELIVERED, "delivered_at": now},
        "order.deliver",
        actor,
    )


def order_review(
    *, order_id: int, level: str, text: str = "", actor=None, now: datetime | None = None
) -> OrderReview:
    if level not in ReviewLevel.values:
        raise DomainError(FIELD_INVALID, field="level", details={"allowed": list(ReviewLevel.values)})
    now = now or clock.now()
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise DomainError(E.ORDER_NOT_FOUND)
        if OrderReview.objects.filter(order=order).exists():
            raise DomainError(E.ORDER_REVIEW_EXISTS)
        review = OrderReview.objects.create(order=order, level=level, text=text[:2000], created_at=now)
        audit_write(
            action="order.review", obj=review, after={"order": order.number, "level": level}, actor=actor
        )
    return review


@dataclass
class OrdersTickReport:
    default_reviews: int = 0
    completed: int = 0


def reviews_tick(now: datetime) -> int:
    """COD orders delivered ``cod_review_hours`` ago without a review get the default positive
    review (好评). Idempotent: the review is one row per order."""
    hours = order_settings().cod_review_hours
    due = (
        Order.objects.filter(
            payment_method=PaymentMethod.COD,
            delivered_at__lte=now - timedelta(hours=hours),
            review__isnull=True,
        )
        .exclude(status__in=(OrderStatus.CANCELLED, OrderStatus.REFUNDED))
        .values_list("pk", flat=True)
        .order_by("pk")[:2000]
    )
    made = 0
    for pk in list(due):
        with transaction.atomic(durable=True):
            order = Order.objects.select_for_update().get(pk=pk)
            if OrderReview.objects.filter(order=order).exists():
                continue
            review = OrderReview.objects.create(
                order=order, level=ReviewLevel.PRAISE, is_default=True, created_at=now
            )
            audit_write(action="order.review.default", obj=review, after={"order": order.number})
            made += 1
    return made


def orders_tick(now: datetime) -> OrdersTickReport:
    """Default reviews, then orders whose return window has closed become completed."""
    report = OrdersTickReport(default_reviews=reviews_tick(now))
    s = order_settings()
    for days, has_member in ((s.return_days_member, True), (s.return_days_other, False)):
        qs = Order.objects.filter(
            status__in=(OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED),
            delivered_at__lte=now - timedelta(days=days),
            member__isnull=not has_member,
        )
        with transaction.atomic(durable=True):
            report.completed += qs.update(status=OrderStatus.COMPLETED, completed_at=now)
    return report


# --- big-order discount approvals -----------------------------------------------------------------


def discount_request(
    *, member_id: int | None, order_total_fen: int, amount_fen: int, reason: str, actor
) -> DiscountApproval:
    threshold = order_settings().approval_threshold_fen
    for name, v in (("order_total_fen", order_total_fen), ("amount_fen", amount_fen)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise DomainError(E.ORDER_SETTINGS_INVALID, field=name)
    if order_total_fen < threshold:
        raise DomainError(E.ORDER_APPROVAL_NOT_NEEDED, field="order_total_fen", threshold=threshold)
    if amount_fen > order_total_fen:
        raise DomainError(E.ORDER_SETTINGS_INVALID, field="amount_fen")
    if not reason or not reason.strip():
        raise DomainError(E.ORDER_SETTINGS_INVALID, field="reason")
    with transaction.atomic(durable=True):
        a = DiscountApproval.objects.create(
            member_id=member_id,
            order_total_fen=order_total_fen,
            amount_fen=amount_fen,
            reason=reason.strip()[:255],
            requested_by=actor,
            created_at=clock.now(),
        )
        audit_write(
            action="order.discount.request",
            obj=a,
            after={"member": member_id, "amount_fen": amount_fen, "order_total_fen": order_total_fen},
            actor=actor,
        )
    return a


def discount_decide(*, approval_id: int, approve: bool, note: str = "", actor) -> DiscountApproval:
    """A manager approves or rejects (not their own request); the decision is audited."""
    with transaction.atomic(durable=True):
        a = DiscountApproval.objects.select_for_update().filter(pk=approval_id).first()
        if a is None:
            raise DomainError(E.ORDER_NOT_FOUND, field="approval_id")
        if a.state != DiscountApproval.State.REQUESTED:
            raise DomainError(E.ORDER_APPROVAL_STATE)
        if a.requested_by_id == getattr(actor, "pk", None):
            raise DomainError(E.ORDER_APPROVAL_SELF)
        a.state = DiscountApproval.State.APPROVED if approve else DiscountApproval.State.REJECTED
        a.decided_by, a.decided_at, a.decision_note = actor, clock.now(), note[:255]
        a.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        audit_write(
            action=f"order.discount.{a.state}",
            obj=a,
            before={"state": DiscountApproval.State.REQUESTED.value},
            after={"state": a.state, "note": a.decision_note},
            actor=actor,
        )
    return a


# --- settings -------------------------------------------------------------------------------------

SETTINGS_FIELDS = {
    "return_days_member": (0, 365),
    "return_days_other": (0, 365),
    "cod_review_hours": (1, 24 * 30),
    "points_per_yuan_paid": (1, 100_000),
    "approval_threshold_fen": (0, 10**12),
}


def order_settings_update(*, data: dict[str, Any], actor=None) -> OrderSettings:
    for k, v in data.items():
        bounds = SETTINGS_FIELDS.get(k)
        if bounds is None or isinstance(v, bool) or not isinstance(v, int) or not bounds[0] <= v <= bounds[1]:
            raise DomainError(E.ORDER_SETTINGS_INVALID, field=k)
    with transaction.atomic(durable=True):
        OrderSettings.objects.get_or_create(pk=1, defaults={"updated_at": clock.now()})
        row = OrderSettings.objects.select_for_update().get(pk=1)
        before = {k: getattr(row, k) for k in SETTINGS_FIELDS}
        for k, v in data.items():
            setattr(row, k, v)
        b, a = diff(before, {k: getattr(row, k) for k in SETTINGS_FIELDS})
        if a:
            row.updated_at = clock.now()
            row.save()
            audit_write(action="order.settings", obj=row, before=b, after=a, actor=actor)
    return row
