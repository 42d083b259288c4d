"""Payment providers: ``get(name)`` returns the configured provider (see ``config``)."""

from __future__ import annotations

from laoke.payments import config

from .base import Paid, PaymentProvider, PayStart, ProviderError, QueryResult, RefundResult

__all__ = ["Paid", "PayStart", "PaymentProvider", "ProviderError", "QueryResult", "RefundResult", "get"]


def get(name: str) -> PaymentProvider:
    cfg = config.load()
    if name not in cfg.providers:
        raise ProviderError(f"provider {name!r} is not enabled")
    if name == "alipay":
        from .alipay import AlipayProvider

        return AlipayProvider(cfg.alipay)
    from .wechat import WechatProvider

    return WechatProvider(cfg.wechat)
