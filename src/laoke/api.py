"""The REST API under /api/v1/: one NinjaAPI, one router per app, one error format.

Errors are ``{"code", "message", "details"}`` with the message in the caller's language
(Accept-Language: zh-hans default, en).
"""

import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer

from laoke.analytics.api import router as analytics_router
from laoke.b2b.api import router as b2b_router
from laoke.campaigns.api import router as campaigns_router
from laoke.cards.api import router as cards_router
from laoke.catalog.api import router as catalog_router
from laoke.channels.api import router as channels_router
from laoke.channels.api_sms import router as channels_sms_router
from laoke.core.api import AUTH, enforce_permissions, lang_of, openapi_postprocess, openapi_unique_names
from laoke.core.api_routes import router as core_router
from laoke.core.errors import (
    AUTH_REQUIRED,
    NOT_FOUND,
    PERMISSION_DENIED,
    VALIDATION_ERROR,
    DomainError,
    define,
)
from laoke.core.storage_errors import storage_error
from laoke.events.api import router as events_router
from laoke.flash.api import router as flash_router
from laoke.holidays.api import router as holidays_router
from laoke.imports.api import router as imports_router
from laoke.imports.api_exports import router as exports_router
from laoke.members.api import router as members_router
from laoke.orders.api import router as orders_router
from laoke.payments.api import router as payments_router
from laoke.points.api import router as points_router
from laoke.portal.api import router as portal_router
from laoke.promotions.api import router as promotions_router
from laoke.referrals.api import router as referrals_router
from laoke.segments.api import router as segments_router
from laoke.service.api import router as service_router
from laoke.shipping.api import router as shipping_router
from laoke.staff.api import router as staff_router
from laoke.tiers.api import router as tiers_router

log = logging.getLogger("laoke.api")

INTERNAL_ERROR = define("INTERNAL_ERROR", 500, "服务器内部错误，请稍后重试", "Internal server error")
BAD_REQUEST = define("BAD_REQUEST", 400, "请求格式有误", "Malformed request")
REQUEST_TOO_LARGE = define("REQUEST_TOO_LARGE", 413, "请求内容过大", "The request body is too large")
CSRF_FAILED = define(
    "CSRF_FAILED", 403, "页面已过期，请刷新后重试（CSRF 校验失败）", "CSRF check failed: reload the page"
)


class Utf8JSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class LaokeAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        return openapi_postprocess(
            super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        )

    def _get_urls(self):
        # Last: any other URL under /api/v1/ (an unknown path, or /members/abc where an id is an
        # integer) answers the API's JSON 404, not Django's HTML page.
        return [*super()._get_urls(), re_path(r"^", _unknown_url)]


@csrf_exempt
def _unknown_url(request):
    err = DomainError(NOT_FOUND)
    return JsonResponse(
        err.as_body(lang_of(request)), status=err.status, json_dumps_params={"ensure_ascii": False}
    )


api = LaokeAPI(
    renderer=Utf8JSONRenderer(),
    title="Laoke API",
    version="1",
    description="Laoke (老客) membership and retention marketing. Authenticate with `Authorization: Bearer <token>`.",
    urls_namespace="api",
    auth=AUTH,
    docs_url="/docs",
)


def _error(request, err: DomainError):
    return api.create_response(request, err.as_body(lang_of(request)), status=err.status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return _error(request, exc)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    lang = lang_of(request)
    errors = []
    for e in exc.errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        errors.append({"field": ".".join(loc), "code": e.get("type", "invalid"), "message": e.get("msg", "")})
    body = {
        "code": VALIDATION_ERROR.code,
        "message": VALIDATION_ERROR.message(lang),
        "details": {"errors": errors},
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, DomainError(AUTH_REQUIRED))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, DomainError(NOT_FOUND))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 404:
        return _error(request, DomainError(NOT_FOUND))
    if exc.status_code == 401:
        return _error(request, DomainError(AUTH_REQUIRED))
    if exc.status_code == 403:
        return _error(request, DomainError(CSRF_FAILED if "csrf" in str(exc).lower() else PERMISSION_DENIED))
    return _error(request, DomainError(BAD_REQUEST, details={"reason": str(exc)}))


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request, exc: MultiPartParserError):
    return _error(request, DomainError(BAD_REQUEST, details={"reason": "malformed multipart body"}))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc: RequestDataTooBig):
    return _error(request, DomainError(REQUEST_TOO_LARGE))


@api.exception_handler(TooManyFieldsSent)
def on_too_many_fields(request, exc: TooManyFieldsSent):
    return _error(request, DomainError(BAD_REQUEST, details={"reason": "too many fields"}))


@api.exception_handler(OverflowError)
def on_overflow(request, exc: OverflowError):
    # a number too large for the database (an id of 40 digits): no such record can exist
    item = {"field": "", "code": "number_out_of_range", "message": "number out of range"}
    return _error(request, DomainError(VALIDATION_ERROR, details={"errors": [item]}))


@api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    storage = storage_error(exc)  # read-only / full / connection lost: 503 with a stable code
    if storage is not None:
        log.warning("storage failure: %s (%s)", storage.code, exc, extra={"path": request.path})
        return _error(request, storage)
    log.exception("unhandled API error", extra={"path": request.path})
    return _error(request, DomainError(INTERNAL_ERROR))


api.add_router("/", core_router)
api.add_router("/members", members_router)
api.add_router("/catalog", catalog_router)
api.add_router("/tiers", tiers_router)
api.add_router("/points", points_router)
api.add_router("/cards", cards_router)
api.add_router("/promotions", promotions_router)
api.add_router("/shipping", shipping_router)
api.add_router("/orders", orders_router)
api.add_router("/flash", flash_router)
api.add_router("/referrals", referrals_router)
api.add_router("/segments", segments_router)
api.add_router("/channels/sms", channels_sms_router)
api.add_router("/channels", channels_router)
api.add_router("/campaigns", campaigns_router)
api.add_router("/analytics", analytics_router)
api.add_router("/imports", imports_router)
api.add_router("/exports", exports_router)
api.add_router("/payments", payments_router)
api.add_router("/service", service_router)
api.add_router("/events", events_router)
api.add_router("/holidays", holidays_router)
api.add_router("/b2b", b2b_router)
api.add_router("/staff", staff_router)
api.add_router("/me", portal_router)  # the member's own pages: member session, not staff auth
enforce_permissions(api)
openapi_unique_names(api)
