"""Payment configuration, read from environment variables (never from the database).

``LAOKE_PAYMENTS``: ``fake`` (default: both providers' protocols spoken by the local fake,
``python -m laoke.payments.fake``), ``alipay``, ``wechat``, ``alipay,wechat`` or ``off``.

Common: ``LAOKE_PAYMENTS_PUBLIC_URL`` — the base URL the providers post notifications to (this
server as the providers see it; default ``http://127.0.0.1:8000``); ``LAOKE_PAYMENTS_EXPIRE_MINUTES``
(a purchase still unpaid after this is closed, default 30); ``LAOKE_PAYMENTS_QUERY_AFTER_MINUTES``
(reconciliation asks the provider about a purchase unpaid after this, default 2).

Fake: ``LAOKE_PAYMENTS_FAKE_URL`` (default ``http://127.0.0.1:8765``) and
``LAOKE_PAYMENTS_FAKE_KEYS`` (the key directory written by ``fake.ensure_demo_keys``; default
``$LAOKE_DATA_DIR/payments-fake``).

Alipay: ``LAOKE_ALIPAY_APP_ID``, ``LAOKE_ALIPAY_PRIVATE_KEY_FILE`` (the app private key, PEM),
``LAOKE_ALIPAY_PUBLIC_KEY_FILE`` (Alipay's public key, PEM), ``LAOKE_ALIPAY_GATEWAY`` (default
``https://openapi.alipay.com/gateway.do``).

WeChat Pay (APIv3, "WeChat Pay public key" mode): ``LAOKE_WECHATPAY_MCHID``, ``LAOKE_WECHATPAY_APPID``,
``LAOKE_WECHATPAY_PRIVATE_KEY_FILE`` (apiclient_key.pem), ``LAOKE_WECHATPAY_CERT_SERIAL``,
``LAOKE_WECHATPAY_APIV3_KEY``, ``LAOKE_WECHATPAY_PUBLIC_KEY_FILE``, ``LAOKE_WECHATPAY_PUBLIC_KEY_ID``,
``LAOKE_WECHATPAY_BASE_URL`` (default ``https://api.mch.weixin.qq.com``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROVIDERS = ("alipay", "wechat")
_ENV_PREFIXES = ("LAOKE_PAYMENTS", "LAOKE_ALIPAY", "LAOKE_WECHATPAY", "LAOKE_DATA_DIR")


@dataclass(frozen=True)
class AlipayConfig:
    app_id: str
    private_key: str  # PEM (PKCS#1, what the SDK signs with)
    alipay_public_key: str  # PEM
    gateway: str


@dataclass(frozen=True)
class WechatConfig:
    mchid: str
    appid: str
    private_key: str  # PEM
    cert_serial: str
    apiv3_key: str
    public_key: str  # PEM
    public_key_id: str
    base_url: str


@dataclass(frozen=True)
class Config:
    mode: str
    providers: tuple[str, ...]
    public_url: str
    expire_minutes: int
    query_after_minutes: int
    alipay: AlipayConfig | None
    wechat: WechatConfig | None


def _read(path: str | os.PathLike) -> str:
    return Path(path).read_text(encoding="utf-8")


def _data_dir() -> Path:
    return Path(os.environ.get("LAOKE_DATA_DIR") or Path.cwd() / "var")


def fake_keys_dir() -> Path:
    return Path(os.environ.get("LAOKE_PAYMENTS_FAKE_KEYS") or _data_dir() / "payments-fake")


def _fake(providers: tuple[str, ...]) -> tuple[AlipayConfig, WechatConfig]:
    keys = fake_keys_dir()
    base = os.environ.get("LAOKE_PAYMENTS_FAKE_URL", "http://127.0.0.1:8765").rstrip("/")
    meta = json.loads(_read(keys / "merchant.json"))
    alipay = AlipayConfig(
        app_id=meta["alipay_app_id"],
        private_key=_read(keys / "alipay_app_private.pem"),
        alipay_public_key=_read(keys / "alipay_platform_public.pem"),
        gateway=f"{base}/alipay/gateway.do",
    )
    wechat = WechatConfig(
        mchid=meta["wechat_mchid"],
        appid=meta["wechat_appid"],
        private_key=_read(keys / "wechat_merchant_private.pem"),
        cert_serial=meta["wechat_cert_serial"],
        apiv3_key=meta["wechat_apiv3_key"],
        public_key=_read(keys / "wechat_platform_public.pem"),
        public_key_id=meta["wechat_public_key_id"],
        base_url=base,
    )
    return alipay, wechat


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"payments: {name} is not set")
    return value


@lru_cache(maxsize=8)
def _load(_env_key: tuple) -> Config:
    mode = os.environ.get("LAOKE_PAYMENTS", "fake").strip().lower() or "fake"
    public_url = os.environ.get("LAOKE_PAYMENTS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    expire = int(os.environ.get("LAOKE_PAYMENTS_EXPIRE_MINUTES", "30"))
    query_after = int(os.environ.get("LAOKE_PAYMENTS_QUERY_AFTER_MINUTES", "2"))
    alipay = wechat = None
    if mode == "off":
        providers: tuple[str, ...] = ()
    elif mode == "fake":
        providers = PROVIDERS
        if (fake_keys_dir() / "merchant.json").exists():
            alipay, wechat = _fake(providers)
        else:
            providers = ()
    else:
        providers = tuple(p for p in PROVIDERS if p in {x.strip() for x in mode.split(",")})
        if "alipay" in providers:
            alipay = AlipayConfig(
                app_id=_env("LAOKE_ALIPAY_APP_ID"),
                private_key=_read(_env("LAOKE_ALIPAY_PRIVATE_KEY_FILE")),
                alipay_public_key=_read(_env("LAOKE_ALIPAY_PUBLIC_KEY_FILE")),
                gateway=os.environ.get("LAOKE_ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
            )
        if "wechat" in providers:
            wechat = WechatConfig(
                mchid=_env("LAOKE_WECHATPAY_MCHID"),
                appid=_env("LAOKE_WECHATPAY_APPID"),
                private_key=_read(_env("LAOKE_WECHATPAY_PRIVATE_KEY_FILE")),
                cert_serial=_env("LAOKE_WECHATPAY_CERT_SERIAL"),
                apiv3_key=_env("LAOKE_WECHATPAY_APIV3_KEY"),
                public_key=_read(_env("LAOKE_WECHATPAY_PUBLIC_KEY_FILE")),
                public_key_id=_env("LAOKE_WECHATPAY_PUBLIC_KEY_ID"),
                base_url=os.environ.get("LAOKE_WECHATPAY_BASE_URL", "https://api.mch.weixin.qq.com"),
            )
    return Config(mode, providers, public_url, expire, query_after, alipay, wechat)


def load() -> Config:
    """The current configuration (cached per set of environment values, so tests may change them)."""
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)))
    return _load((*key, (fake_keys_dir() / "merchant.json").exists()))


def notify_url(provider: str) -> str:
    return f"{load().public_url}/pay/notify/{provider}"
