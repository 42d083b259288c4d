"""Payment providers: ``get(name)`` returns the configured provider (see ``config``)."""

from __future__ import annotations

from functools import lru_cache

from laoke.payments import config

from .base import Paid, PaymentProvider, PayStart, ProviderError, QueryResult, RefundResult

__all__ = ["Paid", "PayStart", "PaymentProvider", "ProviderError", "QueryResult", "RefundResult", "get"]


def get(name: str) -> PaymentProvider:
    cfg = config.load()
    if name not in cfg.providers:
        raise ProviderError(f"provider {name!r} is not enabled")
    return _build(name, cfg)


@lru_cache(maxsize=8)
def _build(name: str, cfg: config.Config) -> PaymentProvider:
    # Cached per configuration: loading (and validating) an RSA private key costs tens of ms.
    if name == "alipay":
        from .alipay import AlipayProvider

        return AlipayProvider(cfg.alipay)
    from .wechat import WechatProvider

    return WechatProvider(cfg.wechat)
