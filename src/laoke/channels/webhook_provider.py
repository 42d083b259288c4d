"""Outgoing signed webhooks (SPEC 10): WeChat / IM / 旺旺 bridges and the shop's own systems.

``POST`` of ``{"message_id", "purpose", "kind", "member": {"code", "name"}, "subject", "body"}``
(UTF-8 JSON) to ``LAOKE["WEBHOOK"]["url"]`` with

- ``X-Laoke-Timestamp``: Unix seconds of the attempt;
- ``X-Laoke-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}." + raw body)>`` — the
  receiver recomputes it over the bytes it got and refuses stale timestamps (replay);
- ``X-Laoke-Message-Id``: our id, stable across retries: receivers dedupe by it.

2xx → sent; 408/429 and 5xx, timeouts and connection errors → Transient; other 4xx → Permanent.
``status``: 2xx answers are journaled (fsynced) before ``send`` returns, so 'sent' is known after a
crash; anything else is 'unknown' and sent again — safe because receivers dedupe by
``X-Laoke-Message-Id`` (the documented contract of this channel).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings

from laoke.core import clock
from laoke.messaging.providers import PermanentSendError, SendResult, TransientSendError

from .journal import Journal

# Direct connections only: an http_proxy in the worker's environment must not see the payloads.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def message_id(message) -> str:
    return f"laoke-{message.pk}-{int(message.created_at.timestamp() * 1_000_000)}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and the tests' server): constant-time comparison."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def payload(message) -> bytes:
    member = message.member
    data = {
        "message_id": message_id(message),
        "purpose": message.purpose,
        "kind": message.kind,
        "member": {"code": member.code, "name": member.name},
        "subject": message.subject,
        "body": message.body,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookProvider:
    name = "webhook"
    batch_size = 50
    journal = Journal("webhook")

    def __init__(self):
        cfg = settings.LAOKE["WEBHOOK"]
        self.url = cfg["url"]
        self.secret = cfg["secret"]
        self.timeout = cfg["timeout"]
        self.rate_per_minute = cfg.get("rate_per_minute")

    def send(self, message) -> SendResult:
        if not self.url or not self.secret:
            raise PermanentSendError("webhook channel not configured (LAOKE_WEBHOOK_URL / _SECRET)")
        if not self.url.startswith(("https://", "http://")):
            raise PermanentSendError("webhook URL must be http(s)")
        body = payload(message)
        mid = message_id(message)
        timestamp = str(int(clock.now().timestamp()))
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "laoke-webhook/1",
                "X-Laoke-Timestamp": timestamp,
                "X-Laoke-Signature": sign(self.secret, timestamp, body),
                "X-Laoke-Message-Id": mid,
            },
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            if status in (408, 429) or status >= 500:
                raise TransientSendError(f"webhook HTTP {status}") from exc
            raise PermanentSendError(f"webhook HTTP {status}") from exc
        except (urllib.error.URLError, OSError) as exc:  # refused, timeout, DNS
            raise TransientSendError(f"webhook: {exc}"[:400]) from exc
        if not 200 <= status < 300:  # 1xx/3xx after redirects were not followed to a 2xx
            raise PermanentSendError(f"webhook HTTP {status}")
        self.journal.record(mid)
        return SendResult(provider_message_id=mid, segments=1)

    def status(self, message) -> str:
        return "sent" if self.journal.contains(message_id(message)) else "unknown"
