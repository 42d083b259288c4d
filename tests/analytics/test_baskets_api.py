"""The basket and product-role endpoints: JSON and xlsx, stable error codes in zh/en, who may call."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from laoke.analytics.models import ProductRole
from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.members.services import member_create
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_settle

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
P = "/api/v1/analytics"


@pytest.fixture
def small_shop(db):
    cat = category_create(code="tea", name="茶")
    for sku, price in (("A", 1_000), ("B", 2_000), ("C", 3_000)):
        product_create(
            sku=sku, title=f"item {sku}", list_price_fen=price, cost_price_fen=price // 2, category=cat
        )
    members = [member_create(name=f"m{i}", mobile=f"1370000{i:04d}") for i in range(4)]
    baskets = [("A", "B"), ("A", "B"), ("A", "C"), ("B",)]
    for i, (m, items) in enumerate(zip(members, baskets, strict=True)):
        at = NOW - timedelta(days=5 + i)
        with clock.frozen(at):
            order_settle(
                request=CheckoutIn(lines=tuple(LineIn(sku=s, quantity=1) for s in items), member_id=m.pk),
                now=at,
            )
    return members


@pytest.fixture
def now():
    with clock.frozen(NOW):
        yield NOW


def test_rules_json_and_xlsx(small_shop, api, now):
    analyst = api("analyst")
    r = analyst.get(f"{P}/rules", {"min_support": 0.5, "min_lift": 1})
    assert r.status_code == 200, r.content
    body = r.json()
    # 4 baskets; {A,B} in 2 of them: A→B confidence 2/3, lift (2/3)/(3/4) = 8/9 < 1 → no rule.
    assert (body["baskets"], body["items"], body["rule_count"]) == (4, 3, 0)
    body = analyst.get(f"{P}/rules", {"min_support": 0.5, "min_lift": 0}).json()
    rules = {(tuple(x["antecedent"]), tuple(x["consequent"])): x for x in body["rules"]}
    assert rules[("A",), ("B",)]["confidence"] == pytest.approx(2 / 3, abs=1e-12)
    assert rules[("A",), ("B",)]["lift"] == pytest.approx((2 / 3) / (3 / 4), abs=1e-12)
    r = analyst.get(f"{P}/rules", {"min_support": 0.5, "min_lift": 0, "format": "xlsx"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content))["rules"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "antecedent" and len(rows) == 1 + len(body["rules"])
    cat = analyst.get(f"{P}/rules", {"min_support": 0.5, "min_lift": 0, "level": "category"}).json()
    assert (cat["baskets"], cat["items"], cat["rule_count"]) == (4, 1, 0)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"min_support": 0}, "ANALYTICS_SUPPORT_INVALID"),
        ({"min_support": 1.5}, "ANALYTICS_SUPPORT_INVALID"),
        ({"min_lift": -1}, "ANALYTICS_THRESHOLD_INVALID"),
        ({"level": "brand"}, "ANALYTICS_LEVEL_INVALID"),
        ({"since": "2026-03-01", "until": "2026-02-01"}, "ANALYTICS_PERIOD_INVALID"),
        ({"since": "2020-01-01", "until": "2026-02-01"}, "ANALYTICS_PERIOD_INVALID"),
    ],
)
def test_rules_bad_parameters(db, api, now, params, code):
    r = api("analyst").get(f"{P}/rules", params)
    assert r.status_code == 422 and r.json()["code"] == code
    zh = api("analyst", lang="zh-hans").get(f"{P}/rules", params).json()
    assert zh["code"] == code and zh["message"] != r.json()["message"]


def test_purchases(small_shop, api, now):
    m = small_shop
    client = api("marketer")
    body = client.get(f"{P}/purchases", {"member_ids": f"{m[0].pk},{m[1].pk}"}).json()
    rows = {x["item"]: x for x in body["products"]}
    # m0, m1 bought A and B; the other buyers m2 (A, C) and m3 (B): share 1 vs 1/2 → lift 2.
    assert (rows["A"]["share"], rows["A"]["others_share"], rows["A"]["lift"]) == (1.0, 0.5, 2.0)
    assert rows["B"]["revenue"] == "40.00"
    for bad in ({}, {"member_ids": "x,1"}, {"member_ids": "1", "segment_id": 1}):
        r = client.get(f"{P}/purchases", bad)
        assert r.status_code == 422 and r.json()["code"] == "ANALYTICS_MEMBERS_REQUIRED"
    assert client.get(f"{P}/purchases", {"segment_id": 999_999}).status_code == 404


def test_roles_endpoints_and_permissions(small_shop, api, now):
    marketer, analyst, cashier = api("marketer"), api("analyst"), api("cashier")
    r = marketer.post(f"{P}/product-roles/compute")
    assert r.status_code == 200 and sum(v for k, v in r.json().items() if k != "manual_kept") == 3
    assert analyst.post(f"{P}/product-roles/compute").status_code == 403
    items = analyst.get(f"{P}/product-roles").json()["items"]
    assert {i["code"] for i in items} == {"A", "B", "C"}
    a = next(i for i in items if i["code"] == "A")
    put = f"{P}/product-roles/product/{a['id']}"
    r = marketer.put(put, {"role": "profit", "discount_cap_bp": 800}, content_type="application/json")
    assert r.status_code == 200 and r.json() == {
        "kind": "product",
        "id": a["id"],
        "role": "profit",
        "manual": True,
        "discount_cap_bp": 800,
    }
    assert analyst.put(put, {"role": "traffic"}, content_type="application/json").status_code == 403
    bad = marketer.put(put, {"role": "hero"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "ANALYTICS_ROLE_INVALID"
    bad = marketer.put(f"{P}/product-roles/shelf/1", {"role": "profit"}, content_type="application/json")
    assert bad.json()["code"] == "ANALYTICS_ROLE_TARGET_INVALID"
    bad = marketer.put(put, {"role": "profit", "discount_cap_bp": 20_000}, content_type="application/json")
    assert bad.json()["code"] == "ANALYTICS_DISCOUNT_CAP_INVALID"
    assert ProductRole.objects.get(product_id=a["id"]).discount_cap_bp == 800
    assert analyst.get(f"{P}/product-roles", {"role": "profit"}).json()["items"][0]["code"] == "A"
    s = analyst.get(f"{P}/promotion-suggestions").json()
    assert [x["code"] for x in s["protect"]] == ["A"] and s["notify_first"]["count"] == 0
    for path in ("rules", "purchases?member_ids=1", "product-roles", "promotion-suggestions"):
        assert cashier.get(f"{P}/{path}").status_code == 403
    assert api("analyst", scopes=["members:read"]).get(f"{P}/rules").status_code == 403


def test_an_empty_shop_gives_empty_reports(db, api, now):
    """No orders: zero baskets and no rules, roles of nothing, no suggestions — never an error."""
    marketer = api("marketer")
    body = marketer.get(f"{P}/rules").json()
    assert (body["baskets"], body["itemsets"], body["rule_count"], body["rules"]) == (0, 0, 0, [])
    body = marketer.get(f"{P}/purchases", {"member_ids": "1,2"}).json()
    assert (body["buyers"], body["products"], body["categories"]) == (0, [], [])
    assert marketer.post(f"{P}/product-roles/compute").json()["manual_kept"] == 0
    s = marketer.get(f"{P}/promotion-suggestions").json()
    assert (s["promote"], s["protect"], s["notify_first"]["count"]) == ([], [], 0)
