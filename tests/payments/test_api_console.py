"""/api/v1/payments, the console pages, the CLI and the demo hook, through real services."""

from __future__ import annotations

import random
from argparse import Namespace
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from laoke.cards.wallet import wallet_debit
from laoke.core import clock
from laoke.payments.cli import cmd_tick
from laoke.payments.demo import demo_load
from laoke.payments.models import PackagePurchase, RechargePackage
from laoke.payments.services import package_purchase_start, payments_tick
from tests.payments.fake_server import environ
from tests.payments.helpers import RETURN_URL, balances, member, package_500
from tests.payments.permission_matrix import CONSOLE

pytestmark = pytest.mark.django_db
P = "/api/v1/payments"


@pytest.fixture
def env(fake_provider):
    with environ(fake_provider.env):
        yield fake_provider


def _paid(fake, m, pkg):
    purchase, url = package_purchase_start(
        member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL
    )
    fake.confirm(url, lose_notification=True)
    assert payments_tick(clock.now() + timedelta(minutes=5))["credited"] == 1
    return purchase


def test_packages_api(api):
    marketer = api("marketer")
    r = marketer.post(
        f"{P}/packages",
        {"name": "充500送50", "price_fen": 50_000, "bonus_fen": 5_000},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["stored_value_fen"], body["on_sale"]) == (55_000, True)
    r = marketer.patch(f"{P}/packages/{body['id']}", {"active": False}, content_type="application/json")
    assert r.status_code == 200 and r.json()["on_sale"] is False
    r = marketer.post(f"{P}/packages", {"name": "x", "price_fen": 0}, content_type="application/json")
    assert r.status_code == 422
    assert [p["name"] for p in api("cashier").get(f"{P}/packages").json()] == ["充500送50"]
    assert api("cashier").post(f"{P}/packages", {}, content_type="application/json").status_code == 403


def test_purchases_and_refund_api(env, api):
    m, pkg = member(), package_500()
    purchase = _paid(env, m, pkg)
    wallet_debit(member=m, amount_fen=5_500, key="order:API", reason="order.pay", reference="API")  # 50 + 5
    page = api("service_agent").get(f"{P}/purchases?state=paid").json()
    assert [(i["out_trade_no"], i["state"]) for i in page["items"]] == [(purchase.out_trade_no, "paid")]
    assert api("cashier").get(f"{P}/purchases/{purchase.pk}").json()["price_fen"] == 50_000

    manager = api("service_manager")
    url = f"{P}/purchases/{purchase.pk}/refund"
    assert manager.post(url, {}, content_type="application/json").status_code == 400  # no Idempotency-Key
    assert (
        api("service_agent")
        .post(url, {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
        .status_code
        == 403
    )
    r = manager.post(
        url, {"reason": "搬家"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="refund-1"
    )
    assert r.status_code == 200, r.content
    assert (r.json()["refund_fen"], r.json()["bonus_back_fen"]) == (45_000, 4_500)
    again = manager.post(
        url, {"reason": "搬家"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="refund-1"
    )
    assert again.status_code == 200 and again.json()["refund_fen"] == 45_000  # the stored answer
    assert balances(m) == (0, 0)
    assert PackagePurchase.objects.get(pk=purchase.pk).state == "refunded"
    notes = manager.get(f"{P}/purchases/{purchase.pk}/notifications")
    assert notes.status_code == 200 and notes.json() == []  # credited by the query, no notification
    assert api("cashier").get(f"{P}/purchases/{purchase.pk}/notifications").status_code == 403


@pytest.mark.parametrize(("method", "path"), sorted(CONSOLE))
@pytest.mark.parametrize(
    "role", ["admin", "marketer", "service_agent", "cashier", "analyst", "redemption_clerk"]
)
def test_console_pages_by_role(env, staff, role, method, path):
    m, pkg = member(), package_500()
    purchase, _ = package_purchase_start(
        member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL
    )
    client = Client()
    client.force_login(staff(role))
    r = client.get(path.replace("{int:purchase_id}", str(purchase.pk)))
    if role in CONSOLE[(method, path)]:
        assert r.status_code == 200
        assert purchase.out_trade_no in r.content.decode()
    else:
        assert r.status_code in (302, 403)


def test_console_create_toggle_and_refund(env, staff):
    marketer = Client()
    marketer.force_login(staff("marketer"))
    r = marketer.post(
        reverse("payments_package_new"), {"name": "充1000送150", "price": "1000", "bonus": "150", "sort": "3"}
    )
    assert r.status_code == 302
    pkg = RechargePackage.objects.get(name="充1000送150")
    assert (pkg.price_fen, pkg.bonus_fen) == (100_000, 15_000)
    marketer.post(reverse("payments_package_toggle", args=[pkg.pk]))
    pkg.refresh_from_db()
    assert pkg.active is False
    marketer.post(reverse("payments_package_toggle", args=[pkg.pk]))
    pkg.refresh_from_db()
    assert pkg.active is True

    m = member()
    purchase = _paid(env, m, pkg)
    manager = Client()
    manager.force_login(staff("service_manager"))
    page = manager.get(reverse("payments_purchase", args=[purchase.pk])).content.decode()
    assert 'data-testid="purchase-refund"' in page
    assert marketer.post(reverse("payments_purchase_refund", args=[purchase.pk])).status_code == 403
    manager.post(reverse("payments_purchase_refund", args=[purchase.pk]), {"reason": "test"})
    purchase.refresh_from_db()
    assert (purchase.state, purchase.refund_fen, purchase.bonus_back_fen) == ("refunded", 100_000, 15_000)
    assert balances(m) == (0, 0)


def test_cli_tick_and_demo(env, capsys):
    assert cmd_tick(Namespace(json=True)) == 0
    assert '"credited": 0' in capsys.readouterr().out
    for i in range(3):
        member(mobile=f"1380000200{i}", name=f"演示{i}")
    out = demo_load(rng=random.Random(1), now=clock.now())
    assert out == {"packages": 3, "purchases": 3, "paid": 2}
    assert sorted(PackagePurchase.objects.values_list("state", flat=True)) == ["created", "paid", "paid"]
