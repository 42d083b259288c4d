"""SMS providers for the messaging outbox (the ``laoke.messaging.providers.Provider`` protocol):
Aliyun SMS and Tencent Cloud SMS through their official SDKs, and a generic JSON-over-HTTP
gateway. See docs/decisions/0025-sms-transport.md.

Common rules:

- Credentials, endpoint, protocol and timeouts come from ``settings.LAOKE["SMS"]``, always
  explicitly: the SDKs' default credential chains (environment, profile files, the ECS metadata
  service) are never used, so nothing probes the network for credentials.
- Template mapping: Aliyun and Tencent send by template code + parameters, not free text. A
  message carries its own ``template_code`` / ``template_params`` when a Laoke template is bound
  to an approved provider template; otherwise it goes out with the configured generic template
  of its kind (``template_marketing`` / ``template_transactional``) whose only parameter is the
  rendered text (Aliyun ``{"content": …}``, Tencent ``[…]``). A leading 【签名】 in the rendered
  text is the signature (``SignName``) and is taken off the text, since the provider adds it.
- Our id travels with every send (Aliyun ``OutId``, Tencent ``SessionContext``, the gateway's
  ``out_id``), so :meth:`status` finds a message whose outcome we never recorded (a worker killed
  between the hand-over and the commit).
- Outcomes: a refusal the provider says is temporary (throttling, flow control, balance, a 5xx,
  a connection that could not be opened) → :class:`TransientSendError`; a refusal about the
  message itself (number, template, signature) → :class:`PermanentSendError`; "request sent, no
  answer" (read timeout, connection dropped after sending) → :class:`SmsOutcomeUnknown`, which the
  dispatcher leaves to the lease resolver: it asks :meth:`status` before anything is resent.
- No retries inside the SDKs (a retried request after a read timeout is a duplicate SMS).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from laoke.core import clock
from laoke.messaging.providers import PermanentSendError, SendResult, TransientSendError
from laoke.messaging.services import Receipt

CHINA = timezone(timedelta(hours=8))


class SmsOutcomeUnknown(Exception):
    """The request may have reached the provider but no answer came: neither retried nor failed;
    the message stays claimed and the lease resolver asks the provider's status API."""


def national(number: str) -> str:
    """'+8613812345678' → '13812345678' (Aliyun wants the national number for mainland China)."""
    number = (number or "").strip()
    if number.startswith("+86"):
        return number[3:]
    if number.startswith("0086"):
        return number[4:]
    if number.startswith("+"):
        return "00" + number[1:]  # Aliyun: international numbers with the 00 prefix
    return number


def e164(number: str) -> str:
    number = (number or "").strip()
    return number if number.startswith("+") else "+86" + number


def _sms() -> dict:
    return settings.LAOKE["SMS"]


def split_signature(body: str, default: str) -> tuple[str, str]:
    """'【老客】您好…' → ('老客', '您好…'); a body without a leading signature keeps the default."""
    text = body.strip()
    if text.startswith("【") and "】" in text[:14]:
        sign, rest = text[1:].split("】", 1)
        if 2 <= len(sign) <= 12:
            return sign, rest.strip()
    return default, text


class _SmsProvider:
    name = "sms"
    batch_size = 50

    def __init__(self):
        cfg = _sms()
        self.rate_per_minute = cfg.get("rate_per_minute")
        # per-number windows: LAOKE["SMS"][<provider>]["windows"] if set, else LAOKE["SMS"]["windows"]
        own = (cfg.get(self.name) or {}).get("windows")
        self.windows = [tuple(w) for w in (cfg.get("windows") if own is None else own) or ()]
        self.connect_timeout = float(cfg.get("connect_timeout", 5))
        self.read_timeout = float(cfg.get("read_timeout", 10))

    # what the messaging windows count per: signature + number (Aliyun's flow control)
    def window_key(self, message) -> str:
        return f"{self._sign_text(message)[0]}:{national(message.to_address)}"

    def _sign_text(self, message) -> tuple[str, str]:
        return split_signature(message.body, _sms().get("sign_name") or "")

    def _template(self, message) -> str:
        code = message.template_code or _sms().get(f"template_{message.kind}") or ""
        if not code:
            raise PermanentSendError(f"no SMS template configured for {message.kind} messages")
        return code

    def _claimed_at(self, message) -> datetime:
        lease = message.lease_until or clock.now()
        return lease - timedelta(seconds=settings.LAOKE["MESSAGING_LEASE_SECONDS"])


# --- Aliyun -------------------------------------------------------------------------------------

ALIYUN_TRANSIENT = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "isv.AMOUNT_NOT_ENOUGH",
    "isv.OUT_OF_SERVICE",
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "SignatureNonceUsed",
    "ServiceUnavailable",
    "InternalError",
}
ALIYUN_PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.INVALID_PARAMETERS",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.PARAM_NOT_SUPPORT_URL",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.SMS_CONTENT_ILLEGAL",
    "isv.SMS_SIGN_ILLEGAL",
    "isv.DENY_IP_RANGE",
}


def aliyun_error(code: str, message: str = "") -> Exception:
    """An Aliyun error code → the exception the dispatcher understands. Throttling and flow
    control wait; a bad number, template or signature never goes; configuration errors (a wrong
    key or signature) wait too, so the messages go once the key is fixed (until attempts run out)."""
    text = f"aliyun {code}: {message}"[:400]
    if code in ALIYUN_PERMANENT:
        return PermanentSendError(text)
    if code in ALIYUN_TRANSIENT or code.startswith("Throttling") or code.endswith("LIMIT_CONTROL"):
        return TransientSendError(text)
    if code.startswith("isv."):
        return PermanentSendError(text)
    return TransientSendError(text)


NEVER_CONNECTED = ("NewConnectionError", "ConnectTimeoutError", "connect timeout", "Connection refused")


def network_error(text: str) -> Exception:
    """A network failure (both SDKs hand us only requests' message): a connection that was never
    opened is transient (nothing was sent); anything after the request may have left (read
    timeout, connection dropped) is an unknown outcome for the lease resolver."""
    if any(marker in text for marker in NEVER_CONNECTED):
        return TransientSendError(f"connection failed: {text}"[:400])
    return SmsOutcomeUnknown(f"no answer: {text}"[:400])


class AliyunSmsProvider(_SmsProvider):
    """Aliyun Dysmsapi 2017-05-25 through ``alibabacloud-dysmsapi20170525`` (SendSms with
    ``OutId`` = our row id; status by QuerySendDetails on the number and day, matching OutId)."""

    name = "aliyun"

    def __init__(self):
        super().__init__()
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        cfg = _sms()["aliyun"]
        if not cfg.get("access_key_id") or not cfg.get("access_key_secret"):
            # never fall back to the SDK's default credential chain (env, files, ECS metadata)
            raise ImproperlyConfigured("LAOKE_ALIYUN_ACCESS_KEY_ID / _SECRET are required for Aliyun SMS")
        self.client = Client(
            Config(
                access_key_id=cfg["access_key_id"],
                access_key_secret=cfg["access_key_secret"],
                type="access_key",
                endpoint=cfg["endpoint"],
                protocol=cfg.get("protocol", "https"),
                region_id=cfg.get("region", "cn-hangzhou"),
                connect_timeout=int(self.connect_timeout * 1000),
                read_timeout=int(self.read_timeout * 1000),
            )
        )

    def _runtime(self):
        from darabonba.runtime import RuntimeOptions

        return RuntimeOptions(
            connect_timeout=int(self.connect_timeout * 1000), read_timeout=int(self.read_timeout * 1000)
        )

    def _call(self, fn, request):
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

        try:
            return fn(request, self._runtime())
        except AlibabaCloudException as exc:  # the provider answered with an error
            raise aliyun_error(str(exc.code or ""), str(getattr(exc, "message", "") or "")) from exc
        except Exception as exc:  # network: the SDK wraps requests' errors in its own
            raise network_error(str(exc)) from exc

    def send(self, message) -> SendResult:
        from alibabacloud_dysmsapi20170525 import models

        sign, text = self._sign_text(message)
        params = message.template_params or {_sms().get("template_param") or "content": text}
        response = self._call(
            self.client.send_sms_with_options,
            models.SendSmsRequest(
                phone_numbers=national(message.to_address),
                sign_name=sign,
                template_code=self._template(message),
                template_param=json.dumps(params, ensure_ascii=False),
                out_id=str(message.pk),
            ),
        )
        body = response.body
        if body.code != "OK":
            raise aliyun_error(body.code or "", body.message or "")
        return SendResult(provider_message_id=body.biz_id or "", segments=message.segments)

    def _details(self, message, day: str):
        from alibabacloud_dysmsapi20170525 import models

        page = 1
        while True:
            response = self._call(
                self.client.query_send_details_with_options,
                models.QuerySendDetailsRequest(
                    phone_number=national(message.to_address), send_date=day, page_size=50, current_page=page
                ),
            )
            body = response.body
            if body.code != "OK":
                raise aliyun_error(body.code or "", body.message or "")
            rows = (body.sms_send_detail_dtos and body.sms_send_detail_dtos.sms_send_detail_dto) or []
            yield from rows
            if len(rows) < 50 or page * 50 >= (body.total_count or 0):
                return
            page += 1

    def status(self, message) -> str:
        """'sent' (SendStatus 1 waiting for the receipt, 3 delivered), 'failed' (2), 'unknown' (no
        record with our OutId on the days around the claim: never handed over)."""
        claimed = self._claimed_at(message)
        days = sorted(
            {
                (claimed - timedelta(minutes=5)).astimezone(CHINA).strftime("%Y%m%d"),
                clock.now().astimezone(CHINA).strftime("%Y%m%d"),
            }
        )
        found = []
        for day in days:
            found += [d for d in self._details(message, day) if d.out_id == str(message.pk)]
        if any(d.send_status in (1, 3) for d in found):
            return "sent"
        if found:
            return "failed"
        return "unknown"


# --- Tencent Cloud --------------------------------------------------------------------------------

TENCENT_PERMANENT_PREFIXES = ("InvalidParameterValue.", "InvalidParameter.", "UnsupportedOperation.")
TENCENT_PERMANENT = {
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberParseFail",
    "FailedOperation.ContainSensitiveWord",
    "FailedOperation.MarketingSendTimeConstraint",
    "FailedOperation.MissingSignature",
    "FailedOperation.MissingTemplateToModify",
}


def tencent_error(code: str, message: str = "") -> Exception:
    text = f"tencent {code}: {message}"[:400]
    if code in TENCENT_PERMANENT or code.startswith(TENCENT_PERMANENT_PREFIXES):
        return PermanentSendError(text)
    return TransientSendError(text)  # LimitExceeded.*, RequestLimitExceeded, InternalError.*, AuthFailure.*


class TencentSmsProvider(_SmsProvider):
    """Tencent Cloud SMS 2021-01-11 through ``tencentcloud-sdk-python-sms`` (SendSms with
    ``SessionContext`` = our row id; status by PullSmsSendStatusByPhoneNumber, matching it)."""

    name = "tencent"

    def __init__(self):
        super().__init__()
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        cfg = _sms()["tencent"]
        if not cfg.get("secret_id") or not cfg.get("secret_key") or not cfg.get("sdk_app_id"):
            raise ImproperlyConfigured("LAOKE_TENCENT_SECRET_ID / _SECRET_KEY / _SMS_APP_ID are required")
        self.app_id = cfg["sdk_app_id"]
        http = HttpProfile(
            protocol=cfg.get("protocol", "https"),
            endpoint=cfg["endpoint"],
            reqTimeout=max(1, round(self.read_timeout)),
        )
        self.client = sms_client.SmsClient(
            credential.Credential(cfg["secret_id"], cfg["secret_key"]),
            cfg.get("region", "ap-guangzhou"),
            ClientProfile(httpProfile=http),
        )

    def _call(self, fn, request):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        try:
            return fn(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or ""
            if code == "ClientNetworkError":
                raise network_error(exc.get_message() or "") from exc
            raise tencent_error(code, exc.get_message() or "") from exc

    def send(self, message) -> SendResult:
        from tencentcloud.sms.v20210111 import models

        sign, text = self._sign_text(message)
        params = message.template_params
        if params is None:
            params = [text]
        elif isinstance(params, dict):
            params = [str(v) for v in params.values()]
        req = models.SendSmsRequest()
        req.PhoneNumberSet = [e164(message.to_address)]
        req.SmsSdkAppId = self.app_id
        req.SignName = sign
        req.TemplateId = self._template(message)
        req.TemplateParamSet = [str(p) for p in params]
        req.SessionContext = str(message.pk)
        response = self._call(self.client.SendSms, req)
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise SmsOutcomeUnknown("tencent: no SendStatus in the answer")
        if status.Code != "Ok":
            raise tencent_error(status.Code or "", status.Message or "")
        return SendResult(provider_message_id=status.SerialNo or "", segments=status.Fee or message.segments)

    def status(self, message) -> str:
        from tencentcloud.sms.v20210111 import models

        begin = int((self._claimed_at(message) - timedelta(minutes=5)).timestamp())
        end = int((clock.now() + timedelta(minutes=5)).timestamp())
        found, offset = [], 0
        while True:
            req = models.PullSmsSendStatusByPhoneNumberRequest()
            req.BeginTime, req.EndTime, req.Offset, req.Limit = begin, end, offset, 100
            req.PhoneNumber = e164(message.to_address)
            req.SmsSdkAppId = self.app_id
            rows = self._call(self.client.PullSmsSendStatusByPhoneNumber, req).PullSmsSendStatusSet or []
            found += [r for r in rows if r.SessionContext == str(message.pk)]
            if len(rows) < 100:
                break
            offset += 100
        if any(r.ReportStatus == "SUCCESS" for r in found):
            return "sent"
        if found:
            return "failed"
        return "unknown"

    def pull_receipts(self, limit: int = 100) -> list[Receipt]:
        """Receipts not fetched yet (PullSmsSendStatus): the pull path next to the callback."""
        from tencentcloud.sms.v20210111 import models

        req = models.PullSmsSendStatusRequest()
        req.Limit, req.SmsSdkAppId = limit, self.app_id
        rows = self._call(self.client.PullSmsSendStatus, req).PullSmsSendStatusSet or []
        return [
            Receipt(
                provider=self.name,
                delivered=r.ReportStatus == "SUCCESS",
                provider_message_id=r.SerialNo or "",
                out_id=r.SessionContext or "",
                at=_china_time(r.UserReceiveTime),
                error="" if r.ReportStatus == "SUCCESS" else (r.Description or "FAIL"),
            )
            for r in rows
        ]


def _china_time(text) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).astimezone(UTC)
    except (TypeError, ValueError):
        return None


# --- the generic HTTP gateway ----------------------------------------------------------------------


def gateway_signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over ``"{timestamp}\\n{METHOD}\\n{path with query}\\n"`` + body."""
    import hashlib
    import hmac

    msg = f"{timestamp}\n{method}\n{path}\n".encode() + body
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


class HttpGatewayProvider(_SmsProvider):
    """A generic JSON-over-HTTP SMS gateway (local carriers, aggregators).

    ``POST {url}/send`` ``{"to": "+86…", "text": "【签名】…", "out_id": "<our id>", "sign": "…"}``
    → 200 ``{"id": "<gateway id>", "segments": n}``; 429 / 5xx: try later; other 4xx
    ``{"error": "<code>"}``: never. ``GET {url}/status?out_id=…`` → ``{"status": "accepted" |
    "delivered" | "undelivered" | "failed" | "unknown"}``. Every request carries
    ``X-Gateway-Timestamp`` (unix seconds) and ``X-Gateway-Signature`` (:func:`gateway_signature`
    with the shared secret). Receipts and replies come back to our callbacks (api_sms.py)."""

    name = "gateway"

    def __init__(self):
        super().__init__()
        cfg = _sms()["gateway"]
        if not cfg.get("url") or not cfg.get("secret"):
            raise ImproperlyConfigured("LAOKE_SMS_GATEWAY_URL / _SECRET are required for the SMS gateway")
        self.url, self.secret = cfg["url"].rstrip("/"), cfg["secret"]

    def _request(self, method: str, path: str, payload=None) -> tuple[int, dict]:
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        ts = str(int(datetime.now(UTC).timestamp()))
        full = urlsplit(self.url).path + path
        headers = {
            "Content-Type": "application/json",
            "X-Gateway-Timestamp": ts,
            "X-Gateway-Signature": gateway_signature(self.secret, ts, method, full, body),
        }
        req = urllib.request.Request(  # noqa: S310 (the configured gateway URL)
            self.url + path, data=body or None, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=self.read_timeout) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                data = json.loads(exc.read() or b"{}")
            except ValueError:
                data = {}
            return exc.code, data
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ConnectionRefusedError | OSError) and not isinstance(
                exc.reason, TimeoutError
            ):
                raise TransientSendError(f"gateway unreachable: {exc.reason}") from exc
            raise SmsOutcomeUnknown(f"gateway: no answer: {exc.reason}") from exc
        except (TimeoutError, ConnectionResetError) as exc:
            raise SmsOutcomeUnknown(f"gateway: no answer: {exc}") from exc

    def send(self, message) -> SendResult:
        sign = self._sign_text(message)[0]
        status, data = self._request(
            "POST",
            "/send",
            {"to": e164(message.to_address), "text": message.body, "out_id": str(message.pk), "sign": sign},
        )
        if status == 200 and data.get("id"):
            return SendResult(
                provider_message_id=str(data["id"]), segments=int(data.get("segments") or message.segments)
            )
        if status == 429 or status >= 500 or status in (401, 403):
            raise TransientSendError(f"gateway {status}: {data.get('error', '')}")
        if 400 <= status < 500:
            raise PermanentSendError(f"gateway {status}: {data.get('error', '')}")
        raise SmsOutcomeUnknown(f"gateway {status}: unexpected answer")

    def status(self, message) -> str:
        status, data = self._request("GET", "/status?" + urlencode({"out_id": str(message.pk)}))
        if status != 200:
            raise SmsOutcomeUnknown(f"gateway status {status}")
        answer = data.get("status")
        if answer in ("accepted", "delivered", "sent"):
            return "sent"
        if answer in ("undelivered", "failed"):
            return "failed"
        return "unknown"
