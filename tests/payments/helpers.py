"""Set-up for the payments tests, through the real services."""

from __future__ import annotations

from laoke.ledger.models import Account
from laoke.members.services import member_create
from laoke.payments.models import PaymentNotification
from laoke.payments.services import package_create

RETURN_URL = "http://127.0.0.1:9/portal/recharge/done"


def package_500(**kw):
    """SPEC section 4: pay 500元, get 550元 of stored value."""
    return package_create(name="充500送50", price_fen=50_000, bonus_fen=5_000, **kw)


def member(mobile: str = "13800001111", name: str = "充值会员"):
    return member_create(name=name, mobile=mobile)


def balances(m) -> tuple[int, int]:
    """(paid wallet, bonus) straight from the ledger accounts."""
    rows = dict(Account.objects.filter(member=m).values_list("kind", "balance"))
    return rows.get("wallet", 0), rows.get("wallet_bonus", 0)


def results(out_trade_no: str) -> list[str]:
    return list(
        PaymentNotification.objects.filter(out_trade_no=out_trade_no)
        .order_by("pk")
        .values_list("result", flat=True)
    )
