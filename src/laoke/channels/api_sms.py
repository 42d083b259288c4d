"""/api/v1/channels/sms: provider callbacks (delivery receipts, inbound replies).

No user authentication: the providers authenticate by the token in the URL (channels.receipts,
docs/decisions/0025-sms-transport.md), compared in constant time. A wrong token → 403
CALLBACK_TOKEN_INVALID. A path without a token of the right form is a request without credentials
→ 401 AUTH_REQUIRED, or 403 PERMISSION_DENIED for a staff login (no role may call these).

Each answers in the shape its provider expects: Aliyun ``{"code": 0, "msg": "成功"}``, Tencent
``{"result": 0, "errmsg": "OK"}``, the gateway ``{"ok": true, …counts}``.
"""

import json

from django.http import HttpRequest
from ninja import Router

from laoke.core.errors import AUTH_REQUIRED, PERMISSION_DENIED, DomainError
from laoke.messaging.error_codes import CALLBACK_BODY_INVALID, CALLBACK_TOKEN_INVALID

from .receipts import (
    callback_token_valid,
    callback_token_well_formed,
    sms_receipts_apply,
    sms_replies_receive,
)

router = Router(tags=["channels"])


def _check(request: HttpRequest, provider: str, kind: str, token: str):
    if not callback_token_well_formed(token):
        raise DomainError(PERMISSION_DENIED if request.headers.get("Authorization") else AUTH_REQUIRED)
    if not callback_token_valid(provider, kind, token):
        raise DomainError(CALLBACK_TOKEN_INVALID)
    try:
        return json.loads(request.body or b"null")
    except ValueError as exc:
        raise DomainError(CALLBACK_BODY_INVALID) from exc


def _receipts(request, provider, kind, token):
    payload = _check(request, provider, kind, token)
    try:
        return sms_receipts_apply(provider, payload)
    except ValueError as exc:
        raise DomainError(CALLBACK_BODY_INVALID) from exc


def _replies(request, provider, kind, token):
    payload = _check(request, provider, kind, token)
    try:
        rows = sms_replies_receive(provider, payload)
    except ValueError as exc:
        raise DomainError(CALLBACK_BODY_INVALID) from exc
    return {"stored": len(rows), "unsubscribed": sum(1 for r in rows if r.action == "unsubscribed")}


@router.post("/aliyun/report/{token}", auth=None, summary="Aliyun SmsReport (delivery receipts)")
def aliyun_report(request, token: str):
    _receipts(request, "aliyun", "report", token)
    return {"code": 0, "msg": "成功"}


@router.post("/aliyun/up/{token}", auth=None, summary="Aliyun SmsUp (inbound replies)")
def aliyun_up(request, token: str):
    _replies(request, "aliyun", "up", token)
    return {"code": 0, "msg": "成功"}


@router.post("/tencent/status/{token}", auth=None, summary="Tencent Cloud SMS status callback")
def tencent_status(request, token: str):
    _receipts(request, "tencent", "status", token)
    return {"result": 0, "errmsg": "OK"}


@router.post("/tencent/reply/{token}", auth=None, summary="Tencent Cloud SMS reply callback")
def tencent_reply(request, token: str):
    _replies(request, "tencent", "reply", token)
    return {"result": 0, "errmsg": "OK"}


@router.post("/gateway/receipts/{token}", auth=None, summary="HTTP gateway delivery receipts")
def gateway_receipts(request, token: str):
    return {"ok": True, **_receipts(request, "gateway", "receipts", token)}


@router.post("/gateway/inbound/{token}", auth=None, summary="HTTP gateway inbound replies")
def gateway_inbound(request, token: str):
    return {"ok": True, **_replies(request, "gateway", "inbound", token)}
