from __future__ import annotations

import logging
import time
import uuid

from . import context

request_log = logging.getLogger("laoke.request")


def client_ip(request) -> str | None:
    # Behind a proxy, configure it to set X-Real-IP; never trust X-Forwarded-For blindly.
    return request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    """Runs after authentication: binds the console user (if any), IP, language and a request id
    for audit rows and logs. API token auth rebinds the user later."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
        started = time.perf_counter()
        user = getattr(request, "user", None)
        with context.using(
            ip=client_ip(request),
            request_id=rid,
            user=user if user is not None and user.is_authenticated else None,
            lang=getattr(request, "LANGUAGE_CODE", "zh-hans"),
        ) as ctx:
            request.laoke_ctx = ctx
            response = self.get_response(request)
            # The access log: one JSON line per request, through the PII filter (a mobile in a
            # query string is masked), instead of gunicorn's plain-text access log.
            request_log.info(
                "%s %s %s",
                request.method,
                request.get_full_path()[:500],
                response.status_code,
                extra={
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "user": getattr(ctx.user, "username", None),
                },
            )
        response["X-Request-ID"] = rid
        return response


class ShopLocaleMiddleware:
    """Console pages are in the shop's language (zh-hans) unless the user picked another one
    (language cookie); the API also honours Accept-Language, since its callers are programs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        supported = {code for code, _ in settings.LANGUAGES}
        if request.path.startswith("/api/"):
            lang = translation.get_language_from_request(request)
        else:
            lang = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
        if lang not in supported:
            lang = settings.LANGUAGE_CODE
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", lang)
        return response
