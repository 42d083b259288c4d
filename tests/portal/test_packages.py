"""Recharge packages from the member pages, paid at the local fake provider (the payments helper's
fixture): the purchase starts through /api/v1/me, the member "presses 确认支付", the purchase is
credited (here by reconciliation: the notification is lost on purpose, no live server needed)
and /api/v1/me shows paid + bonus."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.core import clock
from tests.payments.fake_server import fake_provider  # noqa: F401 - session fixture

from .conftest import get, make_member, post, signed_in


@pytest.fixture
def fake_env(fake_provider, monkeypatch):  # noqa: F811
    for k, v in fake_provider.env.items():
        monkeypatch.setenv(k, v)
    return fake_provider


def test_buy_a_package_and_see_paid_plus_bonus(frozen, fake_env):
    from laoke.payments.services import package_create, payments_tick

    pkg = package_create(name="充500送50", price_fen=50_000, bonus_fen=5_000)
    member = make_member()
    c = signed_in(member)
    listed = get(c, "/packages").json()
    assert [(p["id"], p["price_fen"], p["bonus_fen"]) for p in listed["packages"]] == [
        (pkg.pk, 50_000, 5_000)
    ]
    assert "alipay" in listed["providers"]

    r = post(c, f"/packages/{pkg.pk}/buy", {"provider": "alipay"}, HTTP_IDEMPOTENCY_KEY="buy-1")
    assert r.status_code == 201, r.content
    purchase_id, pay_url = r.json()["purchase_id"], r.json()["pay_url"]
    assert pay_url.startswith(fake_env.url) or pay_url.startswith("http")
    assert get(c, f"/purchases/{purchase_id}").json()["state"] == "created"

    fake_env.confirm(pay_url, lose_notification=True)
    clock.advance(timedelta(minutes=3))
    assert payments_tick(clock.now())["credited"] == 1

    assert get(c, f"/purchases/{purchase_id}").json()["state"] == "paid"
    assert get(c, "").json()["wallet"] == {"paid_fen": 50_000, "bonus_fen": 5_000, "total_fen": 55_000}
    # another member cannot read it
    assert get(signed_in(make_member()), f"/purchases/{purchase_id}").status_code == 404


def test_unknown_package_and_provider(frozen, fake_env):
    c = signed_in(make_member())
    assert post(c, "/packages/999999/buy", {"provider": "alipay"}).status_code == 422
    r = post(c, "/packages/999999/buy", {"provider": "paypal"})
    assert r.status_code == 422 and r.json()["code"] == "PAYMENT_PROVIDER_INVALID"
