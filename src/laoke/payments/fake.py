"""A local fake payment provider that speaks Alipay's and WeChat Pay's protocols as the SDKs use them.

Run: ``python -m laoke.payments.fake --port 8765 --keys DIR`` (loopback only; ``--port 0`` picks a
free port; the first stdout line is ``{"port": N}``). ``ensure_demo_keys(data_dir)`` writes both
sides' keys (RSA 2048, generated here) into ``DIR = data_dir/payments-fake``: the merchant's
(what Laoke signs with and verifies against) and the provider's (what the fake signs with and
verifies against).

Alipay (``/alipay/gateway.do``): a GET is a page-pay request (``alipay.trade.wap.pay``): the RSA2
signature over the sorted parameters (less ``sign``) is verified with the app's public key — a bad
one gets Alipay's error page —, then the cashier page is served. A POST is an API call
(``alipay.trade.query`` / ``close`` / ``refund``): verified the same way; the answer is
``{"<method>_response": {...}, "sign": …}`` signed with the fake's Alipay key; a bad signature is
answered with code 40002 / ``isv.invalid-signature``. Notifications are form posts signed like
Alipay's (sorted parameters less ``sign``/``sign_type``); acknowledged by the body ``success``.

WeChat Pay APIv3 (``/v3/...``): each request's ``Authorization: WECHATPAY2-SHA256-RSA2048`` is
verified with the merchant's public key (401 ``SIGN_ERROR`` otherwise); each answer carries the
``Wechatpay-*`` signature headers ("WeChat Pay public key" mode). H5 pay returns ``h5_url`` (the
cashier). Callbacks are JSON with the resource encrypted by AEAD_AES_256_GCM under the APIv3 key,
signed in the headers; acknowledged by HTTP 200/204.

The cashier (``/cashier/<provider>/<out_trade_no>``) has two buttons, 确认支付 and 取消. Paying
marks the trade paid, posts the notification (the first attempt before answering the browser, so
tests are deterministic), retries it in the background after ``--retry-delays`` seconds while it is
not acknowledged, and redirects the browser to the merchant's return URL. Test hooks: a form field
``notify=lost`` pays without notifying; ``POST /_fake/notify/<out_trade_no>`` sends the
notification once more; ``GET /_fake/trades/<out_trade_no>`` shows a trade.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CST = timezone(timedelta(hours=8))

# --- keys -------------------------------------------------------------------------------------------


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def ensure_demo_keys(data_dir: str | Path) -> dict[str, str]:
    """Create (once) the fake's and the merchant's keys under ``data_dir/payments-fake``; return the
    environment that points Laoke at them (``LAOKE_PAYMENTS=fake``, ``LAOKE_PAYMENTS_FAKE_KEYS``)."""
    keys = Path(data_dir) / "payments-fake"
    if not (keys / "merchant.json").exists():
        keys.mkdir(parents=True, exist_ok=True)
        files = {}
        for who in ("alipay_app", "alipay_platform", "wechat_merchant", "wechat_platform"):
            k = _new_key()
            files[f"{who}_private.pem"] = _private_pem(k)
            files[f"{who}_public.pem"] = _public_pem(k)
        for name, text in files.items():
            path = keys / name
            path.write_text(text, encoding="utf-8")
            if "private" in name:
                path.chmod(0o600)
        meta = {
            "alipay_app_id": "2021000000000001",
            "wechat_mchid": "1900000001",
            "wechat_appid": "wx0000000000000001",
            "wechat_cert_serial": secrets.token_hex(20).upper(),
            "wechat_apiv3_key": secrets.token_hex(16),  # 32 characters
            "wechat_public_key_id": "PUB_KEY_ID_" + secrets.token_hex(12).upper(),
        }
        # Written last: its presence means the directory is complete.
        (keys / "merchant.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return {"LAOKE_PAYMENTS": "fake", "LAOKE_PAYMENTS_FAKE_KEYS": str(keys)}


def _load_private(path: Path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _load_public(path: Path):
    return serialization.load_pem_public_key(path.read_bytes())


def _sign(key, text: str) -> str:
    return base64.b64encode(key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()


def _verify(key, text: str, sign: str) -> bool:
    try:
        key.verify(base64.b64decode(sign), text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def alipay_sign_content(params: dict[str, str], exclude=("sign",)) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in exclude and v != "")


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


# --- state ------------------------------------------------------------------------------------------


@dataclass
class Trade:
    provider: str
    out_trade_no: str
    amount_fen: int
    subject: str
    notify_url: str
    return_url: str
    state: str = "WAIT"  # WAIT | PAID | CLOSED
    trade_no: str = ""
    paid_at: datetime | None = None
    refunds: dict[str, int] = field(default_factory=dict)
    deliveries: list[int] = field(default_factory=list)  # HTTP status of each notification attempt
    acked: bool = False


class Fake:
    def __init__(self, keys: Path, retry_delays: list[float]):
        meta = json.loads((keys / "merchant.json").read_text(encoding="utf-8"))
        self.meta = meta
        self.alipay_app_public = _load_public(keys / "alipay_app_public.pem")
        self.alipay_key = _load_private(keys / "alipay_platform_private.pem")
        self.wechat_merchant_public = _load_public(keys / "wechat_merchant_public.pem")
        self.wechat_key = _load_private(keys / "wechat_platform_private.pem")
        self.apiv3_key = meta["wechat_apiv3_key"].encode()
        self.retry_delays = retry_delays
        self.trades: dict[str, Trade] = {}
        self.lock = threading.Lock()

    # notifications ---------------------------------------------------------------------------------

    def _alipay_notification(self, t: Trade) -> tuple[bytes, dict]:
        now = datetime.now(CST).strftime("%Y-%m-%d %H:%M:%S")
        params = {
            "notify_time": now,
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": self.meta["alipay_app_id"],
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": t.trade_no,
            "out_trade_no": t.out_trade_no,
            "trade_status": "TRADE_SUCCESS",
            "total_amount": yuan(t.amount_fen),
            "receipt_amount": yuan(t.amount_fen),
            "buyer_pay_amount": yuan(t.amount_fen),
            "subject": t.subject,
            "gmt_create": now,
            "gmt_payment": now,
        }
        params["sign"] = _sign(self.alipay_key, alipay_sign_content(params, exclude=("sign", "sign_type")))
        params["sign_type"] = "RSA2"
        body = urllib.parse.urlencode(params).encode()
        return body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def _wechat_signed_headers(self, body: str) -> dict:
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": _sign(self.wechat_key, f"{ts}\n{nonce}\n{body}\n"),
            "Wechatpay-Serial": self.meta["wechat_public_key_id"],
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def _wechat_transaction(self, t: Trade) -> dict:
        data = {
            "mchid": self.meta["wechat_mchid"],
            "appid": self.meta["wechat_appid"],
            "out_trade_no": t.out_trade_no,
            "trade_state": {"WAIT": "NOTPAY", "PAID": "SUCCESS", "CLOSED": "CLOSED"}[t.state],
            "trade_state_desc": {"WAIT": "未支付", "PAID": "支付成功", "CLOSED": "已关闭"}[t.state],
            "trade_type": "MWEB",
            "amount": {"total": t.amount_fen, "currency": "CNY"},
        }
        if t.state == "PAID":
            data["transaction_id"] = t.trade_no
            data["success_time"] = t.paid_at.astimezone(CST).isoformat(timespec="seconds")
            data["amount"].update({"payer_total": t.amount_fen, "payer_currency": "CNY"})
            data["payer"] = {"openid": "o-fake-payer"}
        return data

    def _wechat_notification(self, t: Trade) -> tuple[bytes, dict]:
        plain = json.dumps(self._wechat_transaction(t), ensure_ascii=False)
        nonce = secrets.token_hex(6)  # 12 characters, used as bytes like WeChat's
        cipher = AESGCM(self.apiv3_key).encrypt(nonce.encode(), plain.encode(), b"transaction")
        envelope = {
            "id": secrets.token_hex(18),
            "create_time": datetime.now(CST).isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(cipher).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        }
        body = json.dumps(envelope, ensure_ascii=False)
        return body.encode(), {"Content-Type": "application/json", **self._wechat_signed_headers(body)}

    def deliver(self, t: Trade) -> int:
        """One notification attempt; records the status; True-ish ack per the provider's rule."""
        if t.provider == "alipay":
            body, headers = self._alipay_notification(t)
        else:
            body, headers = self._wechat_notification(t)
        req = urllib.request.Request(t.notify_url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (the merchant's notify_url)
                status, text = resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, ""
        except (urllib.error.URLError, OSError):
            status, text = 0, ""
        ok = text.strip() == "success" if t.provider == "alipay" else status in (200, 204)
        with self.lock:
            t.deliveries.append(status)
            t.acked = t.acked or ok
        return status

    def notify_with_retries(self, t: Trade) -> None:
        self.deliver(t)
        if t.acked or not self.retry_delays:
            return

        def retry():
            for delay in self.retry_delays:
                time.sleep(delay)
                if t.acked:
                    return
                self.deliver(t)

        threading.Thread(target=retry, daemon=True).start()

    def pay(self, t: Trade) -> None:
        with self.lock:
            if t.state != "WAIT":
                return
            t.state = "PAID"
            t.paid_at = datetime.now(UTC)
            prefix = "2026" if t.provider == "alipay" else "4200"
            t.trade_no = prefix + datetime.now(CST).strftime("%m%d%H%M%S") + secrets.token_hex(6)

    def refund(self, t: Trade, refund_no: str, amount: int) -> str | None:
        """None when done (or done before with this number); else an error code."""
        with self.lock:
            if refund_no in t.refunds:
                return None if t.refunds[refund_no] == amount else "REFUND_NO_CONFLICT"
            if t.state != "PAID":
                return "TRADE_NOT_PAID"
            if amount <= 0 or amount > t.amount_fen - sum(t.refunds.values()):
                return "REFUND_AMT_EXCEEDS"
            t.refunds[refund_no] = amount
        return None


# --- HTTP -------------------------------------------------------------------------------------------


def _cashier_html(t: Trade) -> str:
    brand = "支付宝" if t.provider == "alipay" else "微信支付"
    return f"""<!doctype html><html lang="zh-hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{brand}（模拟收银台）</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
.amount{{font-size:2rem;margin:1rem 0}} button{{font-size:1.1rem;padding:.6rem 1.2rem;margin-right:.6rem}}</style>
</head><body><h1>{brand}<small>（模拟收银台，仅用于测试和演示）</small></h1>
<p>{html.escape(t.subject)}</p><p class="amount">¥{yuan(t.amount_fen)}</p>
<p>订单号 {html.escape(t.out_trade_no)}</p>
<form method="post" action="/cashier/{t.provider}/{html.escape(t.out_trade_no)}">
<button type="submit" name="action" value="pay">确认支付</button>
<button type="submit" name="action" value="cancel">取消</button></form></body></html>"""


def _with_params(url: str, params: dict) -> str:
    if not params:
        return url
    sep = "&" if "?" in url else "?"
    return url + sep + urllib.parse.urlencode(params)


class Handler(BaseHTTPRequestHandler):
    fake: Fake  # set on the subclass
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet
        pass

    # helpers
    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: str | bytes = b"", ctype="text/html; charset=utf-8", headers=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        if data or status != 204:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _redirect(self, url: str):
        self.send_response(302)
        self.send_header("Location", url)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _json(self, status: int, obj, headers=None):
        self._send(status, json.dumps(obj, ensure_ascii=False), "application/json", headers)

    # routing
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_fake/health":
            return self._send(200, "ok", "text/plain")
        if url.path.startswith("/_fake/trades/"):
            t = self.fake.trades.get(url.path.rsplit("/", 1)[-1])
            if t is None:
                return self._json(404, {"error": "unknown"})
            return self._json(
                200,
                {
                    "provider": t.provider,
                    "out_trade_no": t.out_trade_no,
                    "amount_fen": t.amount_fen,
                    "state": t.state,
                    "trade_no": t.trade_no,
                    "refunds": t.refunds,
                    "deliveries": t.deliveries,
                    "acked": t.acked,
                },
            )
        if url.path == "/alipay/gateway.do":
            return self._alipay_page(dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)))
        if url.path.startswith("/cashier/"):
            parts = url.path.split("/")
            t = self.fake.trades.get(parts[-1]) if len(parts) == 4 else None
            if t is None:
                return self._send(404, "<p>订单不存在</p>")
            back = dict(urllib.parse.parse_qsl(url.query)).get("redirect_url")
            if back and t.provider == "wechat":  # H5: the merchant appends where to come back to
                t.return_url = back
            return self._send(200, _cashier_html(t))
        if url.path.startswith("/v3/"):
            return self._wechat("GET", url, b"")
        return self._send(404, "not found", "text/plain")

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        body = self._body()
        if url.path == "/alipay/gateway.do":
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            params.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            return self._alipay_api(params)
        if url.path.startswith("/cashier/"):
            return self._cashier_post(url.path, dict(urllib.parse.parse_qsl(body.decode("utf-8"))))
        if url.path.startswith("/_fake/notify/"):
            t = self.fake.trades.get(url.path.rsplit("/", 1)[-1])
            if t is None or t.state != "PAID":
                return self._json(404, {"error": "no paid trade"})
            status = self.fake.deliver(t)
            return self._json(200, {"status": status, "acked": t.acked})
        if url.path.startswith("/v3/"):
            return self._wechat("POST", url, body)
        return self._send(404, "not found", "text/plain")

    # cashier
    def _cashier_post(self, path: str, form: dict):
        parts = path.split("/")
        t = self.fake.trades.get(parts[-1]) if len(parts) == 4 else None
        if t is None:
            return self._send(404, "<p>订单不存在</p>")
        if form.get("action") == "pay":
            self.fake.pay(t)
            if form.get("notify") != "lost":
                self.fake.notify_with_retries(t)
        back: dict = {}
        if t.provider == "alipay" and t.state == "PAID":
            back = {
                "charset": "utf-8",
                "out_trade_no": t.out_trade_no,
                "method": "alipay.trade.wap.pay.return",
                "total_amount": yuan(t.amount_fen),
                "trade_no": t.trade_no,
                "app_id": self.fake.meta["alipay_app_id"],
                "timestamp": datetime.now(CST).strftime("%Y-%m-%d %H:%M:%S"),
            }
            back["sign"] = _sign(self.fake.alipay_key, alipay_sign_content(back))
            back["sign_type"] = "RSA2"
        return self._redirect(_with_params(t.return_url, back) if t.return_url else "/_fake/health")

    # Alipay
    def _alipay_verified(self, params: dict) -> bool:
        return params.get("app_id") == self.fake.meta["alipay_app_id"] and _verify(
            self.fake.alipay_app_public, alipay_sign_content(params), params.get("sign", "")
        )

    def _alipay_page(self, params: dict):
        if not self._alipay_verified(params):
            return self._send(
                400,
                "<h1>支付宝</h1><p>错误代码 invalid-signature</p><p>错误原因: 验签出错，请确认签名是否正确</p>",
            )
        if params.get("method") != "alipay.trade.wap.pay":
            return self._send(400, "<p>错误代码 invalid-method</p>")
        biz = json.loads(params.get("biz_content") or "{}")
        try:
            whole, _, frac = biz["total_amount"].partition(".")
            amount = int(whole) * 100 + int((frac + "00")[:2])
        except (KeyError, ValueError):
            return self._send(400, "<p>错误代码 INVALID_PARAMETER total_amount</p>")
        otn = biz.get("out_trade_no", "")
        with self.fake.lock:
            t = self.fake.trades.get(otn)
            if t is None:
                t = Trade(
                    "alipay",
                    otn,
                    amount,
                    biz.get("subject", ""),
                    params.get("notify_url", ""),
                    params.get("return_url", ""),
                )
                self.fake.trades[otn] = t
            elif t.amount_fen != amount:
                return self._send(400, "<p>错误代码 ACQ.CONTEXT_INCONSISTENT 交易信息被篡改</p>")
        return self._send(200, _cashier_html(t))

    def _alipay_answer(self, method: str, obj: dict):
        name = method.replace(".", "_") + "_response"
        content = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        raw = '{"' + name + '":' + content + ',"sign":"' + _sign(self.fake.alipay_key, content) + '"}'
        return self._send(200, raw, "text/html;charset=utf-8")

    def _alipay_api(self, params: dict):
        method = params.get("method", "")
        if not self._alipay_verified(params):
            return self._alipay_answer(
                method,
                {
                    "code": "40002",
                    "msg": "Invalid Arguments",
                    "sub_code": "isv.invalid-signature",
                    "sub_msg": "验签出错",
                },
            )
        biz = json.loads(params.get("biz_content") or "{}")
        t = self.fake.trades.get(biz.get("out_trade_no", ""))
        if t is None:
            return self._alipay_answer(
                method,
                {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.TRADE_NOT_EXIST",
                    "sub_msg": "交易不存在",
                },
            )
        ok = {"code": "10000", "msg": "Success", "out_trade_no": t.out_trade_no, "trade_no": t.trade_no}
        if method == "alipay.trade.query":
            status = {"WAIT": "WAIT_BUYER_PAY", "PAID": "TRADE_SUCCESS", "CLOSED": "TRADE_CLOSED"}[t.state]
            return self._alipay_answer(
                method, {**ok, "trade_status": status, "total_amount": yuan(t.amount_fen)}
            )
        if method == "alipay.trade.close":
            with self.fake.lock:
                if t.state == "PAID":
                    return self._alipay_answer(
                        method,
                        {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR"},
                    )
                t.state = "CLOSED"
            return self._alipay_answer(method, ok)
        if method == "alipay.trade.refund":
            whole, _, frac = str(biz.get("refund_amount", "0")).partition(".")
            amount = int(whole) * 100 + int((frac + "00")[:2])
            err = self.fake.refund(t, str(biz.get("out_request_no") or ""), amount)
            if err:
                return self._alipay_answer(
                    method, {"code": "40004", "msg": "Business Failed", "sub_code": f"ACQ.{err}"}
                )
            refunded = sum(t.refunds.values())
            return self._alipay_answer(method, {**ok, "refund_fee": yuan(refunded), "fund_change": "Y"})
        return self._alipay_answer(
            method, {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"}
        )

    # WeChat
    def _wechat_verified(self, method: str, path: str, body: bytes) -> bool:
        auth = self.headers.get("Authorization", "")
        scheme, _, rest = auth.partition(" ")
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            return False
        fields = {}
        for part in rest.split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = v.strip('"')
        if fields.get("mchid") != self.fake.meta["wechat_mchid"]:
            return False
        if fields.get("serial_no") != self.fake.meta["wechat_cert_serial"]:
            return False
        message = f"{method}\n{path}\n{fields.get('timestamp', '')}\n{fields.get('nonce_str', '')}\n{body.decode('utf-8')}\n"
        return _verify(self.fake.wechat_merchant_public, message, fields.get("signature", ""))

    def _wechat_answer(self, status: int, obj: dict | None):
        body = json.dumps(obj, ensure_ascii=False) if obj is not None else ""
        headers = self.fake._wechat_signed_headers(body)
        if obj is None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            for k, v in headers.items():
                self.send_header(k, v)
            return self.end_headers()
        return self._send(status, body, "application/json", headers)

    def _wechat(self, method: str, url, body: bytes):
        path = url.path + (f"?{url.query}" if url.query else "")
        if not self._wechat_verified(method, path, body):
            return self._json(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        data = json.loads(body or b"{}")
        fake = self.fake
        if method == "POST" and url.path == "/v3/pay/transactions/h5":
            if (
                data.get("mchid") != fake.meta["wechat_mchid"]
                or data.get("appid") != fake.meta["wechat_appid"]
            ):
                return self._json(400, {"code": "PARAM_ERROR", "message": "mchid与appid不匹配"})
            otn, amount = data.get("out_trade_no", ""), (data.get("amount") or {}).get("total")
            if not isinstance(amount, int) or amount <= 0:
                return self._json(400, {"code": "PARAM_ERROR", "message": "amount.total"})
            with fake.lock:
                t = fake.trades.get(otn)
                if t is None:
                    t = Trade(
                        "wechat", otn, amount, data.get("description", ""), data.get("notify_url", ""), ""
                    )
                    fake.trades[otn] = t
                elif t.amount_fen != amount:
                    return self._json(400, {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"})
            host = self.headers.get("Host", "127.0.0.1")
            prepay = "wx" + secrets.token_hex(14)
            return self._wechat_answer(
                200, {"h5_url": f"http://{host}/cashier/wechat/{otn}?prepay_id={prepay}"}
            )
        if method == "POST" and url.path == "/v3/refund/domestic/refunds":
            t = fake.trades.get(data.get("out_trade_no", ""))
            if t is None:
                return self._json(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"})
            refund_no = data.get("out_refund_no", "")
            amount = (data.get("amount") or {}).get("refund", 0)
            err = fake.refund(t, refund_no, amount)
            if err:
                return self._json(400, {"code": "INVALID_REQUEST", "message": err})
            return self._wechat_answer(
                200,
                {
                    "refund_id": "5030" + secrets.token_hex(10),
                    "out_refund_no": refund_no,
                    "transaction_id": t.trade_no,
                    "out_trade_no": t.out_trade_no,
                    "status": "SUCCESS",
                    "amount": {"refund": amount, "total": t.amount_fen, "currency": "CNY"},
                },
            )
        prefix = "/v3/pay/transactions/out-trade-no/"
        if url.path.startswith(prefix):
            rest = url.path[len(prefix) :]
            otn, _, action = rest.partition("/")
            t = fake.trades.get(otn)
            if t is None:
                return self._json(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            if method == "GET" and not action:
                return self._wechat_answer(200, fake._wechat_transaction(t))
            if method == "POST" and action == "close":
                with fake.lock:
                    if t.state == "PAID":
                        return self._json(400, {"code": "ORDERPAID", "message": "订单已支付"})
                    t.state = "CLOSED"
                return self._wechat_answer(204, None)
        return self._json(404, {"code": "NOT_FOUND", "message": "接口不存在"})


def serve(port: int, keys: Path, retry_delays: list[float]) -> ThreadingHTTPServer:
    fake = Fake(keys, retry_delays)
    handler = type("BoundHandler", (Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)  # loopback only
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m laoke.payments.fake", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keys", help="key directory (default: $LAOKE_DATA_DIR/payments-fake, created)")
    parser.add_argument("--retry-delays", default="2,10,30", help="seconds between notification retries")
    args = parser.parse_args(argv)
    if args.keys:
        keys = Path(args.keys)
    else:
        from .config import _data_dir

        keys = Path(ensure_demo_keys(_data_dir())["LAOKE_PAYMENTS_FAKE_KEYS"])
    delays = [float(x) for x in args.retry_delays.split(",") if x.strip()]
    server = serve(args.port, keys, delays)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
