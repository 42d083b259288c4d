"""Console pages of payments (/admin/console/payments/): recharge packages (list, create, switch
on/off) and online purchases with their state; a purchase's page with the provider's
notifications as received and the refund button. Thin over ``laoke.payments`` services and
selectors, like ``laoke.payments.api``."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.money import format_yuan
from laoke.payments import selectors, services
from laoke.payments.models import PackagePurchase

VIEW = "payments.view_packagepurchase"
ADD, CHANGE = "payments.add_rechargepackage", "payments.change_rechargepackage"
REFUND, RAW = "payments.refund_packagepurchase", "payments.view_paymentnotification"


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _local(dt) -> str:
    return clock.to_local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _yuan_to_fen(text: str) -> int:
    whole, _sep, frac = (text or "").strip().partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError(text)
    return int(whole) * 100 + int((frac + "00")[:2])


def _purchase_row(p: PackagePurchase) -> dict:
    return {
        "p": p,
        "price": format_yuan(p.price_fen),
        "bonus": format_yuan(p.bonus_fen),
        "state_label": p.get_state_display(),
        "provider_label": p.get_provider_display(),
        "created": _local(p.created_at),
        "paid": _local(p.paid_at),
    }


@permission_required(VIEW, raise_exception=True)
def payments_index(request):
    now = clock.now()
    state = request.GET.get("state") or ""
    if state not in PackagePurchase.State.values:
        state = ""
    packages = [
        {
            "p": p,
            "price": format_yuan(p.price_fen),
            "bonus": format_yuan(p.bonus_fen),
            "value": format_yuan(p.price_fen + p.bonus_fen),
            "on_sale": services.package_available(p, now),
        }
        for p in selectors.packages()
    ]
    purchases = [
        _purchase_row(p)
        for p in selectors.purchases_visible(request.user, state=state or None).order_by("-pk")[:100]
    ]
    return TemplateResponse(
        request,
        "console/payments/index.html",
        _ctx(
            request,
            _("Recharge packages and online payments"),
            packages=packages,
            purchases=purchases,
            states=PackagePurchase.State.choices,
            state=state,
            can_add=request.user.has_perm(ADD),
            can_change=request.user.has_perm(CHANGE),
        ),
    )


@require_POST
@permission_required(ADD, raise_exception=True)
def package_new(request):
    post = request.POST
    try:
        price, bonus = _yuan_to_fen(post.get("price", "")), _yuan_to_fen(post.get("bonus") or "0")
        limit = int(post["per_member_limit"]) if post.get("per_member_limit") else None
    except ValueError:
        messages.error(request, _("Enter the price and the bonus in yuan, e.g. 500 or 49.90."))
        return redirect("payments_index")
    try:
        p = services.package_create(
            name=post.get("name", ""),
            price_fen=price,
            bonus_fen=bonus,
            per_member_limit=limit,
            sort=int(post.get("sort") or 0),
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
    else:
        messages.success(request, _("Package “%(name)s” created.") % {"name": p.name})
    return redirect("payments_index")


@require_POST
@permission_required(CHANGE, raise_exception=True)
def package_toggle(request, package_id: int):
    try:
        p = next((x for x in selectors.packages() if x.pk == package_id), None)
        if p is None:
            raise DomainError(NOT_FOUND, field="package_id")
        services.package_update(package_id=package_id, changes={"active": not p.active}, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
    return redirect("payments_index")


@permission_required(VIEW, raise_exception=True)
def purchase_detail(request, purchase_id: int):
    try:
        p = selectors.purchase_get(request.user, purchase_id)
    except DomainError:
        raise Http404 from None
    notifications = []
    if request.user.has_perm(RAW):
        notifications = [
            {"n": n, "received": _local(n.received_at), "result_label": n.get_result_display()}
            for n in selectors.purchase_notifications(p)
        ]
    return TemplateResponse(
        request,
        "console/payments/purchase.html",
        _ctx(
            request,
            _("Purchase %(no)s") % {"no": p.out_trade_no},
            row=_purchase_row(p),
            refund=format_yuan(p.refund_fen),
            bonus_back=format_yuan(p.bonus_back_fen),
            refunded=_local(p.refunded_at),
            notifications=notifications,
            can_refund=request.user.has_perm(REFUND) and p.state == PackagePurchase.State.PAID,
            can_raw=request.user.has_perm(RAW),
        ),
    )


@require_POST
@permission_required(REFUND, raise_exception=True)
def purchase_refund(request, purchase_id: int):
    try:
        selectors.purchase_get(request.user, purchase_id)
        p = services.package_purchase_refund(
            purchase_id=purchase_id, reason=request.POST.get("reason", ""), actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
    else:
        if p.state == PackagePurchase.State.REFUNDED:
            messages.success(
                request,
                _("Refunded %(paid)s through the provider; %(bonus)s of bonus taken back.")
                % {"paid": format_yuan(p.refund_fen), "bonus": format_yuan(p.bonus_back_fen)},
            )
        else:
            messages.warning(
                request, _("The provider has not confirmed the refund yet; it will be asked again.")
            )
    return redirect("payments_purchase", purchase_id=purchase_id)
