"""The cashier checkout page and the orders admin through Django's test client (the browser test
tests/browser/test_cashier.py drives the same page in Chromium).

State comes from the real services (the orders tests' ``Shop``: catalogue, seed presets, a member
with ¥200 in the wallet and 500 points, coupon templates) at a frozen clock."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from laoke.cards.selectors import wallet_summary
from laoke.core import clock
from laoke.core.models import AuditEntry
from laoke.members.cards import card_policy_create, membership_card_issue
from laoke.orders.models import DiscountApproval, Order, OrderSettings, OrderStatus, Refund
from laoke.orders.services import discount_request
from tests.orders.conftest import NOW, Shop

URL = "/admin/console/checkout/"
ADDRESS = "北京市朝阳区建国路88号"


def _client(staff, role, *, lang=None):
    user = staff(role, password="console-pass-1")
    client = Client()
    assert client.login(username=user.username, password="console-pass-1")
    if lang:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client


def _cart(member=None, *, lines=(("TEE", 2), ("SALE", 1)), key="page-key-1", **extra):
    data = {
        "key": key,
        "member_id": str(member.pk) if member else "",
        "sku": [s for s, _ in lines],
        "qty": [str(q) for _, q in lines],
        "fulfil": "pickup",
        "courier": "normal",
        "payment_method": "cash",
    }
    data.update(extra)
    return data


@pytest.fixture
def shop(db):
    """The orders tests' shop, at their frozen clock (10:00 in Shanghai, 2026-03-10)."""
    with clock.frozen(NOW):
        yield Shop()


@pytest.fixture
def member(shop: Shop):
    return shop.member()


def test_page_renders_with_a_fresh_key_and_sidebar(staff, shop):
    client = _client(staff, "cashier")
    r = client.get(URL)
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="checkout"' in html and "试算" in html and "结算" in html
    key1 = re.search(r'name="key" value="([^"]+)"', html).group(1)
    key2 = re.search(r'name="key" value="([^"]+)"', client.get(URL).content.decode()).group(1)
    assert key1 != key2 and len(key1) >= 20
    assert "/admin/orders/order/" in html  # the Orders sidebar section


def test_lookup_by_mobile_member_number_and_membership_card(staff, shop, member):
    coupon = shop.coupon(member)
    client = _client(staff, "cashier")
    for text in ("13800001111", "138 0000 1111", member.code):
        r = client.post(URL, {"action": "lookup", "member": text, "key": "k"})
        html = r.content.decode()
        assert r.status_code == 200, html[:500]
        assert 'data-testid="member-panel"' in html
        assert f'name="member_id" value="{member.pk}"' in html
        assert "138****1111" in html and "13800001111" not in html.replace('value="13800001111"', "")
        assert "¥200.00" in html  # wallet
        assert re.search(r'data-testid="member-points">\s*500<', html)
        assert coupon.code in html and "满100减10" in html
    card_policy_create(name="会员卡", validity_days=365, fee_fen=0, activate=True)
    card = membership_card_issue(member_id=member.pk)
    r = client.post(URL, {"action": "lookup", "member": card.number, "key": "k"})
    assert f'name="member_id" value="{member.pk}"' in r.content.decode()
    r = client.post(URL, {"action": "lookup", "member": "13999999999", "key": "k"})
    assert r.status_code == 422
    assert "没有唯一匹配的会员" in r.content.decode() or 'data-testid="checkout-error"' in r.content.decode()


def test_quote_shows_the_explanation_in_the_users_language(staff, shop, member):
    coupon = shop.coupon(member)
    client = _client(staff, "cashier")
    data = _cart(member, action="quote", coupon=[coupon.code], wallet="10", points="200")
    r = client.post(URL, data)
    html = r.content.decode()
    assert r.status_code == 200, html[:3000]
    assert 'data-testid="explanation"' in html
    # TEE × 2 at ¥120: tier 95折 (−¥12.00), the coupon's ¥10 on the eligible goods (all of it on
    # TEE: the sock is a special sale), net ¥218.00; SALE × 1 excluded from both, with the reason.
    assert "¥240.00" in html and "− ¥12.00" in html and "满100减10" in html
    assert "特价商品：不参与" in html
    assert "¥218.00" in html and "¥50.00" in html
    assert 'data-testid="quote-total">¥268.00<' in html
    # 200 points = ¥2.00, wallet ¥10.00 → ¥256.00 to pay
    assert 'data-testid="quote-cash">¥256.00<' in html
    assert Order.objects.count() == 0  # a quote writes nothing
    # the same quote in English
    r = _client(staff, "cashier", lang="en").post(URL, data)
    html = r.content.decode()
    assert "special-sale line: excluded" in html and "Quote" in html


def test_quote_with_delivery_shows_postage(staff, shop, member):
    client = _client(staff, "cashier")
    r = client.post(URL, _cart(member, action="quote", fulfil="courier", courier="normal", address=ADDRESS))
    html = r.content.decode()
    assert r.status_code == 200, html[:3000]
    assert 'data-testid="quote-shipping"' in html


def test_settle_twice_with_the_same_page_key_settles_once(staff, shop, member):
    coupon = shop.coupon(member)
    client = _client(staff, "cashier")
    data = _cart(member, action="settle", coupon=[coupon.code], wallet="10", key="double-click-1")
    first = client.post(URL, data)
    second = client.post(URL, data)
    assert first.status_code == 302 and second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert order.member == member and order.total_fen == 26_800 and order.wallet_fen == 1_000
    assert wallet_summary(member=member)["balance_fen"] == 19_000  # debited once
    assert AuditEntry.objects.filter(action="order.settle").count() == 1
    r = client.get(first["Location"])
    html = r.content.decode()
    assert r.status_code == 200
    assert order.number in html and f"/admin/orders/order/{order.pk}/change/" in html
    assert "¥268.00" in html and "¥258.00" in html  # total, paid in cash after the wallet
    # a new page draws a new key: the next sale is a new order
    client.post(URL, _cart(member, action="settle", key="next-sale-2"))
    assert Order.objects.count() == 2


def test_same_key_with_another_cart_is_refused(staff, shop, member):
    client = _client(staff, "cashier")
    assert client.post(URL, _cart(member, action="settle", key="k-1")).status_code == 302
    r = client.post(URL, _cart(member, action="settle", key="k-1", lines=(("COAT", 1),)))
    assert r.status_code == 422 and 'data-testid="checkout-error"' in r.content.decode()
    assert Order.objects.count() == 1


def test_walk_in_sale(staff, shop):
    client = _client(staff, "cashier")
    r = client.post(URL, _cart(None, action="settle", lines=(("TEE", 1),), key="walk-in"))
    assert r.status_code == 302
    order = Order.objects.get()
    assert order.member is None and order.total_fen == 12_000 and order.status == OrderStatus.DELIVERED


@pytest.mark.parametrize(
    ("extra", "zh", "en"),
    [
        ({"wallet": "500"}, "储值余额不足", "Not enough in the wallet"),
        ({"points": "99999"}, "积分不足", "Not enough points"),
        ({"sku": ["NOPE"], "qty": ["1"]}, "商品 NOPE 不存在或已下架", "Product NOPE does not exist"),
        ({"qty": ["x", "1"]}, None, "enter a whole number"),
    ],
)
def test_errors_are_shown_in_the_users_language(staff, shop, member, extra, zh, en):
    data = _cart(member, action="settle", **extra)
    r = _client(staff, "cashier").post(URL, data)
    html = r.content.decode()
    assert r.status_code == 422
    assert 'data-testid="checkout-error"' in html
    if zh:  # the domain errors come in zh-hans by default
        assert zh in html
    assert Order.objects.count() == 0
    r = _client(staff, "cashier", lang="en").post(URL, data)
    assert en in r.content.decode()


def test_permission_denied_without_settle_order(staff, shop):
    for role in ("marketer", "analyst", "redemption_clerk"):
        client = _client(staff, role)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"action": "settle"}).status_code == 403
    assert Order.objects.count() == 0


def _settle(client, member, **extra):
    r = client.post(URL, _cart(member, action="settle", **extra))
    assert r.status_code == 302, r.content.decode()[:2000]
    return Order.objects.order_by("-pk").first()


@pytest.mark.parametrize("role", ["admin", "cashier", "service_manager"])
def test_orders_admin_pages_render(staff, shop, member, role):
    order = _settle(_client(staff, "cashier"), member, wallet="10")
    client = _client(staff, role)
    r = client.get("/admin/orders/order/")
    html = r.content.decode()
    assert r.status_code == 200
    assert order.number in html and "¥278.00" in html
    r = client.get("/admin/orders/order/", {"q": "13800001111"})
    assert order.number in r.content.decode()
    r = client.get(f"/admin/orders/order/{order.pk}/change/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="order-lines"' in html and 'data-testid="order-explanation"' in html
    assert "特价商品：不参与" in html  # the stored explanation
    assert client.get("/admin/orders/discountapproval/").status_code == 200
    r = client.get("/admin/orders/ordersettings/")
    assert r.status_code == 302
    assert client.get(r["Location"]).status_code == 200


def test_orders_admin_is_hidden_from_roles_without_view_order(staff, shop):
    assert _client(staff, "redemption_clerk").get("/admin/orders/order/").status_code == 403


def test_refund_from_the_order_page(staff, shop, member):
    cashier = _client(staff, "cashier")
    order = _settle(cashier, member, wallet="10")
    html = cashier.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'data-testid="refund-form"' in html
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    url = f"/admin/orders/order/{order.pk}/refund/"
    data = {"key": key, "qty_1": "1", "qty_2": "0", "reason": "尺码不合适", "restore_coupons": ""}
    r = cashier.post(url, data)
    assert r.status_code == 302
    r = cashier.post(url, data)  # a double submit: the same refund
    assert Refund.objects.count() == 1
    refund = Refund.objects.get()
    assert refund.reason == "尺码不合适" and refund.goods_net_fen == 11_400
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    html = cashier.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'data-testid="order-refunds"' in html and "尺码不合适" in html
    # too many units: a message in the user's language, nothing moves
    r = cashier.post(url, {"key": "other", "qty_1": "5"}, follow=True)
    assert "退款明细有误" in r.content.decode()
    assert Refund.objects.count() == 1
    # a role without orders.refund_order cannot post it
    assert _client(staff, "service_agent").post(url, {"key": "x", "qty_1": "1"}).status_code == 403


def test_ship_and_deliver_from_the_order_page(staff, shop, member):
    order = _settle(_client(staff, "cashier"), member, fulfil="courier", address=ADDRESS)
    assert order.status == OrderStatus.PAID
    cashier = _client(staff, "cashier")
    assert 'data-testid="ship"' not in cashier.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert cashier.post(f"/admin/orders/order/{order.pk}/ship/").status_code == 403
    manager = _client(staff, "service_manager")
    html = manager.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'data-testid="ship"' in html
    assert manager.post(f"/admin/orders/order/{order.pk}/ship/").status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    r = manager.post(
        "/admin/orders/order/",
        {"action": "deliver_selected", "_selected_action": [order.pk]},
    )
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.delivered_at is not None


def test_discount_approval_request_approve_and_use(staff, shop, member):
    cashier_user = staff("cashier", password="console-pass-1")
    cashier = Client()
    cashier.login(username=cashier_user.username, password="console-pass-1")
    r = cashier.get("/admin/orders/discountapproval/add/")
    assert r.status_code == 200 and 'name="member_text"' in r.content.decode()
    r = cashier.post(
        "/admin/orders/discountapproval/add/",
        {"member_text": "13800001111", "order_total": "5250", "amount": "200", "reason": "老客户大单"},
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    approval = DiscountApproval.objects.get()
    assert approval.amount_fen == 20_000 and approval.member == member
    # a cashier may not approve
    r = cashier.post(
        "/admin/orders/discountapproval/",
        {"action": "approve", "_selected_action": [approval.pk]},
    )
    approval.refresh_from_db()
    assert approval.state == DiscountApproval.State.REQUESTED
    manager = _client(staff, "service_manager")
    r = manager.post(
        "/admin/orders/discountapproval/",
        {"action": "approve", "_selected_action": [approval.pk]},
    )
    assert r.status_code == 302
    approval.refresh_from_db()
    assert approval.state == DiscountApproval.State.APPROVED
    r = cashier.post(
        URL,
        _cart(member, action="quote", lines=(("COAT", 15),), approval_id=str(approval.pk)),
    )
    assert "approved extra discount" in r.content.decode() or "额外折扣" in r.content.decode()
    r = cashier.post(URL, _cart(member, action="settle", lines=(("COAT", 15),), approval_id=str(approval.pk)))
    assert r.status_code == 302
    approval.refresh_from_db()
    assert approval.state == DiscountApproval.State.USED


def test_reject_action(staff, shop, member):
    requester = staff("cashier")
    a = discount_request(
        member_id=member.pk, order_total_fen=600_000, amount_fen=10_000, reason="x", actor=requester
    )
    manager = _client(staff, "service_manager")
    manager.post("/admin/orders/discountapproval/", {"action": "reject", "_selected_action": [a.pk]})
    a.refresh_from_db()
    assert a.state == DiscountApproval.State.REJECTED


def test_order_settings_through_the_service(staff, shop):
    admin_client = _client(staff, "admin")
    url = admin_client.get("/admin/orders/ordersettings/")["Location"]
    r = admin_client.post(
        url,
        {
            "return_days_member": "20",
            "return_days_other": "7",
            "cod_review_hours": "48",
            "points_per_yuan_paid": "100",
            "approval_threshold_fen": "500000",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert OrderSettings.objects.get().return_days_member == 20
    assert AuditEntry.objects.filter(action="order.settings").count() == 1
    r = admin_client.post(
        url,
        {
            "return_days_member": "999",
            "return_days_other": "7",
            "cod_review_hours": "48",
            "points_per_yuan_paid": "100",
            "approval_threshold_fen": "500000",
        },
    )
    assert r.status_code == 200  # the form again, with the error
    assert OrderSettings.objects.get().return_days_member == 20
    # a cashier reads, does not change
    cashier = _client(staff, "cashier")
    assert cashier.get(url).status_code == 200
    cashier.post(url, {"return_days_member": "1"})
    assert OrderSettings.objects.get().return_days_member == 20


def test_quote_lists_rules_that_did_not_apply_and_group_purchase(staff, shop, member):
    coupon = shop.coupon(member)  # 满100减10: the socks alone (a special sale) do not reach it
    client = _client(staff, "cashier", lang="en")
    r = client.post(URL, _cart(member, action="quote", lines=(("SALE", 1),), coupon=[coupon.code]))
    html = r.content.decode()
    assert r.status_code == 200, html[:3000]
    not_applied = re.search(r'data-testid="quote-not-applied">(.*?)</ul>', html, re.S).group(1)
    assert "满100减10" in not_applied and "not eligible" in not_applied
    # a group purchase: no member benefits (no tier discount), the reason is shown
    r = client.post(URL, _cart(member, action="quote", lines=(("TEE", 1),), group_purchase="1"))
    html = r.content.decode()
    assert r.status_code == 200, html[:3000]
    assert "group purchase: no member benefits" in html
    assert 'data-testid="quote-total">¥120.00<' in html


def test_cod_delivery_order(staff, shop, member):
    client = _client(staff, "cashier")
    order = _settle(client, member, fulfil="courier", address=ADDRESS, payment_method="cod", key="cod-1")
    assert order.payment_method == "cod" and order.courier == "normal" and order.status == OrderStatus.PAID
    assert order.ship_province


def test_a_settlement_still_running_is_not_started_twice(staff, shop, member):
    """The second of two concurrent clicks finds the page key claimed: it says so, settles nothing."""
    import dataclasses

    from laoke.console.checkout_views import SCOPE, _checkout_in, _read_form
    from laoke.core import idempotency

    user = staff("cashier", password="console-pass-1")
    client = Client()
    assert client.login(username=user.username, password="console-pass-1")
    data = _cart(member, action="settle", key="running-1")

    class Post(dict):
        def getlist(self, k):
            v = self.get(k, [])
            return v if isinstance(v, list) else [v]

    req = _checkout_in(_read_form(Post(data)), member)
    idempotency.claim(scope=f"{SCOPE}@{user.pk}", key="running-1", payload=dataclasses.asdict(req))
    r = client.post(URL, data)
    assert r.status_code == 422 and 'data-testid="checkout-error"' in r.content.decode()
    assert Order.objects.count() == 0
