"""The cashier's checkout page (收银结算): look a member up, enter the cart, quote (试算) with the
engine's line-by-line explanation, settle once.

Thin over ``laoke.orders.services``: the page builds a ``CheckoutIn`` from the form, asks
``order_quote`` for the explanation or ``order_settle`` for the order. A double click settles
once: the page carries an idempotency key drawn when it was rendered, claimed through
``laoke.core.idempotency`` exactly as the API claims an ``Idempotency-Key`` (same key + same cart
→ the stored order; a duplicate still running → "being processed"). After a settlement the
browser is redirected to the receipt (POST/redirect/GET), so a reload settles nothing either.
"""

from __future__ import annotations

import dataclasses
import secrets
from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from laoke.cards.selectors import wallet_summary
from laoke.core import clock, idempotency
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.money import MoneyFormatError, format_yuan, rate_label, yuan_to_fen
from laoke.members.models import Member
from laoke.members.selectors import mask_mobile, member_search, member_visible_queryset
from laoke.orders import selectors as order_selectors
from laoke.orders import services
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.models import PaymentMethod
from laoke.points.selectors import points_balance
from laoke.promotions.selectors import usable_coupons
from laoke.shipping.models import Courier
from laoke.tiers.selectors import current_level

SCOPE = "console.orders.settle"
MAX_FORM_LINES = 50
PAY_METHODS = (PaymentMethod.CASH, PaymentMethod.ONLINE, PaymentMethod.COD)


def _stage_labels() -> dict[str, str]:
    return {
        "flash": _("flash-zone price"),
        "member_price": _("member special price"),
        "tier": _("tier discount"),
        "coupons": _("coupons"),
        "gifts": _("gifts"),
        "shipping": _("shipping"),
        "payment": _("payment"),
    }


class FormError(Exception):
    pass


# --- member lookup -------------------------------------------------------------------------------


def find_member(user, text: str) -> Member | None:
    """A membership card number, a mobile or a member number (exact), or a name fragment that
    matches one member only — among the members this user may see."""
    text = (text or "").strip()
    if not text:
        return None
    visible = member_visible_queryset(user)
    by_card = list(
        visible.filter(membership_cards__number__iexact=text, membership_cards__state="active")[:2]
    )
    if len(by_card) == 1:
        return by_card[0]
    found = list(member_search(user, q=text)[:2])
    return found[0] if len(found) == 1 else None


def _member_panel(user, member: Member) -> dict:
    level = current_level(member=member)
    wallet = wallet_summary(member=member)
    pts = points_balance(member=member)
    # Always masked at the till (the cashier typed it; a full view would be a PII view to audit).
    shown = mask_mobile(member.mobile) if member.mobile else ""
    coupons = []
    for u in usable_coupons(member):
        tpl = u.coupon.template
        coupons.append(
            {
                "code": u.coupon.code,
                "name": tpl.name,
                "threshold": format_yuan(tpl.threshold_fen) if tpl.threshold_fen else "",
                "channel": tpl.get_sales_channel_display() if tpl.sales_channel else "",
                "valid_to": clock.to_local(u.coupon.valid_to).strftime("%Y-%m-%d %H:%M"),
            }
        )
    return {
        "id": member.pk,
        "code": member.code,
        "name": member.name or member.code,
        "mobile": shown,
        "tier": level.name if level else "",
        "wallet_fen": 0 if wallet["closed"] else wallet["balance_fen"],
        "wallet": format_yuan(0 if wallet["closed"] else wallet["balance_fen"]),
        "wallet_closed": wallet["closed"],
        "points": pts.available,
        "coupons": coupons,
        "url": reverse("member_360", args=[member.pk]),
    }


# --- the form ------------------------------------------------------------------------------------


def _blank_form() -> dict:
    return {
        "member": "",
        "member_id": "",
        "lines": [{"sku": "", "qty": "1"}],
        "coupons": [],
        "fulfil": "pickup",
        "courier": Courier.NORMAL,
        "address": "",
        "group_purchase": False,
        "wallet": "",
        "points": "",
        "payment_method": PaymentMethod.CASH,
        "approval_id": "",
        "note": "",
        "key": secrets.token_urlsafe(18),
    }


def _read_form(post) -> dict:
    skus, qtys = post.getlist("sku"), post.getlist("qty")
    lines = [
        {"sku": s.strip(), "qty": (q or "").strip()}
        for s, q in list(zip(skus, qtys, strict=False))[:MAX_FORM_LINES]
        if s.strip() or (q or "").strip() not in ("", "1")
    ]
    return {
        "member": post.get("member", "").strip(),
        "member_id": post.get("member_id", "").strip(),
        "lines": lines,
        "coupons": [c.strip().upper() for c in post.getlist("coupon") if c.strip()],
        "fulfil": "courier" if post.get("fulfil") == "courier" else "pickup",
        "courier": post.get("courier", Courier.NORMAL),
        "address": post.get("address", "").strip()[:255],
        "group_purchase": bool(post.get("group_purchase")),
        "wallet": post.get("wallet", "").strip(),
        "points": post.get("points", "").strip(),
        "payment_method": post.get("payment_method", PaymentMethod.CASH),
        "approval_id": post.get("approval_id", "").strip(),
        "note": post.get("note", "").strip()[:255],
        "key": (post.get("key") or "").strip()[:64] or secrets.token_urlsafe(18),
    }


def _int(text: str, label: str, *, minimum: int = 0) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise FormError(_("%(field)s: enter a whole number.") % {"field": label}) from None
    if value < minimum:
        raise FormError(_("%(field)s: enter a whole number.") % {"field": label})
    return value


def _checkout_in(form: dict, member: Member | None) -> CheckoutIn:
    lines = []
    for i, ln in enumerate(form["lines"], start=1):
        if not ln["sku"]:
            raise FormError(_("Line %(n)d: enter a SKU.") % {"n": i})
        qty = _int(ln["qty"] or "1", _("Line %(n)d quantity") % {"n": i}, minimum=1)
        lines.append(LineIn(sku=ln["sku"], quantity=qty))
    if not lines:
        raise FormError(_("Add at least one line (SKU and quantity)."))
    wallet_fen = 0
    if form["wallet"]:
        try:
            wallet_fen = yuan_to_fen(Decimal(form["wallet"]))
        except (InvalidOperation, MoneyFormatError, ValueError):
            raise FormError(_("Wallet amount: enter yuan, e.g. 12.50.")) from None
        if wallet_fen < 0:
            raise FormError(_("Wallet amount: enter yuan, e.g. 12.50."))
    points = _int(form["points"], _("Points")) if form["points"] else 0
    approval_id = _int(form["approval_id"], _("Approval number"), minimum=1) if form["approval_id"] else None
    if (wallet_fen or points or form["coupons"]) and member is None:
        raise FormError(_("Look up the member first: wallet, points and coupons are a member's."))
    courier = form["courier"] if form["fulfil"] == "courier" else ""
    if courier and not form["address"]:
        raise FormError(_("Enter the delivery address."))
    if form["payment_method"] not in PAY_METHODS:
        raise FormError(_("Choose a payment method."))
    return CheckoutIn(
        lines=tuple(lines),
        member_id=member.pk if member else None,
        channel="store",
        group_purchase=form["group_purchase"],
        coupon_codes=tuple(form["coupons"]),
        courier=courier,
        address=form["address"] if courier else "",
        wallet_fen=wallet_fen,
        points=points,
        payment_method=form["payment_method"],
        approval_id=approval_id,
        note=form["note"],
    )


# --- the explanation -----------------------------------------------------------------------------


def _labels(prepared) -> dict[str, str]:
    """Benefit code → what the cashier reads (the coupon's or rule's name)."""
    rate = prepared.order.member.price_rate_bp
    tier = _("tier discount")
    labels = {
        "tier": f"{tier} ({rate_label(rate)})" if rate < 10_000 else tier,
        "member_price": _("member special price"),
        "flash": _("flash-zone price"),
        "points": _("points"),
        "wallet": _("wallet"),
    }
    for b in prepared.order.benefits:
        if b.label:
            labels[b.code] = f"{b.label} ({b.code})" if b.code in prepared.coupons else b.label
    for o in prepared.offers:
        labels.setdefault(o["code"], o["label"] or o["code"])
    return labels


def explain(q) -> dict:
    """The quote as the page shows it: lines with each discount by rule, why rules did not apply,
    postage, the payment split and the total (reasons in the request's language)."""
    r, prep = q.result, q.prepared
    labels, stages = _labels(prep), _stage_labels()
    lines = []
    for ln in r.lines:
        product = prep.products[ln.ref]
        lines.append(
            {
                "ref": ln.ref,
                "sku": product.sku,
                "title": product.title,
                "quantity": ln.quantity,
                "unit": format_yuan(ln.unit_price_fen),
                "gross": format_yuan(ln.gross_fen),
                "net": format_yuan(ln.net_fen),
                "text": ln.text(),
                "special_sale": ln.special_sale,
                "discounts": [
                    {"label": labels.get(code, code), "amount": format_yuan(fen)}
                    for code, fen in ln.discounts.items()
                ],
                "reasons": [
                    {
                        "stage": stages.get(stage, stage),
                        "rule": labels.get(dict(reason.params).get("benefit", ""), ""),
                        "text": reason.text,
                    }
                    for stage, reason in ln.reasons
                ],
            }
        )
    not_applied = []
    for st in r.stages:
        for o in st.outcomes:
            if o.applied or not o.reasons:
                continue
            not_applied.append(
                {
                    "stage": stages.get(st.stage, st.stage),
                    "rule": labels.get(o.code, o.code),
                    "reasons": [x.text for x in o.reasons],
                }
            )
    ship = r.shipping
    return {
        "lines": lines,
        "not_applied": not_applied,
        "shipping": {
            "gross": format_yuan(ship.gross_fen),
            "net": format_yuan(ship.net_fen),
            "discounts": [
                {"label": labels.get(code, code), "amount": format_yuan(fen)}
                for code, fen in ship.discounts.items()
            ],
            "shown": bool(ship.gross_fen),
        },
        "offers": [o for o in prep.offers if o.get("label")],
        "goods_gross": format_yuan(r.goods_gross_fen),
        "goods_net": format_yuan(r.goods_net_fen),
        "discount": format_yuan(r.goods_gross_fen - r.goods_net_fen + ship.gross_fen - ship.net_fen),
        "total": format_yuan(r.total_fen),
        "points_used": r.points_used,
        "points_fen": format_yuan(r.points_fen),
        "wallet": format_yuan(r.wallet_fen),
        "cash": format_yuan(r.cash_fen),
        "text": r.text(),
        "member_kind": prep.member_kind,
        "tier_code": prep.tier_code,
    }


# --- the page ------------------------------------------------------------------------------------


def _member_of_form(user, form: dict) -> Member | None:
    if not form["member_id"]:
        return None
    try:
        pk = int(form["member_id"])
    except ValueError:
        return None
    return member_visible_queryset(user).filter(pk=pk).first()


def _settle(request, checkout: CheckoutIn, key: str):
    """Settle at most once per page key: returns the order number (new or the stored one)."""
    claim = idempotency.claim(
        scope=f"{SCOPE}@{request.user.pk}", key=key, payload=dataclasses.asdict(checkout)
    )
    if claim.replay is not None:
        return claim.replay[1]["number"]
    claim.render = lambda order: (201, {"id": order.pk, "number": order.number})
    try:
        order = services.order_settle(request=checkout, actor=request.user, idem=claim)
    except BaseException:
        idempotency.release(claim)
        raise
    return order.number


@permission_required("orders.settle_order", raise_exception=True)
def checkout(request):
    """收银结算: lookup, cart, quote and settle on one page."""
    lang = request_lang(request)
    form = _read_form(request.POST) if request.method == "POST" else _blank_form()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    error = None
    quote = None
    member = None
    if action == "lookup":
        member = find_member(request.user, form["member"])
        if member is None:
            error = _("No single member matches this mobile, member number or card number.")
            form["member_id"] = ""
        else:
            form["member_id"] = str(member.pk)
            form["coupons"] = []
    elif action == "forget_member":
        form.update(member="", member_id="", coupons=[], wallet="", points="")
    else:
        member = _member_of_form(request.user, form)
        if form["member_id"] and member is None:
            error = _("No single member matches this mobile, member number or card number.")
            form["member_id"] = ""
    if action == "add_line" or not form["lines"]:
        form["lines"].append({"sku": "", "qty": "1"})
    if action in ("quote", "settle") and error is None:
        try:
            req = _checkout_in(form, member)
            if action == "quote":
                quote = explain(services.order_quote(request=req))
            else:
                number = _settle(request, req, form["key"])
                messages.success(request, _("Order %(number)s settled.") % {"number": number})
                return redirect(reverse("orders_receipt", args=[number]))
        except FormError as exc:
            error = str(exc)
        except DomainError as exc:
            error = exc.message(lang)
    context = {
        **admin.site.each_context(request),
        "title": _("Checkout"),
        "form": form,
        "member": _member_panel(request.user, member) if member else None,
        "error": error,
        "quote": quote,
        "couriers": Courier.choices,
        "pay_methods": [(m.value, m.label) for m in PAY_METHODS],
    }
    return TemplateResponse(request, "console/orders/checkout.html", context, status=422 if error else 200)


@permission_required("orders.settle_order", raise_exception=True)
def receipt(request, number: str):
    """The settled order as a receipt, with a link to it in the orders admin."""
    try:
        order = order_selectors.order_get(number, user=request.user)
    except DomainError as exc:
        raise Http404(exc.message(request_lang(request))) from exc
    member = order.member
    explanation = order.explanation or {}
    labels = {oc.coupon.code: f"{oc.coupon.template.name} ({oc.coupon.code})" for oc in order.coupons.all()}
    labels.update({o["code"]: o["label"] for o in explanation.get("offers", []) if o.get("label")})
    labels.update({"tier": _("tier discount"), "member_price": _("member special price")})
    lines = [
        {
            "sku": ln.sku,
            "title": ln.title,
            "quantity": ln.quantity,
            "unit": format_yuan(ln.unit_price_fen),
            "gross": format_yuan(ln.gross_fen),
            "net": format_yuan(ln.net_fen),
            "discounts": [
                {"label": labels.get(code, code), "amount": format_yuan(fen)}
                for code, fen in ln.discounts.items()
            ],
        }
        for ln in order.lines.all()
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Receipt %(number)s") % {"number": order.number},
        "order": order,
        "lines": lines,
        "member": member,
        "member_mobile": mask_mobile(member.mobile) if member and member.mobile else "",
        "courier": dict(Courier.choices).get(order.courier, order.courier),
        "paid_at": clock.to_local(order.paid_at).strftime("%Y-%m-%d %H:%M") if order.paid_at else "",
        "money": {
            "goods_gross": format_yuan(order.goods_gross_fen),
            "goods_net": format_yuan(order.goods_net_fen),
            "postage": format_yuan(order.postage_net_fen),
            "total": format_yuan(order.total_fen),
            "points_fen": format_yuan(order.points_fen),
            "wallet": format_yuan(order.wallet_fen),
            "cash": format_yuan(order.cash_fen),
        },
        "coupons": [labels.get(oc.coupon.code) for oc in order.coupons.all()],
        "text": explanation.get("text", ""),
        "admin_url": reverse("admin:orders_order_change", args=[order.pk])
        if request.user.has_perm("orders.view_order")
        else "",
    }
    return TemplateResponse(request, "console/orders/receipt.html", context)
