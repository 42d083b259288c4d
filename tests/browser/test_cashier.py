"""The cashier's checkout page in a real Chromium: look a member up by mobile, enter two lines (the
second added by the page's "add line" button), apply a coupon, quote, read the explanation,
settle, see the order number and open the order in the admin.

The shop is prepared in the live server's own data dir through the services (as the CLI would):
the seed presets (tiers, points, shipping), two products, a coupon for the member."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PREPARE = """
import json
from datetime import timedelta
from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.members.models import Member
from laoke.points.presets import points_presets_install
from laoke.promotions.services import coupon_issue, coupon_template_create
from laoke.shipping.presets import shipping_presets_install
from laoke.tiers.presets import tier_presets_install
tier_presets_install(preset="online_shop")
points_presets_install()
shipping_presets_install(preset="seed_001")
cat = category_create(code="bt-apparel", name="服装")
product_create(sku="BT-TEE", title="纯棉T恤", list_price_fen=12_000, category=cat)
product_create(sku="BT-SOCK", title="特价袜", list_price_fen=5_000, category=cat, is_special_sale=True)
tpl = coupon_template_create(data={"name": "满100减10", "kind": "fixed", "threshold_fen": 10_000,
    "amount_off_fen": 1_000, "valid_to": clock.now() + timedelta(days=30)})
m = Member.objects.get(mobile="+8613812345678")
c = coupon_issue(template=tpl, member=m)
print(json.dumps({"coupon": c.code}))
"""


@pytest.fixture(scope="module")
def till(laoke_server):
    env = {
        **os.environ,
        "LAOKE_DATA_DIR": str(laoke_server["data_dir"]),
        "DJANGO_SETTINGS_MODULE": "laoke.settings",
    }
    for key in ("DATABASE_URL", "LAOKE_TESTING", "REDIS_URL"):
        env.pop(key, None)
    out = subprocess.run(
        [Path(sys.executable).parent / "laoke", "manage", "shell", "-c", PREPARE],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _login(browser, server, username, *, lang=None):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if lang:
        context.add_cookies([{"name": "django_language", "value": lang, "url": server["base"]}])
    page = context.new_page()
    page.goto(server["base"] + "/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/admin/login/" not in page.url
    return page


def test_cashier_quotes_and_settles(browser, laoke_server, till, shot):
    base = laoke_server["base"]
    page = _login(browser, laoke_server, "till1")
    page.goto(base + "/admin/")
    assert page.locator("a[href='/admin/console/checkout/']").count() >= 1  # the Orders sidebar
    page.goto(base + "/admin/console/checkout/")
    key = page.input_value("[data-testid=idem-key]")
    assert len(key) >= 20

    # Member lookup by mobile: masked mobile, wallet, points, the usable coupon.
    page.fill("[data-testid=member]", "13812345678")
    page.click("[data-testid=lookup]")
    page.wait_for_load_state("networkidle")
    panel = page.inner_text("[data-testid=member-panel]")
    assert "王小明" in panel and "138****5678" in panel
    assert "13812345678" not in page.content().replace('value="13812345678"', "")
    coupon = till["coupon"]
    assert page.locator(f"[data-testid=coupon-{coupon}]").count() == 1

    # Two lines: the second row comes from the "add line" button (no round trip).
    page.locator("[data-testid=sku]").nth(0).fill("BT-TEE")
    page.locator("[data-testid=qty]").nth(0).fill("2")
    page.click("[data-testid=add-line]")
    assert page.locator("[data-testid=sku]").count() == 2
    page.locator("[data-testid=sku]").nth(1).fill("BT-SOCK")
    page.locator("[data-testid=qty]").nth(1).fill("1")
    page.check(f"[data-testid=coupon-{coupon}]")
    page.click("[data-testid=quote]")
    page.wait_for_load_state("networkidle")

    explanation = page.locator("[data-testid=explanation]")
    assert explanation.is_visible()
    text = explanation.inner_text()
    # T恤 × 2: ¥240.00, tier 95折 −¥12.00, the coupon −¥10.00 (all on the T恤: the socks are a
    # special sale, excluded with the reason shown in Chinese).
    assert "¥240.00" in text and "¥12.00" in text and "满100减10" in text
    assert "特价商品：不参与" in text
    assert page.inner_text("[data-testid=quote-total]").strip() == "¥268.00"
    assert page.input_value("[data-testid=idem-key]") == key  # the same page key until settled
    assert page.is_checked(f"[data-testid=coupon-{coupon}]")
    assert page.locator("[data-testid=sku]").count() == 2
    shot(page, "orders-checkout-quote")

    # Settle (a double click sends one request; the server would settle once anyway).
    page.dblclick("[data-testid=settle]")
    page.wait_for_url(re.compile(r"/admin/console/checkout/receipt/LK\d+/"))
    page.wait_for_load_state("networkidle")
    number = page.inner_text("[data-testid=order-number]").strip()
    assert re.fullmatch(r"LK\d{20}", number)
    assert page.inner_text("[data-testid=receipt-total]").strip() == "¥268.00"
    shot(page, "orders-checkout-receipt")

    # The order in the admin: one order, its explanation stored.
    page.click("[data-testid=order-admin-link]")
    page.wait_for_load_state("networkidle")
    assert number in page.content()
    assert "特价商品：不参与" in page.inner_text("[data-testid=order-explanation]")
    shot(page, "orders-admin-order")
    page.goto(base + "/admin/orders/order/")
    assert page.content().count(number) >= 1
    assert page.locator("#result_list tbody tr").count() == 1
    shot(page, "orders-admin-list")
    page.context.close()


def test_checkout_error_in_english(browser, laoke_server, till, shot):
    page = _login(browser, laoke_server, "till1", lang="en")
    page.goto(laoke_server["base"] + "/admin/console/checkout/")
    page.locator("[data-testid=sku]").nth(0).fill("NO-SUCH-SKU")
    page.click("[data-testid=quote]")
    page.wait_for_load_state("networkidle")
    assert "Product NO-SUCH-SKU does not exist" in page.inner_text("[data-testid=checkout-error]")
    shot(page, "orders-checkout-error-en")
    page.context.close()
