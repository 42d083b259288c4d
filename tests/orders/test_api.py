"""The orders API: quote, settle with Idempotency-Key, read, refund, ship/deliver/review,
approvals, settings — and the error format (stable code, message in the caller's language)."""

from __future__ import annotations

import pytest

from laoke.cards.selectors import wallet_summary
from laoke.orders.models import Order

J = "application/json"
P = "/api/v1/orders"
pytestmark = pytest.mark.django_db


def cart(member, **kw):
    return {
        "member_id": member.pk,
        "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "SALE", "quantity": 1}],
        **kw,
    }


def test_quote_explains_and_writes_nothing(api, shop):
    m = shop.member()
    c = shop.coupon(m)
    r = api("cashier").post(f"{P}/quote", cart(m, coupon_codes=[c.code]), content_type=J)
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["goods_gross_fen"], body["total_fen"], body["tier_code"]) == (29_000, 26_800, "regular")
    lines = body["explanation"]["lines"]
    assert lines[0]["discounts"] == {"tier": 1_200, c.code: 1_000}
    assert "special-sale line" in " ".join(r["text"] for r in lines[1]["reasons"])
    assert not Order.objects.exists()
    zh = api("cashier", lang="zh-hans").post(f"{P}/quote", cart(m), content_type=J).json()
    assert "特价" in " ".join(r["text"] for r in zh["explanation"]["lines"][1]["reasons"])


def test_settle_needs_a_key_and_replays_once(api, shop):
    m = shop.member()
    client = api("cashier")
    body = cart(m, wallet_fen=1_000)
    r = client.post(P, body, content_type=J)
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    r1 = client.post(P, body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    r2 = client.post(P, body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r1.status_code == r2.status_code == 201, r1.content
    assert r1.json()["number"] == r2.json()["number"]
    assert Order.objects.count() == 1
    assert wallet_summary(member=m)["balance_fen"] == 19_000
    r3 = client.post(P, {**body, "wallet_fen": 2_000}, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r3.status_code == 409, r3.content
    number = r1.json()["number"]
    got = client.get(f"{P}/{number}").json()
    assert got["total_fen"] == 27_800 and got["lines"][0]["sku"] == "TEE" and "stages" in got["explanation"]
    assert [o["number"] for o in client.get(P, {"member_id": m.pk}).json()["items"]] == [number]


def test_bad_input_gets_a_stable_code(api, shop):
    m = shop.member()
    client = api("cashier")
    r = client.post(f"{P}/quote", {"lines": []}, content_type=J)
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_ERROR"
    r = client.post(f"{P}/quote", cart(m, wallet_fen=10**7), content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "ORDER_WALLET_SHORT"
    r = client.post(f"{P}/quote", {"lines": [{"sku": "NOPE", "quantity": 1}]}, content_type=J)
    assert r.status_code == 422 and r.json()["code"] == "ORDER_PRODUCT_UNKNOWN"
    assert r.json()["details"]["field"] == "lines[0].sku"
    r = client.post(f"{P}/quote", cart(m, courier="normal", address="火星某地"), content_type=J)
    assert r.status_code == 422 and r.json()["code"] == "ADDRESS_UNPARSEABLE", r.content
    r = api("cashier", lang="zh-hans").get(f"{P}/LK0000")
    assert r.status_code == 404 and r.json()["message"] == "找不到该订单"


def test_refund_ship_deliver_review_and_window_override(api, shop):
    m = shop.member()
    cashier, manager = api("cashier"), api("service_manager")
    r = cashier.post(
        P,
        cart(m, courier="normal", province="浙江省", payment_method="cod"),
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="o",
    )
    number = r.json()["number"]
    assert manager.post(f"{P}/{number}/ship").json()["status"] == "shipped"
    assert manager.post(f"{P}/{number}/deliver").json()["status"] == "delivered"
    r = cashier.post(f"{P}/{number}/refunds", {"lines": {"1": 1}}, content_type=J)
    assert r.status_code == 400  # a refund moves value: key required
    r = cashier.post(f"{P}/{number}/refunds", {"lines": {"1": 1}}, content_type=J, HTTP_IDEMPOTENCY_KEY="r1")
    assert r.status_code == 201, r.content
    assert r.json()["kind"] == "return" and not r.json()["completes_order"]
    r = cashier.post(
        f"{P}/{number}/refunds", {"override_window": True}, content_type=J, HTTP_IDEMPOTENCY_KEY="r2"
    )
    assert r.status_code == 403  # only a manager overrides the window
    r = manager.post(f"{P}/{number}/review", {"level": "praise", "text": "好"}, content_type=J)
    assert r.status_code == 201 and r.json()["level"] == "praise"
    r = manager.post(f"{P}/{number}/review", {"level": "praise"}, content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "ORDER_REVIEW_EXISTS"


def test_approvals_and_settings(api, shop):
    m = shop.member()
    cashier, manager, admin = api("cashier"), api("service_manager"), api("admin")
    r = cashier.post(
        f"{P}/discount-approvals",
        {"member_id": m.pk, "order_total_fen": 600_000, "amount_fen": 10_000, "reason": "大客户"},
        content_type=J,
    )
    assert r.status_code == 201, r.content
    aid = r.json()["id"]
    assert (
        manager.post(f"{P}/discount-approvals/{aid}/approve", {}, content_type=J).json()["state"]
        == "approved"
    )
    r = manager.post(f"{P}/discount-approvals/{aid}/reject", {}, content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "ORDER_APPROVAL_STATE"
    assert [a["id"] for a in cashier.get(f"{P}/discount-approvals").json()] == [aid]
    assert admin.get(f"{P}/settings").json()["return_days_member"] == 15
    r = admin.patch(f"{P}/settings", {"return_days_other": 10}, content_type=J)
    assert r.status_code == 200 and r.json()["return_days_other"] == 10
    r = admin.patch(f"{P}/settings", {"return_days_other": -1}, content_type=J)
    assert r.status_code == 422
