"""WeChat Pay APIv3 through ``wechatpayv3`` (WeChat Pay publishes no official Python SDK; this is
the community SDK WeChat's developer community points to — see decision 0031).

- start: H5 pay (``/v3/pay/transactions/h5``) returns ``h5_url``; the browser goes there with
  ``redirect_url`` appended (WeChat's documented way back to the merchant page).
- requests are signed with the merchant's private key (``Authorization: WECHATPAY2-SHA256-RSA2048``);
  responses and callbacks are verified with the "WeChat Pay public key" (public-key mode, so no
  platform-certificate download), and the callback's resource is decrypted with the APIv3 key
  (AEAD_AES_256_GCM) — all by the SDK (``WeChatPay.callback``).
- The ack: HTTP 200 with no body; a refusal is 4xx with ``{"code": "FAIL", "message": …}``.
"""

from __future__ import annotations

import json
import urllib.parse

from wechatpayv3 import WeChatPay, WeChatPayType

from .base import Paid, Parsed, PayStart, ProviderError, QueryResult, RefundResult

TIMEOUT = (5, 10)


class WechatProvider:
    name = "wechat"

    def __init__(self, cfg):
        if cfg is None:
            raise ProviderError("wechat pay is not configured")
        self.cfg = cfg
        self.client = WeChatPay(
            wechatpay_type=WeChatPayType.H5,
            mchid=cfg.mchid,
            private_key=cfg.private_key,
            cert_serial_no=cfg.cert_serial,
            appid=cfg.appid,
            apiv3_key=cfg.apiv3_key,
            public_key=cfg.public_key,
            public_key_id=cfg.public_key_id,
            timeout=TIMEOUT,
        )
        # The SDK's gateway is a plain attribute; pointing it elsewhere is how the fake is reached.
        self.client._core._gate_way = cfg.base_url.rstrip("/")

    def _request(self, fn, **kwargs) -> tuple[int, dict]:
        try:
            code, text = fn(**kwargs)
        except Exception as exc:  # requests' connection errors, signature failures
            raise ProviderError(f"wechat: {exc}") from exc
        try:
            data = json.loads(text) if text else {}
        except (TypeError, ValueError):
            data = {}
        return code, data

    def start(self, purchase, *, return_url: str, notify_url: str) -> PayStart:
        code, data = self._request(
            self.client.pay,
            description=purchase.name,
            out_trade_no=purchase.out_trade_no,
            amount={"total": purchase.price_fen, "currency": "CNY"},
            notify_url=notify_url,
            scene_info={"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}},
        )
        if code != 200 or not data.get("h5_url"):
            raise ProviderError(f"wechat pay: {code} {data.get('code', '')} {data.get('message', '')}")
        sep = "&" if "?" in data["h5_url"] else "?"
        return PayStart(f"{data['h5_url']}{sep}redirect_url={urllib.parse.quote(return_url, safe='')}")

    def parse_notification(self, request) -> Parsed:
        raw = request.body.decode("utf-8", "replace")
        headers = {
            k: request.META.get(k, "")
            for k in (
                "HTTP_WECHATPAY_SIGNATURE",
                "HTTP_WECHATPAY_TIMESTAMP",
                "HTTP_WECHATPAY_NONCE",
                "HTTP_WECHATPAY_SERIAL",
                "HTTP_WECHATPAY_SIGNATURE_TYPE",
            )
        }
        ok = (200, "application/json", "")
        fail = (400, "application/json", json.dumps({"code": "FAIL", "message": "失败"}))
        try:
            data = self.client.callback(headers, raw)
        except Exception:  # bad signature type, tag mismatch …
            data = None
        if not data or not isinstance(data.get("resource"), dict):
            return Parsed(None, raw, headers, ok, fail)
        res = data["resource"]
        if res.get("mchid") != self.cfg.mchid:
            return Parsed(None, raw, headers, ok, fail)
        amount = res.get("amount") or {}
        total = amount.get("total")
        paid = Paid(
            out_trade_no=res.get("out_trade_no", ""),
            provider_trade_no=res.get("transaction_id", ""),
            amount_fen=total if isinstance(total, int) else -1,
            paid=res.get("trade_state") == "SUCCESS",
        )
        # Support sees the decrypted resource next to the raw envelope.
        return Parsed(paid, raw + "\n" + json.dumps(res, ensure_ascii=False), headers, ok, fail)

    def query(self, out_trade_no: str) -> QueryResult:
        code, data = self._request(self.client.query, out_trade_no=out_trade_no)
        if code == 404:
            return QueryResult("unknown")
        if code != 200:
            raise ProviderError(f"wechat query: {code} {data.get('code', '')}")
        state = {"SUCCESS": "paid", "CLOSED": "closed", "REVOKED": "closed", "REFUND": "paid"}.get(
            data.get("trade_state"), "unpaid"
        )
        return QueryResult(state, data.get("transaction_id", ""), (data.get("amount") or {}).get("total", 0))

    def close(self, out_trade_no: str) -> None:
        code, data = self._request(self.client.close, out_trade_no=out_trade_no)
        if code not in (200, 204) and data.get("code") != "ORDER_NOT_EXIST":
            raise ProviderError(f"wechat close: {code} {data.get('code', '')}")

    def refund(self, purchase, amount_fen: int, refund_no: str) -> RefundResult:
        code, data = self._request(
            self.client.refund,
            out_refund_no=refund_no,
            amount={"refund": amount_fen, "total": purchase.price_fen, "currency": "CNY"},
            out_trade_no=purchase.out_trade_no,
            reason="充值套餐退款",
        )
        if code != 200 or data.get("status") not in ("SUCCESS", "PROCESSING"):
            return RefundResult(False, detail=f"{code} {data.get('code', '')} {data.get('message', '')}")
        return RefundResult(True, refund_id=data.get("refund_id", ""), detail=data.get("status", ""))
