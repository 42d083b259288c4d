"""Console pages of the basket analysis: rules (table, chart data, xlsx), purchases, product roles
with the manual form; 200 for an analyst, refused for a cashier, the form only for a marketer."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from openpyxl import load_workbook

from laoke.analytics.models import ProductRole
from laoke.catalog.services import product_create
from laoke.core import clock
from laoke.members.services import member_create
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_settle

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 2, tzinfo=UTC)
B = "/admin/console/analytics/baskets"


def _client(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client()
    assert client.login(username=user.username, password="console-pass-1")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def shop(db):
    product_create(sku="TEA", title="green tea", list_price_fen=1_000, cost_price_fen=900)
    product_create(sku="CUP", title="tea cup", list_price_fen=2_000, cost_price_fen=500)
    members = [member_create(name=f"m{i}", mobile=f"1360000{i:04d}") for i in range(3)]
    for i, m in enumerate(members):
        at = NOW - timedelta(days=3 + i)
        lines = (LineIn("TEA", 1), LineIn("CUP", 1)) if i < 2 else (LineIn("TEA", 1),)
        with clock.frozen(at):
            order_settle(request=CheckoutIn(lines=lines, member_id=m.pk), now=at)
    return members


def test_rules_page_and_xlsx(shop, staff):
    with clock.frozen(NOW):
        c = _client(staff, "analyst")
        r = c.get(f"{B}/rules/", {"min_support": "0.5", "min_lift": "1", "sort": "confidence"})
        html = r.content.decode()
        assert r.status_code == 200 and 'data-testid="chart-rules"' in html and "plotly.min.js" in html
        # {TEA, CUP} in 2 of 3 orders: CUP → TEA confidence 1, lift 1/(3/3) = 1; TEA → CUP lift (2/3)/(2/3) = 1.
        assert html.count('data-testid="rule-row"') == 2 and "3 orders × 2 items" in html
        x = c.get(f"{B}/rules.xlsx", {"min_support": "0.5", "min_lift": "1"})
        assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxmlformats")
        assert len(list(load_workbook(io.BytesIO(x.content))["rules"].iter_rows())) == 3
        bad = c.get(f"{B}/rules/", {"min_support": "abc"})
        assert bad.status_code == 400 and "min_support" in bad.content.decode()
        assert _client(staff, "cashier").get(f"{B}/rules/").status_code == 403
        assert _client(staff, "cashier").get(f"{B}/rules.xlsx").status_code == 403


def test_purchases_page(shop, staff):
    with clock.frozen(NOW):
        c = _client(staff, "analyst")
        r = c.get(f"{B}/purchases/", {"member_ids": f"{shop[0].pk}"})
        html = r.content.decode()
        assert r.status_code == 200 and html.count('data-testid="purchase-row"') == 2  # TEA, CUP
        assert "compared with 2 other buyers" in html
        assert c.get(f"{B}/purchases/", {"member_ids": "x"}).status_code == 400
        assert _client(staff, "cashier").get(f"{B}/purchases/").status_code == 403


def test_roles_page_compute_and_manual_form(shop, staff):
    with clock.frozen(NOW):
        analyst = _client(staff, "analyst")
        r = analyst.get(f"{B}/roles/")
        html = r.content.decode()
        assert (
            r.status_code == 200
            and 'data-testid="chart-margin"' in html
            and 'data-testid="role-form"' not in html
        )
        assert analyst.post(f"{B}/roles/", {"action": "compute"}).status_code == 403
        marketer = _client(staff, "marketer")
        assert 'data-testid="role-form"' in marketer.get(f"{B}/roles/").content.decode()
        assert marketer.post(f"{B}/roles/", {"action": "compute"}).status_code == 302
        assert ProductRole.objects.count() == 2
        cup = ProductRole.objects.get(product__sku="CUP")
        r = marketer.post(
            f"{B}/roles/",
            {
                "action": "set",
                "target": f"product:{cup.product_id}",
                "role": "profit",
                "discount_cap_bp": "700",
            },
        )
        assert r.status_code == 302
        cup.refresh_from_db()
        assert (cup.role, cup.manual, cup.discount_cap_bp) == ("profit", True, 700)
        r = marketer.post(
            f"{B}/roles/", {"action": "set", "target": f"product:{cup.product_id}", "role": "hero"}
        )
        assert r.status_code == 400 and "role must be one of" in r.content.decode()
        html = analyst.get(f"{B}/roles/").content.decode()
        assert html.count('data-testid="role-row"') == 2 and "cap 700 bp" in html
        assert _client(staff, "cashier").get(f"{B}/roles/").status_code == 403
