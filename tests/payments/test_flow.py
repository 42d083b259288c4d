"""The whole flow against the real fake provider (a subprocess on a loopback port) and a live
Laoke server (pytest-django's live_server) that the fake posts its notifications to: start →
cashier 确认支付 → signed (WeChat: encrypted) notification → wallet + bonus credited once."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta

import pytest

from laoke.core import clock
from laoke.ledger.models import Transfer
from laoke.ledger.services import ledger_check
from laoke.payments.models import PackagePurchase
from laoke.payments.services import package_purchase_start, payments_tick
from tests.payments.fake_server import environ
from tests.payments.helpers import RETURN_URL, balances, member, package_500, results

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paying(django_db_setup, fake_provider, live_server):
    with environ({**fake_provider.env, "LAOKE_PAYMENTS_PUBLIC_URL": live_server.url}):
        yield fake_provider


@pytest.mark.parametrize("provider", ["alipay", "wechat"])
def test_pay_credits_wallet_and_bonus_once(paying, provider):
    m, pkg = member(), package_500()
    purchase, url = package_purchase_start(
        member=m, package_id=pkg.pk, provider=provider, return_url=RETURN_URL
    )
    assert purchase.state == "created" and url.startswith(paying.url)
    assert balances(m) == (0, 0)

    back = paying.confirm(url)
    # The browser goes back to the shop's page (Alipay adds its signed sync-return parameters).
    assert back.startswith(RETURN_URL)
    if provider == "alipay":
        assert urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)["out_trade_no"] == [
            purchase.out_trade_no
        ]

    purchase.refresh_from_db()
    assert purchase.state == "paid" and purchase.provider_trade_no
    assert balances(m) == (50_000, 5_000)  # 500元 paid + 50元 bonus = 550元 spendable
    assert results(purchase.out_trade_no) == ["credited"]
    assert paying.trade(purchase.out_trade_no)["acked"] is True

    # The provider sends it again (twice): acknowledged, nothing credited twice.
    for _ in range(2):
        assert paying.renotify(purchase.out_trade_no)["acked"] is True
    assert balances(m) == (50_000, 5_000)
    assert results(purchase.out_trade_no) == ["credited", "duplicate", "duplicate"]
    keys = set(
        Transfer.objects.filter(reference=purchase.out_trade_no).values_list("idempotency_key", flat=True)
    )
    otn = purchase.out_trade_no
    assert keys == {f"package:{otn}:paid", f"package:{otn}:bonus"}
    assert ledger_check().ok


def test_lost_notification_is_credited_once_by_the_tick(paying):
    m, pkg = member(), package_500()
    purchase, url = package_purchase_start(
        member=m, package_id=pkg.pk, provider="wechat", return_url=RETURN_URL
    )
    paying.confirm(url, lose_notification=True)
    purchase.refresh_from_db()
    assert purchase.state == "created" and balances(m) == (0, 0)

    too_early = payments_tick(clock.now())  # younger than the query delay: not asked yet
    assert too_early["credited"] == 0 and balances(m) == (0, 0)

    later = clock.now() + timedelta(minutes=5)
    assert payments_tick(later)["credited"] == 1
    assert payments_tick(later)["credited"] == 0
    purchase.refresh_from_db()
    assert purchase.state == "paid" and balances(m) == (50_000, 5_000)
    # The notification finally arrives: a duplicate.
    assert paying.renotify(purchase.out_trade_no)["acked"] is True
    assert balances(m) == (50_000, 5_000)
    assert results(purchase.out_trade_no) == ["duplicate"]


def test_unpaid_purchase_expires_and_is_closed_at_the_provider(paying):
    m, pkg = member(), package_500()
    purchase, url = package_purchase_start(
        member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL
    )
    paying.cashier_path(url)  # the member opened the cashier (Alipay now knows the trade) and left
    assert payments_tick(clock.now() + timedelta(minutes=5))["waiting"] == 1
    out = payments_tick(clock.now() + timedelta(minutes=31))
    assert out["closed"] == 1
    purchase.refresh_from_db()
    assert purchase.state == "closed"
    assert paying.trade(purchase.out_trade_no)["state"] == "CLOSED"
    assert balances(m) == (0, 0)


def test_cancel_on_the_cashier_credits_nothing(paying):
    m, pkg = member(), package_500()
    purchase, url = package_purchase_start(
        member=m, package_id=pkg.pk, provider="wechat", return_url=RETURN_URL
    )
    back = paying.confirm(url, action="cancel")
    assert back.startswith(RETURN_URL)
    purchase.refresh_from_db()
    assert purchase.state == "created" and balances(m) == (0, 0)
    assert PackagePurchase.objects.get(pk=purchase.pk).notifications.count() == 0
