"""A local fake SMS provider for tests and demos (docs/decisions/0025-sms-transport.md).

One threaded HTTP server that speaks, well enough for the official SDKs:

- **Aliyun** Dysmsapi 2017-05-25 (``POST /`` with ``x-acs-action``): ``SendSms``,
  ``QuerySendDetails``. Checks the ACS3-HMAC-SHA256 signature the SDK sends by default (and the
  old RPC HMAC-SHA1 query signature): a wrong secret gets Aliyun's ``SignatureDoesNotMatch``
  (HTTP 400), an unknown key ``InvalidAccessKeyId.NotFound`` (HTTP 404).
- **Tencent Cloud** SMS 2021-01-11 (``POST /`` with ``X-TC-Action``): ``SendSms``,
  ``PullSmsSendStatus``, ``PullSmsSendStatusByPhoneNumber``. Checks TC3-HMAC-SHA256: a wrong key
  gets ``AuthFailure.SignatureFailure``, an unknown SecretId ``AuthFailure.SecretIdNotFound``.
- the **generic HTTP gateway** of :mod:`laoke.channels.sms_providers` (``POST /gateway/send``,
  ``GET /gateway/status``), HMAC-signed.

It records EVERY request (table ``requests``) and every send, accepted or refused (table
``messages``) in a SQLite file (WAL; one connection behind a lock, so concurrent requests are
safe, and the file survives restarts). It NEVER deduplicates: two sends with the same OutId are
two rows — that is how a test sees duplicates. Status queries are answered from the records.
Failures are injected by configuration (:class:`FakeSmsConfig`: a seeded error rate, codes for
given numbers, a delay after accepting — the "request sent, no answer" case), and
:meth:`FakeSmsServer.push_receipts` / :meth:`FakeSmsServer.push_reply` post delivery receipts and
inbound replies to our callback URLs in each provider's own format.

Run it: ``python -m laoke.channels.fake_sms --port 9099 --store /tmp/fake-sms.sqlite3``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import sqlite3
import threading
import time
import urllib.request
from base64 import b64encode
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

CHINA = timezone(timedelta(hours=8))

# Named failures → each API's own error code (a test says "invalid", the fake answers in kind).
FAILURES = {
    "invalid": {
        "aliyun": "isv.MOBILE_NUMBER_ILLEGAL",
        "tencent": "InvalidParameterValue.IncorrectPhoneNumber",
        "gateway": "invalid_number",
    },
    "throttled": {
        "aliyun": "isv.BUSINESS_LIMIT_CONTROL",
        "tencent": "LimitExceeded.PhoneNumberOneHourLimit",
        "gateway": "throttled",
    },
    "template": {
        "aliyun": "isv.SMS_TEMPLATE_ILLEGAL",
        "tencent": "FailedOperation.TemplateIncorrectOrUnapproved",
        "gateway": "template_rejected",
    },
    "signature": {
        "aliyun": "isv.SMS_SIGNATURE_ILLEGAL",
        "tencent": "FailedOperation.SignatureIncorrectOrUnapproved",
        "gateway": "sign_rejected",
    },
}


@dataclass
class FakeSmsConfig:
    aliyun_keys: dict[str, str] = field(default_factory=lambda: {"fake-ak": "fake-secret"})
    tencent_keys: dict[str, str] = field(default_factory=lambda: {"fake-sid": "fake-skey"})
    tencent_app_id: str = "1400000000"
    gateway_secret: str = "fake-gateway-secret"  # noqa: S105 (the fake's own test key)
    error_rate: float = 0.0  # share of sends refused as "throttled" (seeded)
    seed: int = 0
    number_errors: dict[str, str] = field(default_factory=dict)  # number (digits) → failure name or code
    number_undelivered: dict[str, str] = field(default_factory=dict)  # number → carrier error code
    delay: float = 0.0  # seconds to wait after recording a send, before answering
    number_delays: dict[str, float] = field(default_factory=dict)
    # seconds from acceptance to the carrier's receipt: until then Aliyun reports SendStatus 1
    # (waiting) and Tencent lists nothing (its status APIs list receipts), as the real services do
    receipt_delay: float = 0.0

    @classmethod
    def from_json(cls, data: dict) -> FakeSmsConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def digits(number: str) -> str:
    """The national number: '+86 138…', '0086138…', '86138…' and '138…' are one number."""
    d = "".join(ch for ch in str(number) if ch.isdigit())
    if d.startswith("0086"):
        d = d[4:]
    elif d.startswith("86") and len(d) == 13:
        d = d[2:]
    return d


_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, api TEXT NOT NULL, action TEXT NOT NULL,
    code TEXT NOT NULL, path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, api TEXT NOT NULL, phone TEXT NOT NULL,
    sign TEXT NOT NULL, template TEXT NOT NULL, params TEXT NOT NULL, out_id TEXT NOT NULL,
    provider_id TEXT NOT NULL, accepted INTEGER NOT NULL, code TEXT NOT NULL,
    delivery TEXT NOT NULL, delivery_code TEXT NOT NULL, pulled INTEGER NOT NULL DEFAULT 0,
    pushed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS messages_phone ON messages (phone);
CREATE INDEX IF NOT EXISTS messages_out_id ON messages (out_id);
"""


class FakeSmsStore:
    """The records (SQLite, WAL). One connection guarded by a lock: every request of the threaded
    server goes through it, so concurrent sends never lose a row."""

    def __init__(self, path: str):
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # survives a process crash, not a power cut
            self._db.executescript(_SCHEMA)
            self._last_id = self._db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def request(self, api: str, action: str, code: str, path: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO requests (at, api, action, code, path) VALUES (?, ?, ?, ?, ?)",
                (datetime.now(UTC).isoformat(), api, action, code, path),
            )

    def send(
        self, *, api, phone, sign, template, params, out_id, accepted, code, delivery="", delivery_code=""
    ) -> dict:
        at = datetime.now(UTC).isoformat()
        with self._lock:
            self._last_id += 1
            pid = f"{self._last_id}^{api[0]}"
            self._db.execute(
                "INSERT INTO messages (id, at, api, phone, sign, template, params, out_id, provider_id, accepted,"
                " code, delivery, delivery_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self._last_id,
                    at,
                    api,
                    phone,
                    sign,
                    template,
                    params,
                    out_id,
                    pid,
                    int(accepted),
                    code,
                    delivery,
                    delivery_code,
                ),
            )
            return {"id": self._last_id, "provider_id": pid, "at": at}

    def query(self, sql: str, params=()) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, params).fetchall()]

    def execute(self, sql: str, params=()) -> None:
        with self._lock:
            self._db.execute(sql, params)

    # for tests
    def accepted(self) -> list[dict]:
        return self.query("SELECT * FROM messages WHERE accepted = 1 ORDER BY id")

    def accepted_per_out_id(self) -> dict[str, int]:
        rows = self.query("SELECT out_id, count(*) AS n FROM messages WHERE accepted = 1 GROUP BY out_id")
        return {r["out_id"]: r["n"] for r in rows}


def _now_china() -> datetime:
    return datetime.now(CHINA)


def _request_id() -> str:
    return f"FAKE-{random.getrandbits(48):012X}"


# --- signatures -----------------------------------------------------------------------------------


def _acs3_expected(method, path, query_pairs, headers, signed, payload_hash, secret) -> str:
    canon_query = "&".join(
        f"{k}={quote(v, safe='~', encoding='utf-8')}" for k, v in sorted(query_pairs, key=lambda kv: kv[0])
    )
    canon_headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in headers.get_all(name) or []))}\n" for name in signed
    )
    canonical = f"{method}\n{path or '/'}\n{canon_query}\n{canon_headers}\n{';'.join(signed)}\n{payload_hash}"
    to_sign = f"ACS3-HMAC-SHA256\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def _rpc_expected(method: str, params: dict, secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canon = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
    to_sign = f"{method}&%2F&{quote_plus(canon, safe='~')}"
    return b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def _tc3_expected(method, headers, body: bytes, secret_key, date, service, timestamp) -> str:
    canonical = (
        f"{method}\n/\n\ncontent-type:{headers.get('Content-Type', '')}\nhost:{headers.get('Host', '')}\n\n"
        f"content-type;host\n{hashlib.sha256(body).hexdigest()}"
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"

    def _h(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = _h(_h(_h(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()


def gateway_signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The HTTP gateway's request signature: hex HMAC-SHA256 over "timestamp\\nMETHOD\\npath\\nbody"."""
    msg = f"{timestamp}\n{method}\n{path}\n".encode() + body
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


TC_JSON = "application/json"  # Tencent's SDK reads an error only from exactly this content type


class _Refused(Exception):
    def __init__(self, status: int, body: dict, content_type: str = "application/json;charset=utf-8"):
        self.status, self.body, self.content_type = status, body, content_type


# --- the server -----------------------------------------------------------------------------------


class FakeSmsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, store: str, *, host: str = "127.0.0.1", port: int = 0, config: FakeSmsConfig | None = None
    ):
        self.store = FakeSmsStore(store)
        self.config = config or FakeSmsConfig()
        self._random = random.Random(self.config.seed)
        self._random_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Test hook: called with each accepted send's record after it is stored and before the
        # answer goes out (the crash test SIGKILLs the worker here: accepted, answer never read).
        self.on_accept = None
        super().__init__((host, port), _Handler)

    def handle_error(self, request, client_address):
        """A client that went away (killed, timed out) is part of the job, not an error."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def endpoint(self) -> str:
        """host:port, what the SDKs take as their endpoint (with protocol http)."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def start(self) -> FakeSmsServer:
        self._thread = threading.Thread(target=self.serve_forever, name="fake-sms", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.store.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- failures --------------------------------------------------------------------------------

    def failure_for(self, api: str, phone: str) -> str:
        name = self.config.number_errors.get(phone, "")
        if not name and self.config.error_rate:
            with self._random_lock:
                if self._random.random() < self.config.error_rate:
                    name = "throttled"
        if not name:
            return ""
        return FAILURES.get(name, {}).get(api, name)

    def reported(self, row: dict) -> bool:
        """Has the carrier's receipt for this accepted send arrived (``receipt_delay``)?"""
        age = (datetime.now(UTC) - datetime.fromisoformat(row["at"])).total_seconds()
        return age >= self.config.receipt_delay

    def delay_for(self, phone: str) -> float:
        return self.config.number_delays.get(phone, self.config.delay)

    def record_send(self, *, api, phone, sign, template, params, out_id) -> tuple[dict, str]:
        code = self.failure_for(api, phone)
        undelivered = self.config.number_undelivered.get(phone, "")
        row = self.store.send(
            api=api,
            phone=phone,
            sign=sign,
            template=template,
            params=params,
            out_id=out_id,
            accepted=not code,
            code=code or "OK",
            delivery="" if code else ("undelivered" if undelivered else "delivered"),
            delivery_code="" if code else (undelivered or "DELIVERED"),
        )
        if not code and self.on_accept is not None:
            self.on_accept(row)
        return row, code

    # -- pushes to our callbacks -------------------------------------------------------------------

    def push_receipts(self, url: str, api: str, *, limit: int = 1000) -> int:
        """POST the receipts of accepted sends of ``api`` not pushed yet, in the provider's format;
        returns how many were pushed. ``again``: a test pushes the same ones again with
        :meth:`push_receipts_again`."""
        rows = self.store.query(
            "SELECT * FROM messages WHERE accepted = 1 AND api = ? AND pushed = 0 ORDER BY id LIMIT ?",
            (api, limit),
        )
        rows = [r for r in rows if self.reported(r)]
        if rows:
            _post_json(url, receipts_payload(api, rows))
            for r in rows:
                self.store.execute("UPDATE messages SET pushed = 1 WHERE id = ?", (r["id"],))
        return len(rows)

    def push_receipts_again(self, url: str, api: str) -> int:
        rows = self.store.query(
            "SELECT * FROM messages WHERE accepted = 1 AND api = ? AND pushed = 1", (api,)
        )
        if rows:
            _post_json(url, receipts_payload(api, rows))
        return len(rows)

    def push_reply(self, url: str, api: str, phone: str, text: str, *, ref: str = "") -> tuple[int, dict]:
        """POST one inbound reply (上行) to our callback in the provider's format."""
        return _post_json(url, reply_payload(api, phone, text, ref=ref))


def reply_payload(api: str, phone: str, text: str, *, ref: str = ""):
    """An inbound reply in each provider's push format (Aliyun SmsUp, Tencent reply callback, the
    gateway's own)."""
    ref = ref or f"up-{random.getrandbits(40):x}"
    now = _now_china()
    if api == "aliyun":
        return [
            {
                "phone_number": digits(phone),
                "send_time": now.strftime("%Y-%m-%d %H:%M:%S"),
                "content": text,
                "sign_name": "老客",
                "dest_code": "",
                "sequence_id": ref,
            }
        ]
    if api == "tencent":
        return {
            "extend": "",
            "mobile": digits(phone),
            "nationcode": "86",
            "sign": "老客",
            "text": text,
            "time": int(now.timestamp()),
            "reply_id": ref,
        }
    return {"from": phone, "text": text, "id": ref, "at": now.isoformat()}


def receipts_payload(api: str, rows: list[dict]):
    """Receipts in each provider's push format (Aliyun SmsReport, Tencent status callback, the
    gateway's own)."""
    out = []
    for r in rows:
        ok = r["delivery"] == "delivered"
        when = datetime.fromisoformat(r["at"]).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        if api == "aliyun":
            out.append(
                {
                    "phone_number": r["phone"],
                    "send_time": when,
                    "report_time": when,
                    "success": ok,
                    "err_code": r["delivery_code"],
                    "err_msg": "用户接收成功" if ok else "失败",
                    "sms_size": "1",
                    "biz_id": r["provider_id"],
                    "out_id": r["out_id"],
                }
            )
        elif api == "tencent":
            out.append(
                {
                    "user_receive_time": when,
                    "nationcode": "86",
                    "mobile": r["phone"],
                    "report_status": "SUCCESS" if ok else "FAIL",
                    "errmsg": "DELIVRD" if ok else r["delivery_code"],
                    "description": "用户短信送达成功" if ok else "用户短信未送达",
                    "sid": r["provider_id"],
                    "ext": {"SessionContext": r["out_id"]},
                }
            )
        else:
            out.append(
                {
                    "id": r["provider_id"],
                    "out_id": r["out_id"],
                    "status": "delivered" if ok else "undelivered",
                    "error": "" if ok else r["delivery_code"],
                    "at": r["at"],
                }
            )
    return {"receipts": out} if api == "gateway" else out


def _post_json(url: str, payload) -> tuple[int, dict]:
    data = json.dumps(payload, ensure_ascii=False).encode()
    req = urllib.request.Request(  # noqa: S310 (our own callback URL)
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (our own callback URL)
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class _Handler(BaseHTTPRequestHandler):
    server: FakeSmsServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def log_message(self, format, *args):  # quiet
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reply(
        self, status: int, payload, *, delay: float = 0.0, content_type="application/json;charset=utf-8"
    ):
        if delay:
            time.sleep(delay)
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): fine
            pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        body = self._body()
        parts = urlsplit(self.path)
        auth = self.headers.get("Authorization", "")
        try:
            if parts.path.startswith("/gateway/"):
                self._gateway(method, parts, body)
            elif parts.path == "/_fake/push":
                self._control(body)
            elif auth.startswith("TC3-"):
                self._tencent(method, body)
            elif auth.startswith("ACS3-") or "Signature=" in (parts.query or ""):
                self._aliyun(method, parts, body)
            else:
                self.server.store.request("unknown", "", "NotFound", self.path)
                self._reply(404, {"error": "not found"})
        except _Refused as exc:
            self._reply(exc.status, exc.body, content_type=exc.content_type)

    # -- Aliyun ----------------------------------------------------------------------------------

    def _aliyun(self, method: str, parts, body: bytes) -> None:
        store, cfg = self.server.store, self.server.config
        query = parse_qsl(parts.query, keep_blank_values=True)
        params = dict(query)
        if body and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        action = self.headers.get("x-acs-action") or params.get("Action", "")
        rid = _request_id()

        def refuse(status, code, message):
            store.request("aliyun", action, code, self.path)
            raise _Refused(status, {"Code": code, "Message": message, "RequestId": rid, "HostId": "fake"})

        auth = self.headers.get("Authorization", "")
        if auth.startswith("ACS3-HMAC-SHA256 "):
            fields = dict(p.strip().split("=", 1) for p in auth.split(" ", 1)[1].split(",") if "=" in p)
            ak, signed = fields.get("Credential", ""), fields.get("SignedHeaders", "").split(";")
            if ak not in cfg.aliyun_keys:
                refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            payload_hash = self.headers.get("x-acs-content-sha256", "")
            if payload_hash != hashlib.sha256(body).hexdigest():
                refuse(400, "IncompleteSignature", "The request body hash does not match.")
            expected = _acs3_expected(
                method, parts.path, query, self.headers, signed, payload_hash, cfg.aliyun_keys[ak]
            )
            if not hmac.compare_digest(expected, fields.get("Signature", "")):
                refuse(
                    400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
                )
        else:
            ak = params.get("AccessKeyId", "")
            if ak not in cfg.aliyun_keys:
                refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            if not hmac.compare_digest(
                _rpc_expected(method, params, cfg.aliyun_keys[ak]), params.get("Signature", "")
            ):
                refuse(
                    400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
                )

        if action == "SendSms":
            phones = [digits(p) for p in params.get("PhoneNumbers", "").split(",") if p.strip()]
            if not phones:
                refuse(400, "MissingPhoneNumbers", "PhoneNumbers is mandatory for this action.")
            if not params.get("SignName") or not params.get("TemplateCode"):
                refuse(400, "MissingParameter", "SignName and TemplateCode are mandatory.")
            code, delay, biz = "", 0.0, ""
            for phone in phones:
                row, code = self.server.record_send(
                    api="aliyun",
                    phone=phone,
                    sign=params["SignName"],
                    template=params["TemplateCode"],
                    params=params.get("TemplateParam", ""),
                    out_id=params.get("OutId", ""),
                )
                biz = biz or row["provider_id"]
                delay = max(delay, self.server.delay_for(phone))
            store.request("aliyun", action, code or "OK", self.path)
            if code:
                self._reply(200, {"Code": code, "Message": code, "RequestId": rid}, delay=delay)
            else:
                self._reply(200, {"Code": "OK", "Message": "OK", "BizId": biz, "RequestId": rid}, delay=delay)
        elif action == "QuerySendDetails":
            phone = digits(params.get("PhoneNumber", ""))
            day = params.get("SendDate", "")
            size = max(1, min(int(params.get("PageSize") or 10), 50))
            page = max(1, int(params.get("CurrentPage") or 1))
            rows = [
                r
                for r in store.query(
                    "SELECT * FROM messages WHERE api = 'aliyun' AND accepted = 1 AND phone = ? ORDER BY id",
                    (phone,),
                )
                if datetime.fromisoformat(r["at"]).astimezone(CHINA).strftime("%Y%m%d") == day
                and (not params.get("BizId") or r["provider_id"] == params["BizId"])
            ]
            chunk = rows[(page - 1) * size : page * size]
            details = [
                {
                    "PhoneNum": r["phone"],
                    "SendStatus": (3 if r["delivery"] == "delivered" else 2)
                    if self.server.reported(r)
                    else 1,
                    "ErrCode": r["delivery_code"] if self.server.reported(r) else "",
                    "TemplateCode": r["template"],
                    "Content": r["params"],
                    "SendDate": datetime.fromisoformat(r["at"])
                    .astimezone(CHINA)
                    .strftime("%Y-%m-%d %H:%M:%S"),
                    "ReceiveDate": datetime.fromisoformat(r["at"])
                    .astimezone(CHINA)
                    .strftime("%Y-%m-%d %H:%M:%S"),
                    "OutId": r["out_id"],
                }
                for r in chunk
            ]
            store.request("aliyun", action, "OK", self.path)
            self._reply(
                200,
                {
                    "Code": "OK",
                    "Message": "OK",
                    "RequestId": rid,
                    "TotalCount": len(rows),
                    "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
                },
            )
        else:
            refuse(400, "InvalidAction.NotFound", f"Specified api {action} is not found.")

    # -- Tencent ---------------------------------------------------------------------------------

    def _tencent(self, method: str, body: bytes) -> None:
        store, cfg = self.server.store, self.server.config
        action = self.headers.get("X-TC-Action", "")
        rid = f"fake-{random.getrandbits(64):016x}"

        def error(code, message):
            store.request("tencent", action, code, self.path)
            raise _Refused(
                200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": rid}}, TC_JSON
            )

        auth = self.headers.get("Authorization", "")
        try:
            _scheme, rest = auth.split(" ", 1)
            fields = dict(p.strip().split("=", 1) for p in rest.split(","))
            secret_id, date, service, _ = fields["Credential"].split("/")
        except (ValueError, KeyError):
            error("AuthFailure.InvalidAuthorization", "Authorization is invalid.")
        if secret_id not in cfg.tencent_keys:
            error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        timestamp = self.headers.get("X-TC-Timestamp", "")
        if datetime.fromtimestamp(int(timestamp or 0), UTC).strftime("%Y-%m-%d") != date:
            error("AuthFailure.SignatureFailure", "The credential date does not match the timestamp.")
        expected = _tc3_expected(
            method, self.headers, body, cfg.tencent_keys[secret_id], date, service, timestamp
        )
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        params = json.loads(body or b"{}")
        if params.get("SmsSdkAppId") != cfg.tencent_app_id:
            error(
                "FailedOperation.MissingSmsSdkAppId"
                if not params.get("SmsSdkAppId")
                else "InvalidParameterValue.SdkAppIdNotExist",
                "SmsSdkAppId",
            )

        if action == "SendSms":
            statuses, delay = [], 0.0
            for raw in params.get("PhoneNumberSet") or []:
                phone = digits(raw)
                row, code = self.server.record_send(
                    api="tencent",
                    phone=phone,
                    sign=params.get("SignName", ""),
                    template=str(params.get("TemplateId", "")),
                    params=json.dumps(params.get("TemplateParamSet") or [], ensure_ascii=False),
                    out_id=params.get("SessionContext", ""),
                )
                delay = max(delay, self.server.delay_for(phone))
                statuses.append(
                    {
                        "SerialNo": row["provider_id"],
                        "PhoneNumber": raw,
                        "Fee": 0 if code else 1,
                        "SessionContext": params.get("SessionContext", ""),
                        "Code": code or "Ok",
                        "Message": code or "send success",
                        "IsoCode": "CN",
                    }
                )
            store.request("tencent", action, "Ok", self.path)
            self._reply(
                200,
                {"Response": {"SendStatusSet": statuses, "RequestId": rid}},
                delay=delay,
                content_type=TC_JSON,
            )
        elif action in ("PullSmsSendStatus", "PullSmsSendStatusByPhoneNumber"):
            limit = max(1, min(int(params.get("Limit") or 100), 100))
            if action == "PullSmsSendStatus":
                rows = store.query(
                    "SELECT * FROM messages WHERE api = 'tencent' AND accepted = 1 AND pulled = 0 ORDER BY id LIMIT ?",
                    (limit,),
                )
                rows = [r for r in rows if self.server.reported(r)]
                for r in rows:
                    store.execute("UPDATE messages SET pulled = 1 WHERE id = ?", (r["id"],))
            else:
                begin = datetime.fromtimestamp(int(params.get("BeginTime") or 0), UTC)
                end = datetime.fromtimestamp(int(params.get("EndTime") or time.time() + 60), UTC)
                offset = int(params.get("Offset") or 0)
                rows = [
                    r
                    for r in store.query(
                        "SELECT * FROM messages WHERE api = 'tencent' AND accepted = 1 AND phone = ? ORDER BY id",
                        (digits(params.get("PhoneNumber", "")),),
                    )
                    if begin <= datetime.fromisoformat(r["at"]) <= end and self.server.reported(r)
                ][offset : offset + limit]
            out = [
                {
                    "UserReceiveTime": datetime.fromisoformat(r["at"])
                    .astimezone(CHINA)
                    .strftime("%Y-%m-%d %H:%M:%S"),
                    "CountryCode": "86",
                    "SubscriberNumber": r["phone"],
                    "PhoneNumber": "+86" + r["phone"],
                    "SerialNo": r["provider_id"],
                    "ReportStatus": "SUCCESS" if r["delivery"] == "delivered" else "FAIL",
                    "Description": "DELIVRD" if r["delivery"] == "delivered" else r["delivery_code"],
                    "SessionContext": r["out_id"],
                }
                for r in rows
            ]
            store.request("tencent", action, "Ok", self.path)
            self._reply(
                200, {"Response": {"PullSmsSendStatusSet": out, "RequestId": rid}}, content_type=TC_JSON
            )
        else:
            error("InvalidAction", f"The action {action} is not supported.")

    # -- the generic gateway ----------------------------------------------------------------------

    def _gateway(self, method: str, parts, body: bytes) -> None:
        store, cfg = self.server.store, self.server.config
        action = parts.path.rsplit("/", 1)[-1]
        ts = self.headers.get("X-Gateway-Timestamp", "")
        expected = gateway_signature(
            cfg.gateway_secret, ts, method, parts.path + (f"?{parts.query}" if parts.query else ""), body
        )
        if not hmac.compare_digest(expected, self.headers.get("X-Gateway-Signature", "")):
            store.request("gateway", action, "bad_signature", self.path)
            raise _Refused(401, {"error": "bad_signature", "permanent": True})
        if action == "send" and method == "POST":
            data = json.loads(body or b"{}")
            phone = digits(data.get("to", ""))
            row, code = self.server.record_send(
                api="gateway",
                phone=phone,
                sign=data.get("sign", ""),
                template="",
                params=data.get("text", ""),
                out_id=str(data.get("out_id", "")),
            )
            store.request("gateway", action, code or "ok", self.path)
            delay = self.server.delay_for(phone)
            if code:
                status = 429 if code == "throttled" else 422
                self._reply(status, {"error": code, "permanent": status == 422}, delay=delay)
            else:
                self._reply(200, {"id": row["provider_id"], "segments": 1}, delay=delay)
        elif action == "status" and method == "GET":
            out_id = dict(parse_qsl(parts.query)).get("out_id", "")
            rows = store.query(
                "SELECT * FROM messages WHERE api = 'gateway' AND accepted = 1 AND out_id = ? ORDER BY id",
                (out_id,),
            )
            if rows:  # only accepted sends count: a refused one was never handed over
                r = rows[0]
                answer = {"out_id": out_id, "id": r["provider_id"], "status": r["delivery"] or "accepted"}
            else:
                answer = {"out_id": out_id, "status": "unknown"}
            store.request("gateway", action, "ok", self.path)
            self._reply(200, answer)
        else:
            store.request("gateway", action, "not_found", self.path)
            raise _Refused(404, {"error": "not_found"})

    # -- control (demos, the CLI) -----------------------------------------------------------------

    def _control(self, body: bytes) -> None:
        """POST /_fake/push {"kind": "receipts"|"reply", "api": …, "url": …, "phone": …, "text": …}."""
        data = json.loads(body or b"{}")
        if data.get("kind") == "reply":
            status, _ = self.server.push_reply(
                data["url"], data.get("api", "aliyun"), data["phone"], data["text"]
            )
            self._reply(200, {"pushed": 1, "status": status})
        else:
            n = self.server.push_receipts(data["url"], data.get("api", "aliyun"))
            self._reply(200, {"pushed": n})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fake_sms", description="a local fake Aliyun / Tencent SMS provider"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9099)
    parser.add_argument("--store", default="fake-sms.sqlite3", help="SQLite file of the records")
    parser.add_argument(
        "--config", default="", help="JSON file of FakeSmsConfig fields (keys, failures, delay)"
    )
    args = parser.parse_args(argv)
    config = FakeSmsConfig()
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            config = FakeSmsConfig.from_json(json.load(fh))
    server = FakeSmsServer(args.store, host=args.host, port=args.port, config=config)
    print(
        json.dumps(
            {
                "listening": f"http://{args.host}:{server.port}",
                "store": args.store,
                "aliyun_keys": list(config.aliyun_keys),
                "tencent_keys": list(config.tencent_keys),
                "tencent_app_id": config.tencent_app_id,
            }
        ),
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
