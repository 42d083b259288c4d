"""The member H5 pages at /m/ (mobile-first; zh-hans default, en switch). Plain templates and one
small vanilla JS file that calls /api/v1/me/ — no build step, no CDN. The pages render no member
data server-side: they check the session cookie (else → login) and the JS fetches the rest."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .auth import COOKIE
from .services import session_lookup

PAGES = {
    "home": "portal/home.html",
    "recharge": "portal/recharge.html",
    "packages": "portal/packages.html",
    "result": "portal/result.html",
    "signin": "portal/signin.html",
    "gifts": "portal/gifts.html",
    "receipt": "portal/receipt.html",
    "referral": "portal/referral.html",
    "settings": "portal/settings.html",
    "history": "portal/history.html",
}


def strings() -> dict[str, str]:
    """The few texts the page script writes itself (API errors come translated from the API)."""
    return {
        "network": _("Network error: please try again"),
        "done": _("Done"),
        "streak": _("Streak (days)"),
        "redeem": _("Redeem"),
        "buy": _("Buy"),
        "points": _("points"),
        "closed": _("The redemption window is closed today"),
        "outOfStock": _("Out of stock"),
        "waiting": _("Waiting for the payment…"),
        "paid": _("Paid: the package is in your wallet"),
        "notPaid": _("Not paid"),
        "sent": _("Code sent: check your SMS"),
        "recharged": _("Recharged"),
        "none": _("Nothing yet"),
        "toNext": _("to the next level"),
        "top": _("Top level reached"),
        "unsubscribed": _("Unsubscribed"),
        "bonus": _("bonus"),
        "accepted": _("You accepted this version"),
        "notAccepted": _("Not accepted yet"),
        "expiring": _("expiring soon"),
        "claimed": _("Submitted: the store will check your receipt"),
        "kinds": {
            "order": _("Order"),
            "points": _("Points"),
            "wallet": _("Wallet"),
            "redemption": _("Gift"),
        },
    }


def _page(name: str):
    @require_GET
    def view(request):
        if session_lookup(request.COOKIES.get(COOKIE)) is None:
            return HttpResponseRedirect("/m/login/")
        return render(request, PAGES[name], {"page": name, "i18n": strings()})

    view.__name__ = f"portal_{name}"
    return view


@require_GET
def login_page(request):
    ref = request.GET.get("ref", "")[:20]
    return render(request, "portal/login.html", {"page": "login", "ref": ref, "i18n": strings()})


@require_GET
def language(request, code: str):
    nxt = request.GET.get("next") or "/m/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/m/"
    response = HttpResponseRedirect(nxt)
    if code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=365 * 86400,
            samesite="Lax",
            secure=settings.LANGUAGE_COOKIE_SECURE,
        )
    return response


views = {name: _page(name) for name in PAGES}
