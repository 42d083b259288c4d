"""/api/v1/shipping: the quote (writes nothing, explains in the caller's language), rule sets
read / preset install / update. Every bad input is a 4xx with its code and writes nothing."""

from __future__ import annotations

import pytest

from laoke.core.models import AuditEntry, IdempotencyRecord
from laoke.members.services import member_create
from laoke.shipping.models import PostageRate, RegionAssignment, ShippingRule, ShippingRuleSet
from laoke.shipping.services import shipping_presets_install

S = "/api/v1/shipping"
J = "application/json"
XJ = "新疆乌鲁木齐市天山区人民路1号"


def counts():
    return (
        ShippingRuleSet.objects.count(),
        ShippingRule.objects.count(),
        PostageRate.objects.count(),
        RegionAssignment.objects.count(),
        AuditEntry.objects.count(),
        IdempotencyRecord.objects.count(),
    )


@pytest.fixture
def preset(db):
    return shipping_presets_install()


def test_quote_in_english_and_chinese(api, preset):
    cashier, pos = api("cashier"), api("api_client", lang="zh-hans")
    before = counts()
    body = {
        "subtotal_fen": 15_000,
        "courier": "sf",
        "member_kind": "new",
        "address": "浙江省杭州市西湖区文三路1号",
    }
    r = cashier.post(f"{S}/quote", body, content_type=J)
    assert r.status_code == 200, r.content
    q = r.json()
    assert (q["charged_fen"], q["postage_fen"], q["discount_fen"], q["rule_code"]) == (
        1200,
        2200,
        1000,
        "new-150-free",
    )
    assert q["free_shipping"] and q["gift_alternative"] and q["province"] == "浙江省"
    assert q["explanation"].startswith("applied '新客户单笔满150元包邮'")
    assert q["reasons"][0] == {
        "rule_code": "new-150-free",
        "applied": True,
        "text": q["explanation"].split("; ")[0],
    }
    zh = pos.post(f"{S}/quote", body, content_type=J).json()
    assert zh["explanation"].startswith("适用“新客户单笔满150元包邮”")
    assert counts() == before  # a quote writes nothing


def test_quote_derives_member_kind(api, preset):
    member = member_create(name="新客", mobile="13900002222")
    r = api("cashier").post(
        f"{S}/quote",
        {"subtotal_fen": 100, "courier": "normal", "member_id": member.pk, "province": "新疆"},
        content_type=J,
    )
    assert r.status_code == 200 and r.json()["member_kind"] == "new" and r.json()["charged_fen"] == 2500
    r = api("cashier").post(
        f"{S}/quote", {"subtotal_fen": 100, "courier": "normal", "country": "US"}, content_type=J
    )
    assert r.json()["member_kind"] == "non_member" and r.json()["rule_code"] == "overseas-35"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"subtotal_fen": 100, "courier": "normal", "address": "随便写写"}, 422, "ADDRESS_UNPARSEABLE"),
        ({"subtotal_fen": 100, "courier": "normal"}, 422, "SHIPPING_DESTINATION_REQUIRED"),
        (
            {"subtotal_fen": 100, "courier": "normal", "address": XJ, "province": "新疆"},
            422,
            "SHIPPING_DESTINATION_REQUIRED",
        ),
        ({"subtotal_fen": 100, "courier": "normal", "province": "火星"}, 422, "SHIPPING_PROVINCE_UNKNOWN"),
        ({"subtotal_fen": 100, "courier": "yunda", "province": "新疆"}, 422, "FIELD_INVALID"),
        ({"subtotal_fen": -5, "courier": "normal", "province": "新疆"}, 422, "SHIPPING_AMOUNT_INVALID"),
        ({"subtotal_fen": "lots", "courier": "normal", "province": "新疆"}, 422, "VALIDATION_ERROR"),
        ({"subtotal_fen": 1, "courier": "normal", "province": "新疆", "tip": 1}, 422, "VALIDATION_ERROR"),
        (
            {"subtotal_fen": 1, "courier": "normal", "province": "新疆", "member_kind": "vip"},
            422,
            "FIELD_INVALID",
        ),
        (
            {"subtotal_fen": 1, "courier": "normal", "province": "新疆", "member_id": 999_999},
            404,
            "NOT_FOUND",
        ),
        ({"subtotal_fen": 1, "courier": "normal", "country": "USA"}, 422, "SHIPPING_COUNTRY_INVALID"),
    ],
)
def test_quote_bad_input(api, preset, body, status, code):
    cashier = api("cashier")
    before = counts()
    r = cashier.post(f"{S}/quote", body, content_type=J)
    assert (r.status_code, r.json()["code"]) == (status, code), r.content
    assert counts() == before


def test_quote_without_rule_set(api, db):
    r = api("cashier").post(
        f"{S}/quote", {"subtotal_fen": 1, "courier": "normal", "province": "浙江"}, content_type=J
    )
    assert (r.status_code, r.json()["code"]) == (409, "SHIPPING_NO_ACTIVE_RULE_SET")


def test_preset_install_and_read(api, db):
    client = api("marketer")
    r = client.post(
        f"{S}/rule-sets/presets",
        {"preset": "seed_001", "remote_reading": "flat"},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["is_active"] and len(body["rules"]) == 12 and len(body["rates"]) == 12
    assert body["regions"]["新疆维吾尔自治区"] == "remote" and body["regions"]["香港特别行政区"] == "hmt"
    assert next(x for x in body["rules"] if x["code"] == "remote-old")["outcome"] == "flat"
    replay = client.post(
        f"{S}/rule-sets/presets",
        {"preset": "seed_001", "remote_reading": "flat"},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert replay.status_code == 201 and replay.json() == body
    assert api("analyst").get(f"{S}/rule-sets").json()[0]["code"] == "seed-001"
    assert api("cashier").get(f"{S}/rule-sets/{body['id']}").json()["id"] == body["id"]
    assert api("cashier").get(f"{S}/rule-sets/999999").status_code == 404
    bad = client.post(f"{S}/rule-sets/presets", {"preset": "seed_999"}, content_type=J)
    assert (bad.status_code, bad.json()["code"]) == (422, "FIELD_INVALID")


def test_update(api, preset):
    client = api("marketer")
    rules = [{"rank": 1, "code": "all-free", "name": "全场包邮", "member": "any", "outcome": "free_any"}]
    r = client.patch(
        f"{S}/rule-sets/{preset.pk}", {"rules": rules, "old_customer_min_orders": 2}, content_type=J
    )
    assert r.status_code == 200, r.content
    assert [x["code"] for x in r.json()["rules"]] == ["all-free"] and r.json()["old_customer_min_orders"] == 2
    entry = AuditEntry.objects.get(action="shipping_rule_set.update")
    assert entry.actor_label == client.user.username


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {
                "rules": [
                    {
                        "rank": 1,
                        "code": "x",
                        "name": "x",
                        "member": "old",
                        "outcome": "flat",
                        "amount_fen": -1,
                    }
                ]
            },
            422,
            "SHIPPING_AMOUNT_INVALID",
        ),
        (
            {
                "rules": [
                    {
                        "rank": 1,
                        "code": "x",
                        "name": "x",
                        "member": "old",
                        "outcome": "free_any",
                        "amount_fen": 100,
                    }
                ]
            },
            422,
            "SHIPPING_RULE_AMOUNT_MISMATCH",
        ),
        (
            {
                "rules": [
                    {"rank": 1, "code": "x", "name": "x", "member": "old", "outcome": "free_any", "extra": 1}
                ]
            },
            422,
            "VALIDATION_ERROR",
        ),
        ({"rates": [{"courier": "sf", "region_group": "moon", "postage_fen": 1}]}, 422, "FIELD_INVALID"),
        ({"regions": {"火星": "remote"}}, 422, "SHIPPING_PROVINCE_UNKNOWN"),
        ({"is_active": False}, 409, "SHIPPING_RULE_SET_ACTIVE"),
        ({"old_customer_min_orders": 0}, 422, "FIELD_INVALID"),
        ({"old_customer_min_orders": None}, 422, "FIELD_INVALID"),
        ({"nickname": "x"}, 422, "VALIDATION_ERROR"),
    ],
)
def test_update_bad_input_writes_nothing(api, preset, body, status, code):
    marketer = api("marketer")
    before = counts()
    r = marketer.patch(f"{S}/rule-sets/{preset.pk}", body, content_type=J)
    assert (r.status_code, r.json()["code"]) == (status, code), r.content
    assert counts() == before


def test_update_unknown_rule_set(api, preset):
    r = api("marketer").patch(f"{S}/rule-sets/999999", {"name": "x"}, content_type=J)
    assert (r.status_code, r.json()["code"]) == (404, "NOT_FOUND")
