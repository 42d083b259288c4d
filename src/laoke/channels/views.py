"""Public unsubscribe pages (/u/): no login, the signed token is the proof.

- GET ``/u/unsubscribe/<token>/``: a confirm page (zh-hans/en) with one button;
- POST there (CSRF-protected form): withdraw the consent, show "done";
- POST ``/u/unsubscribe/<token>/one-click/``: RFC 8058 one-click from the mail client — no page,
  no cookie, so CSRF-exempt (the signed token is the proof, and the request does only this);
- a bad or tampered token: a clear 400 page, nothing changes.

The withdrawal is ``channels.services.unsubscribe_by_token``: ``members.services.member_unsubscribe``
with source "unsubscribe-link" (``consent_set(granted=False)`` that also accepts a merged member —
an opt-out is never refused), then the member's pending marketing on that channel is stopped.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from laoke.core.errors import DomainError
from laoke.members.models import Consent

from .services import unsubscribe_by_token
from .unsubscribe import unsubscribe_token_read

CHANNEL_LABELS = {
    "sms": ("短信", "SMS"),
    "email": ("邮件", "email"),
    "phone": ("电话", "phone calls"),
    "direct_mail": ("直邮", "direct mail"),
    "app_push": ("消息推送", "app and chat messages"),
}


def _in_chosen_language(view):
    """The pages are in the shop's language (zh-hans) unless ``?lang=en`` (the links at the
    bottom of each page) or the language cookie asks for another: a member has no console
    settings, and the link in a message cannot know the reader's language."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        supported = {code for code, _ in settings.LANGUAGES}
        lang = request.GET.get("lang") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or ""
        if lang not in supported:
            return view(request, *args, **kwargs)
        with translation.override(lang):
            request.LANGUAGE_CODE = lang
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            return response

    return wrapper


def _bad(request) -> TemplateResponse:
    return TemplateResponse(request, "channels/unsubscribe_invalid.html", {}, status=400)


def _label(request, channel: str) -> str:
    zh, en = CHANNEL_LABELS.get(channel, (channel, channel))
    return en if (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en") else zh


def _withdraw(token: str, note: str) -> None:
    unsubscribe_by_token(token=token, note=note)


@require_http_methods(["GET", "POST", "HEAD"])
@_in_chosen_language
def unsubscribe(request, token: str):
    try:
        member_id, channel = unsubscribe_token_read(token)
    except DomainError:
        return _bad(request)
    ctx = {"token": token, "channel": _label(request, channel)}
    if request.method == "POST":
        try:
            _withdraw(token, "confirm page")
        except DomainError:
            return _bad(request)
        return TemplateResponse(request, "channels/unsubscribe_done.html", ctx)
    withdrawn = Consent.objects.filter(
        member_id=member_id, channel=channel, state=Consent.State.WITHDRAWN
    ).exists()
    return TemplateResponse(request, "channels/unsubscribe.html", {**ctx, "already": withdrawn})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_one_click(request, token: str):
    if request.method == "GET":  # a person following the link: show the confirm page
        return HttpResponseRedirect(reverse("channels_unsubscribe", args=[token]))
    try:
        _withdraw(token, "one-click")
    except DomainError:
        return HttpResponse(
            "invalid unsubscribe link\n", status=400, content_type="text/plain; charset=utf-8"
        )
    return HttpResponse("unsubscribed\n", content_type="text/plain; charset=utf-8")
