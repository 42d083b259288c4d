"""Delivery receipts and inbound SMS replies (SPEC 10; docs/decisions/0025-sms-transport.md).

Callback authentication: Aliyun and Tencent do not sign their pushes, so the secret travels in the
callback URL we register with them: ``/api/v1/channels/sms/<provider>/<kind>/<token>`` where
``token`` = the first 32 hex digits of HMAC-SHA256(``LAOKE["SMS"]["callback_secret"]``,
``"<provider>:<kind>"``), compared in constant time. Without a secret configured every callback
is refused. Use HTTPS in front of the API so the URL does not travel in clear.

Inbound replies: T / TD / N / R / 退订 / 取消 (case- and width-insensitive, surrounding spaces and
punctuation ignored, so "ＴＤ", " td。" and "退订!" count) unsubscribe the member with that mobile
from SMS marketing (members.member_unsubscribe, source "sms-reply") and cancel their waiting
marketing SMS at once; every reply is stored (messaging.InboundMessage) — the others wait there for
the service desk.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from django.conf import settings
from django.db import transaction

from laoke.core import clock
from laoke.members.models import Member
from laoke.members.services import member_unsubscribe
from laoke.messaging.models import InboundMessage, Message
from laoke.messaging.services import (
    Receipt,
    _inbound_record,
    _messages_cancel_pending,
    message_receipts_apply,
)

CHINA = timezone(timedelta(hours=8))
UNSUBSCRIBE_WORDS = frozenset({"T", "TD", "N", "R", "退订", "取消"})
SOURCE = "sms-reply"
KINDS = {
    "aliyun": ("report", "up"),
    "tencent": ("status", "reply"),
    "gateway": ("receipts", "inbound"),
}
TOKEN_LENGTH = 32


# --- callback tokens -----------------------------------------------------------------------------


def callback_token(provider: str, kind: str) -> str:
    secret = settings.LAOKE["SMS"].get("callback_secret") or ""
    if not secret:
        return ""
    return hmac.new(secret.encode(), f"{provider}:{kind}".encode(), hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def callback_token_valid(provider: str, kind: str, token: str) -> bool:
    expected = callback_token(provider, kind)
    return bool(expected) and hmac.compare_digest(expected.encode(), (token or "").encode())


def callback_token_well_formed(token: str) -> bool:
    return len(token or "") == TOKEN_LENGTH and all(c in "0123456789abcdef" for c in token)


def callback_url(provider: str, kind: str) -> str:
    """The URL to register in the provider's console (or give the gateway)."""
    return (
        f"{settings.LAOKE_PUBLIC_URL}/api/v1/channels/sms/{provider}/{kind}/{callback_token(provider, kind)}"
    )


# --- keyword ------------------------------------------------------------------------------------


def is_unsubscribe(text: str) -> bool:
    """'TD', 'td', 'ＴＤ', ' T ', '退订。', '【取消】' → True; 'TD please call me' → False."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    core = "".join(
        ch for ch in folded if not (ch.isspace() or unicodedata.category(ch).startswith(("P", "S")))
    )
    return core in UNSUBSCRIBE_WORDS


def _e164(number: str) -> str:
    digits = "".join(ch for ch in str(number or "") if ch.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return "+86" + digits if digits else ""


# --- parsing each provider's pushes --------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    provider: str
    from_number: str
    text: str
    ref: str = ""
    at: datetime | None = None


def _china(text) -> datetime | None:
    if text in (None, ""):
        return None
    if isinstance(text, int | float):
        return datetime.fromtimestamp(text, UTC)
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).astimezone(UTC)
    except ValueError:
        try:
            return datetime.fromisoformat(str(text)).astimezone(UTC)
        except ValueError:
            return None


def _items(payload) -> list[dict]:
    if isinstance(payload, dict):
        payload = payload.get("receipts", payload.get("replies", [payload]))
    if not isinstance(payload, list) or not all(isinstance(x, dict) for x in payload):
        raise ValueError("expected a JSON object or array of objects")
    return payload


def parse_receipts(provider: str, payload) -> list[Receipt]:
    out = []
    for item in _items(payload):
        if provider == "aliyun":  # SmsReport
            ok = item.get("success") in (True, "true", "True")
            out.append(
                Receipt(
                    provider="aliyun",
                    delivered=ok,
                    provider_message_id=str(item.get("biz_id") or ""),
                    out_id=str(item.get("out_id") or ""),
                    at=_china(item.get("report_time")),
                    error="" if ok else str(item.get("err_code") or "undelivered"),
                )
            )
        elif provider == "tencent":  # status callback
            ok = item.get("report_status") == "SUCCESS"
            ext = item.get("ext") if isinstance(item.get("ext"), dict) else {}
            out.append(
                Receipt(
                    provider="tencent",
                    delivered=ok,
                    provider_message_id=str(item.get("sid") or ""),
                    out_id=str(ext.get("SessionContext") or item.get("session_context") or ""),
                    at=_china(item.get("user_receive_time")),
                    error="" if ok else str(item.get("errmsg") or "undelivered"),
                )
            )
        else:  # the gateway
            ok = item.get("status") == "delivered"
            out.append(
                Receipt(
                    provider="gateway",
                    delivered=ok,
                    provider_message_id=str(item.get("id") or ""),
                    out_id=str(item.get("out_id") or ""),
                    at=_china(item.get("at")),
                    error="" if ok else str(item.get("error") or "undelivered"),
                )
            )
    return out


def parse_replies(provider: str, payload) -> list[Reply]:
    out = []
    for item in _items(payload):
        if provider == "aliyun":  # SmsUp
            out.append(
                Reply(
                    "aliyun",
                    str(item.get("phone_number") or ""),
                    str(item.get("content") or ""),
                    str(item.get("sequence_id") or ""),
                    _china(item.get("send_time")),
                )
            )
        elif provider == "tencent":  # reply callback
            out.append(
                Reply(
                    "tencent",
                    str(item.get("mobile") or ""),
                    str(item.get("text") or ""),
                    str(item.get("reply_id") or f"{item.get('mobile')}:{item.get('time')}"),
                    _china(item.get("time")),
                )
            )
        else:
            out.append(
                Reply(
                    "gateway",
                    str(item.get("from") or ""),
                    str(item.get("text") or ""),
                    str(item.get("id") or ""),
                    _china(item.get("at")),
                )
            )
    return out


# --- services ------------------------------------------------------------------------------------


def sms_receipts_apply(provider: str, payload) -> dict[str, int]:
    """A provider's receipt push → delivery state on our rows (idempotent)."""
    return message_receipts_apply(parse_receipts(provider, payload))


def sms_reply_receive(
    *, provider: str, from_number: str, text: str, ref: str = "", at=None
) -> InboundMessage:
    """One inbound SMS. An unsubscribe keyword from a known member withdraws their SMS marketing
    consent (an opt-out is never refused, members.member_unsubscribe) and cancels their waiting
    marketing SMS; the reply is stored either way. A provider pushing the same reply twice (same
    reference) changes nothing the second time."""
    number = _e164(from_number)
    member_id = Member.objects.filter(mobile=number).values_list("pk", flat=True).first() if number else None
    unsubscribe = is_unsubscribe(text)
    if unsubscribe and member_id is not None:
        consent = member_unsubscribe(member_id=member_id, channel="sms", source=SOURCE, note=text[:200])
        member_id = consent.member_id  # a merged member's opt-out lands on the surviving member
    with transaction.atomic(durable=True):
        row, _ = _inbound_record(
            provider=provider,
            from_address=number or str(from_number),
            text=text,
            member_id=member_id,
            action=InboundMessage.Action.UNSUBSCRIBED
            if unsubscribe and member_id
            else InboundMessage.Action.STORED,
            received_at=at or clock.now(),
            provider_ref=ref,
        )
        if unsubscribe and member_id is not None:
            _messages_cancel_pending(member_id=member_id, channel=Message.Channel.SMS, reason="unsubscribed")
    return row


def sms_replies_receive(provider: str, payload) -> list[InboundMessage]:
    return [
        sms_reply_receive(provider=r.provider, from_number=r.from_number, text=r.text, ref=r.ref, at=r.at)
        for r in parse_replies(provider, payload)
    ]
