"""Alipay through the official SDK (``alipay-sdk-python``, import name ``alipay``).

- start: ``alipay.trade.wap.pay`` (手机网站支付) — the SDK builds the RSA2-signed gateway URL
  (``DefaultAlipayClient.page_execute(..., http_method="GET")``); the browser goes there.
- notifications: form posts; the signature over the sorted parameters (less ``sign`` and
  ``sign_type``) is verified with Alipay's public key by the SDK's ``verify_with_rsa``; the ack is
  the text ``success``.
- query / close / refund: the SDK builds and signs the request (``sdk_execute``); we post it
  ourselves because the SDK's HTTP helper ignores the port of the gateway URL (it always connects
  to 80/443); the response's signature is verified with the SDK's ``verify_with_rsa`` again.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayTradeCloseModel import AlipayTradeCloseModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
from alipay.aop.api.domain.AlipayTradeWapPayModel import AlipayTradeWapPayModel
from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
from alipay.aop.api.request.AlipayTradeWapPayRequest import AlipayTradeWapPayRequest
from alipay.aop.api.util.SignatureUtils import get_sign_content, verify_with_rsa
from cryptography.hazmat.primitives import serialization

from .base import Paid, Parsed, PayStart, ProviderError, QueryResult, RefundResult, fen_of, yuan

TIMEOUT = 10


def pkcs1_private_pem(pem: str) -> str:
    """The SDK signs with a PKCS#1 key; accept PKCS#8 too (what most key tools write)."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def verify_params(params: dict[str, str], public_key_pem: str) -> bool:
    """Alipay's notification signature: RSA2 over the sorted k=v pairs less sign and sign_type."""
    sign = params.get("sign", "")
    if not sign:
        return False
    content = get_sign_content(
        {k: v for k, v in params.items() if k not in ("sign", "sign_type") and v != ""}
    )
    try:
        return verify_with_rsa(public_key_pem, content.encode("utf-8"), sign)
    except Exception:  # rsa.VerificationError, bad base64 …
        return False


def signed_response(raw: str, method: str, public_key_pem: str) -> dict:
    """The ``<method>_response`` object of a gateway answer, after verifying its signature over
    the exact text of that object."""
    name = method.replace(".", "_") + "_response"
    for key in (name, "error_response"):
        marker = f'"{key}":'
        at = raw.find(marker)
        if at < 0:
            continue
        start = at + len(marker)
        while raw[start] in " \t\r\n":
            start += 1
        obj, end = json.JSONDecoder().raw_decode(raw, start)
        sign = json.loads(raw).get("sign", "")
        try:
            ok = verify_with_rsa(public_key_pem, raw[start:end].encode("utf-8"), sign)
        except Exception:
            ok = False
        if not ok:
            raise ProviderError("alipay: the response's signature did not verify")
        return obj
    raise ProviderError(f"alipay: unexpected response {raw[:200]}")


class AlipayProvider:
    name = "alipay"

    def __init__(self, cfg):
        if cfg is None:
            raise ProviderError("alipay is not configured")
        self.cfg = cfg
        conf = AlipayClientConfig()
        conf.server_url = cfg.gateway
        conf.app_id = cfg.app_id
        conf.app_private_key = pkcs1_private_pem(cfg.private_key)
        conf.alipay_public_key = cfg.alipay_public_key
        conf.sign_type = "RSA2"
        self.client = DefaultAlipayClient(alipay_client_config=conf)

    def start(self, purchase, *, return_url: str, notify_url: str) -> PayStart:
        model = AlipayTradeWapPayModel()
        model.out_trade_no = purchase.out_trade_no
        model.total_amount = yuan(purchase.price_fen)
        model.subject = purchase.name
        model.product_code = "QUICK_WAP_WAY"
        model.quit_url = return_url
        request = AlipayTradeWapPayRequest(biz_model=model)
        request.notify_url = notify_url
        request.return_url = return_url
        return PayStart(redirect_url=self.client.page_execute(request, http_method="GET"))

    def parse_notification(self, request) -> Parsed:
        raw = request.body.decode("utf-8", "replace")  # (read before POST parses the stream)
        params = {k: request.POST.get(k, "") for k in request.POST}
        ok = (200, "text/plain", "success")
        fail = (200, "text/plain", "failure")
        if not verify_params(params, self.cfg.alipay_public_key) or params.get("app_id") != self.cfg.app_id:
            return Parsed(None, raw, {}, ok, fail)
        try:
            amount = fen_of(params.get("total_amount", ""))
        except ValueError:
            amount = -1
        paid = Paid(
            out_trade_no=params.get("out_trade_no", ""),
            provider_trade_no=params.get("trade_no", ""),
            amount_fen=amount,
            paid=params.get("trade_status") in ("TRADE_SUCCESS", "TRADE_FINISHED"),
        )
        return Parsed(paid, raw, {}, ok, fail)

    def _call(self, request, method: str) -> dict:
        body = self.client.sdk_execute(request).encode("utf-8")
        http = urllib.request.Request(  # noqa: S310 (the configured gateway, http(s))
            self.cfg.gateway,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(http, timeout=TIMEOUT) as resp:  # noqa: S310 (configured gateway)
                raw = resp.read().decode("utf-8")
        except (urllib.error.URLError, OSError) as exc:
            raise ProviderError(f"alipay: {exc}") from exc
        return signed_response(raw, method, self.cfg.alipay_public_key)

    def query(self, out_trade_no: str) -> QueryResult:
        model = AlipayTradeQueryModel()
        model.out_trade_no = out_trade_no
        r = self._call(AlipayTradeQueryRequest(biz_model=model), "alipay.trade.query")
        if r.get("code") != "10000":
            if r.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return QueryResult("unknown")
            raise ProviderError(f"alipay query: {r.get('sub_code') or r.get('code')} {r.get('sub_msg', '')}")
        status = r.get("trade_status")
        state = {"TRADE_SUCCESS": "paid", "TRADE_FINISHED": "paid", "TRADE_CLOSED": "closed"}.get(
            status, "unpaid"
        )
        return QueryResult(state, r.get("trade_no", ""), fen_of(r.get("total_amount", "0")))

    def close(self, out_trade_no: str) -> None:
        model = AlipayTradeCloseModel()
        model.out_trade_no = out_trade_no
        r = self._call(AlipayTradeCloseRequest(biz_model=model), "alipay.trade.close")
        if r.get("code") != "10000" and r.get("sub_code") != "ACQ.TRADE_NOT_EXIST":
            raise ProviderError(f"alipay close: {r.get('sub_code') or r.get('code')}")

    def refund(self, purchase, amount_fen: int, refund_no: str) -> RefundResult:
        model = AlipayTradeRefundModel()
        model.out_trade_no = purchase.out_trade_no
        model.refund_amount = yuan(amount_fen)
        model.out_request_no = refund_no
        model.refund_reason = "充值套餐退款"
        r = self._call(AlipayTradeRefundRequest(biz_model=model), "alipay.trade.refund")
        if r.get("code") != "10000":
            return RefundResult(False, detail=f"{r.get('sub_code') or r.get('code')} {r.get('sub_msg', '')}")
        return RefundResult(True, refund_id=r.get("trade_no", ""), detail=r.get("refund_fee", ""))
