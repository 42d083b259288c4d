"""N threads deliver the same genuine notification at once (PostgreSQL, tests/race.py): exactly one
credit — the guarded UPDATE created → paid lets one caller through, the rest answer "duplicate".
Negative control: with the guard removed (``_UNGUARDED_FOR_TESTS``: read, check, write, ledger keys
that differ per call) the same race credits more than once — proof the test can fail."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

import pytest
from django.test import RequestFactory

from laoke.ledger.services import ledger_check
from laoke.payments import fake as fakemod
from laoke.payments import services
from laoke.payments.models import PaymentNotification
from laoke.payments.services import package_purchase_start, payment_notification_handle
from tests.payments.fake_server import environ
from tests.payments.helpers import RETURN_URL, balances, member, package_500
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def env(fake_provider):
    with environ(fake_provider.env):
        yield fake_provider


def _storm(env) -> tuple:
    m, pkg = member(), package_500()
    purchase, _ = package_purchase_start(
        member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL
    )
    trade = fakemod.Trade("alipay", purchase.out_trade_no, purchase.price_fen, purchase.name, "", "")
    trade.state, trade.trade_no, trade.paid_at = "PAID", "2026RACE" + purchase.out_trade_no, datetime.now(UTC)
    body, _ = fakemod.Fake(env.keys, [])._alipay_notification(trade)
    form = dict(urllib.parse.parse_qsl(body.decode()))

    def deliver(i):
        _status, _ctype, text = payment_notification_handle(
            "alipay", RequestFactory().post("/pay/notify/alipay", form)
        )
        return text

    n = pg_threads()
    outcomes = race(n, deliver)
    return m, purchase, n, outcomes


def test_concurrent_duplicates_credit_once(env):
    m, purchase, n, outcomes = _storm(env)
    assert outcomes == ["success"] * n  # every delivery acknowledged
    assert balances(m) == (50_000, 5_000)
    got = sorted(
        PaymentNotification.objects.filter(out_trade_no=purchase.out_trade_no).values_list(
            "result", flat=True
        )
    )
    assert got == ["credited"] + ["duplicate"] * (n - 1)
    assert ledger_check().ok


def test_negative_control_without_the_guard_credits_more_than_once(env, monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    m, purchase, _n, _ = _storm(env)
    paid, bonus = balances(m)
    assert paid > 50_000 and bonus > 5_000, (paid, bonus)
    credited = PaymentNotification.objects.filter(
        out_trade_no=purchase.out_trade_no, result="credited"
    ).count()
    assert credited > 1
