"""The payment provider interface. Implementations: ``alipay`` (official SDK ``alipay-sdk-python``)
and ``wechat`` (``wechatpayv3``). The local fake (``laoke.payments.fake``) speaks both protocols, so
the same implementations run against it in tests and demos."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ProviderError(Exception):
    """The provider could not be reached or refused the request (message for the log)."""


@dataclass(frozen=True)
class PayStart:
    redirect_url: str


@dataclass(frozen=True)
class Paid:
    """A payment the provider vouches for (a notification whose signature verified)."""

    out_trade_no: str
    provider_trade_no: str
    amount_fen: int
    paid: bool = True  # False: verified, but not a successful payment (e.g. WAIT_BUYER_PAY)


@dataclass(frozen=True)
class Parsed:
    """What ``parse_notification`` made of a request: ``paid`` is None when the signature did not
    verify (then nothing about the body may be trusted)."""

    paid: Paid | None
    raw: str
    headers: dict
    ack_ok: tuple[int, str, str]  # status, content type, body
    ack_fail: tuple[int, str, str]


@dataclass(frozen=True)
class QueryResult:
    state: str  # "paid" | "unpaid" | "closed" | "unknown"
    provider_trade_no: str = ""
    amount_fen: int = 0


@dataclass(frozen=True)
class RefundResult:
    ok: bool
    refund_id: str = ""
    detail: str = ""


class PaymentProvider(Protocol):
    name: str

    def start(self, purchase, *, return_url: str, notify_url: str) -> PayStart: ...

    def parse_notification(self, request) -> Parsed: ...

    def query(self, out_trade_no: str) -> QueryResult: ...

    def close(self, out_trade_no: str) -> None: ...

    def refund(self, purchase, amount_fen: int, refund_no: str) -> RefundResult: ...


def yuan(fen: int) -> str:
    """Fen as the providers' yuan string with two decimals ("500.00")."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen_of(yuan_text: str) -> int:
    """The providers' yuan string as fen, exactly (no float)."""
    text = (yuan_text or "").strip()
    if not text or text.startswith("-"):
        raise ValueError(yuan_text)
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError(yuan_text)
    return int(whole) * 100 + int((frac + "00")[:2])
