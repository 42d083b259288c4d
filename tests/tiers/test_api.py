"""/api/v1/tiers: programmes and levels through the services, a member's and a group's tier and
history, manual grants with Idempotency-Key. Every bad input is a 4xx with its code and writes
nothing (no programme, level, tier, history or audit row)."""

import pytest

from laoke.core.models import AuditEntry
from laoke.members.services import group_account_create, member_create
from laoke.tiers.models import MemberTier, TierHistory, TierLevel, TierProgramme
from laoke.tiers.services import tier_presets_install

from .helpers import recharge, spend

T = "/api/v1/tiers"
J = "application/json"


def counts():
    return (
        TierProgramme.objects.count(),
        TierLevel.objects.count(),
        MemberTier.objects.count(),
        TierHistory.objects.count(),
        AuditEntry.objects.count(),
    )


PROGRAMME = {
    "code": "shop",
    "name": "网店会员",
    "audience": "individual",
    "basis": "cumulative_spend",
    "is_active": True,
    "levels": [
        {"rank": 0, "code": "regular", "name": "普通会员", "price_rate_bp": 9500},
        {"rank": 1, "code": "senior", "name": "高级会员", "threshold": 200_000, "price_rate_bp": 9200},
    ],
}


def test_programme_crud(api):
    client = api("marketer")
    r = client.post(f"{T}/programmes", PROGRAMME, content_type=J)
    assert r.status_code == 201, r.content
    body = r.json()
    assert [lv["code"] for lv in body["levels"]] == ["regular", "senior"]
    assert body["levels"][0]["service_owner_role"] == "service_agent" and body["is_active"]
    pid = body["id"]
    r = client.patch(
        f"{T}/programmes/{pid}",
        {"downgrade_policy": "yearly_review", "review_month": 1, "review_day": 1},
        content_type=J,
    )
    assert r.status_code == 200 and r.json()["review_month"] == 1
    r = client.post(
        f"{T}/programmes/{pid}/levels",
        {
            "rank": 2,
            "code": "vip",
            "name": "VIP",
            "threshold": 500_000,
            "price_rate_bp": 9000,
            "activities": ["promo_sms"],
        },
        content_type=J,
    )
    assert r.status_code == 201 and r.json()["activities"] == ["promo_sms"]
    lid = r.json()["id"]
    r = client.patch(f"{T}/levels/{lid}", {"free_shipping": True}, content_type=J)
    assert r.status_code == 200 and r.json()["free_shipping"] is True
    assert [p["code"] for p in client.get(f"{T}/programmes?active=true").json()] == ["shop"]
    assert client.get(f"{T}/programmes?audience=group").json() == []
    assert client.delete(f"{T}/levels/{lid}").status_code == 204
    assert len(client.get(f"{T}/programmes/{pid}").json()["levels"]) == 2
    assert client.delete(f"{T}/programmes/{pid}").json()["code"] == "TIER_PROGRAMME_ACTIVE"
    client.patch(f"{T}/programmes/{pid}", {"is_active": False}, content_type=J)
    assert client.delete(f"{T}/programmes/{pid}").status_code == 204
    assert client.get(f"{T}/programmes/{pid}").status_code == 404
    assert AuditEntry.objects.filter(actor=client.user, action__startswith="tier").count() >= 6


def test_programme_create_is_idempotent_with_a_key(api):
    client = api("marketer")
    h = {"HTTP_IDEMPOTENCY_KEY": "prog-1"}
    r1 = client.post(f"{T}/programmes", PROGRAMME, content_type=J, **h)
    r2 = client.post(f"{T}/programmes", PROGRAMME, content_type=J, **h)
    assert r1.status_code == r2.status_code == 201 and r1.json() == r2.json()
    r3 = client.post(f"{T}/programmes", {**PROGRAMME, "name": "别的"}, content_type=J, **h)
    assert r3.status_code == 409 and r3.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert TierProgramme.objects.count() == 1


BAD_PROGRAMMES = [
    ({**PROGRAMME, "code": ""}, 422, "FIELD_REQUIRED"),
    ({**PROGRAMME, "code": "a b"}, 422, "FIELD_INVALID"),
    ({**PROGRAMME, "audience": "family"}, 422, "FIELD_INVALID"),
    ({**PROGRAMME, "basis": "vibes"}, 422, "FIELD_INVALID"),
    ({**PROGRAMME, "downgrade_policy": "yearly_review"}, 422, "TIER_REVIEW_DATE_INVALID"),
    (
        {**PROGRAMME, "downgrade_policy": "yearly_review", "review_month": 2, "review_day": 30},
        422,
        "TIER_REVIEW_DATE_INVALID",
    ),
    ({**PROGRAMME, "review_month": 1, "review_day": 1}, 422, "TIER_REVIEW_DATE_INVALID"),
    (
        {**PROGRAMME, "levels": [{"rank": 0, "code": "a", "name": "A", "price_rate_bp": 10_001}]},
        422,
        "TIER_RATE_INVALID",
    ),
    (
        {**PROGRAMME, "levels": [{"rank": 0, "code": "a", "name": "A", "threshold": -1}]},
        422,
        "TIER_THRESHOLD_INVALID",
    ),
    (
        {**PROGRAMME, "levels": [{"rank": 0, "code": "a", "name": "A", "rule_kind": "order_count"}]},
        422,
        "TIER_RULE_BASIS_MISMATCH",
    ),
    (
        {**PROGRAMME, "levels": [{"rank": 0, "code": "a", "name": "A", "activities": ["spa"]}]},
        422,
        "TIER_ACTIVITY_UNKNOWN",
    ),
    (
        {
            **PROGRAMME,
            "levels": [{"rank": 0, "code": "a", "name": "A"}, {"rank": 0, "code": "b", "name": "B"}],
        },
        409,
        "TIER_LEVEL_RANK_TAKEN",
    ),
    (
        {
            **PROGRAMME,
            "levels": [
                {"rank": 0, "code": "a", "name": "A", "threshold": 500},
                {"rank": 1, "code": "b", "name": "B", "threshold": 100},
            ],
        },
        422,
        "TIER_THRESHOLD_ORDER",
    ),
    ({**PROGRAMME, "colour": "gold"}, 422, "VALIDATION_ERROR"),
    ({**PROGRAMME, "levels": "many"}, 422, "VALIDATION_ERROR"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_PROGRAMMES, ids=[c for _, _, c in BAD_PROGRAMMES])
def test_bad_programme_input_writes_nothing(api, body, status, code):
    client = api("marketer")
    before = counts()
    r = client.post(f"{T}/programmes", body, content_type=J)
    assert (r.status_code, r.json()["code"]) == (status, code), r.content
    assert counts() == before


def test_bad_level_and_patch_input_writes_nothing(api):
    client = api("marketer")
    (p,) = tier_presets_install(preset="online_shop")
    lv = p.levels.get(code="vip")
    before = counts()
    cases = [
        (
            "post",
            f"{T}/programmes/{p.pk}/levels",
            {"rank": 1, "code": "x", "name": "X", "threshold": 300_000},
            409,
            "TIER_LEVEL_RANK_TAKEN",
        ),
        (
            "post",
            f"{T}/programmes/{p.pk}/levels",
            {"rank": 9, "code": "vip", "name": "X", "threshold": 10**8},
            409,
            "TIER_LEVEL_CODE_TAKEN",
        ),
        ("post", f"{T}/programmes/999999/levels", {"rank": 9, "code": "y", "name": "Y"}, 404, "NOT_FOUND"),
        ("patch", f"{T}/levels/{lv.pk}", {"threshold": 1}, 422, "TIER_THRESHOLD_ORDER"),
        ("patch", f"{T}/levels/{lv.pk}", {"points_multiplier_bp": 100_001}, 422, "TIER_RATE_INVALID"),
        ("patch", f"{T}/levels/{lv.pk}", {"service_owner_role": "boss"}, 422, "FIELD_INVALID"),
        ("patch", f"{T}/levels/{lv.pk}", {"programme_id": 3}, 422, "VALIDATION_ERROR"),
        ("patch", f"{T}/levels/999999", {"name": "Z"}, 404, "NOT_FOUND"),
        ("patch", f"{T}/programmes/{p.pk}", {"basis": "order_count", "name": ""}, 422, "FIELD_REQUIRED"),
        ("patch", f"{T}/programmes/{p.pk}", {"downgrade_policy": "sometimes"}, 422, "FIELD_INVALID"),
        ("patch", f"{T}/programmes/{p.pk}", {"review_day": 3}, 422, "TIER_REVIEW_DATE_INVALID"),
        ("patch", f"{T}/programmes/999999", {"name": "Z"}, 404, "NOT_FOUND"),
        ("delete", f"{T}/levels/999999", None, 404, "NOT_FOUND"),
        ("delete", f"{T}/programmes/999999", None, 404, "NOT_FOUND"),
        ("get", f"{T}/programmes/999999", None, 404, "NOT_FOUND"),
    ]
    for method, url, body, status, code in cases:
        fn = getattr(client, method)
        r = fn(url, body, content_type=J) if body is not None else fn(url)
        assert (r.status_code, r.json()["code"]) == (status, code), (url, body, r.content)
    assert counts() == before


def test_member_tier_history_and_grant(api):
    (p,) = tier_presets_install(preset="online_shop")
    m = member_create(name="老客", mobile="13900005555")
    spend(m, 2_000)
    manager = api("service_manager")
    r = manager.post(f"{T}/members/{m.pk}/evaluate", content_type=J)
    assert r.status_code == 200 and r.json()["change"]["to_level"]["code"] == "senior"
    assert manager.post(f"{T}/members/{m.pk}/evaluate", content_type=J).json() == {
        "changed": False,
        "change": None,
    }
    vip = p.levels.get(code="vip")
    h = {"HTTP_IDEMPOTENCY_KEY": "grant-1"}
    body = {"level_id": vip.pk, "reason": "大单客户，经理特批"}
    r1 = manager.post(f"{T}/members/{m.pk}/grant", body, content_type=J, **h)
    r2 = manager.post(f"{T}/members/{m.pk}/grant", body, content_type=J, **h)
    assert r1.status_code == r2.status_code == 200 and r1.json() == r2.json()
    assert r1.json()["how"] == "manual" and TierHistory.objects.filter(how="manual").count() == 1
    agent = api("service_agent", lang="zh-hans")
    r = agent.get(f"{T}/members/{m.pk}")
    body = r.json()
    assert body["level"]["code"] == "vip" and body["level"]["price_rate_bp"] == 9000
    assert body["own"]["how"] == "manual" and body["group_level"] is None
    r = agent.get(f"{T}/members/{m.pk}/history?limit=1")
    assert [i["to_level"]["code"] for i in r.json()["items"]] == ["vip"]
    nxt = r.json()["next_cursor"]
    r = agent.get(f"{T}/members/{m.pk}/history?limit=5&cursor={nxt}")
    assert [i["to_level"]["code"] for i in r.json()["items"]] == ["senior"]
    assert r.json()["items"][0]["actor_label"] == "system"


def test_grant_bad_input_writes_nothing(api):
    tier_presets_install(preset="stored_value")
    shop = tier_presets_install(preset="online_shop", activate=False)[0]
    g = group_account_create(name="集团")
    m = member_create(name="老客", mobile="13900006666")
    staff_of_group = member_create(name="员工", mobile="13900007777", group_account=g)
    manager = api("service_manager")
    gold = TierLevel.objects.get(code="gold")
    black = TierLevel.objects.get(code="black-diamond")
    before = counts()
    cases = [
        (f"{T}/members/{m.pk}/grant", {"level_id": gold.pk, "reason": "x"}, 422, "TIER_LEVEL_WRONG_AUDIENCE"),
        (
            f"{T}/members/{m.pk}/grant",
            {"level_id": shop.levels.first().pk, "reason": "x"},
            422,
            "TIER_LEVEL_WRONG_AUDIENCE",
        ),
        (f"{T}/groups/{g.pk}/grant", {"level_id": black.pk, "reason": "x"}, 422, "TIER_LEVEL_WRONG_AUDIENCE"),
        (f"{T}/members/{m.pk}/grant", {"level_id": 999_999, "reason": "x"}, 404, "NOT_FOUND"),
        (f"{T}/members/{m.pk}/grant", {"level_id": black.pk, "reason": " "}, 422, "FIELD_REQUIRED"),
        (f"{T}/members/{m.pk}/grant", {"level_id": black.pk, "reason": "x" * 201}, 422, "FIELD_TOO_LONG"),
        (f"{T}/members/{m.pk}/grant", {"level_id": black.pk}, 422, "VALIDATION_ERROR"),
        (f"{T}/members/999999/grant", {"level_id": black.pk, "reason": "x"}, 404, "NOT_FOUND"),
        (f"{T}/groups/999999/grant", {"level_id": gold.pk, "reason": "x"}, 404, "NOT_FOUND"),
    ]
    for url, body, status, code in cases:
        r = manager.post(url, body, content_type=J)
        assert (r.status_code, r.json()["code"]) == (status, code), (url, body, r.content)
    r = manager.post(f"{T}/members/{m.pk}/grant", {"level_id": black.pk, "reason": "x"}, content_type=J)
    assert r.status_code == 200
    before = counts()
    r = manager.post(f"{T}/members/{m.pk}/grant", {"level_id": black.pk, "reason": "x"}, content_type=J)
    assert (r.status_code, r.json()["code"]) == (409, "TIER_ALREADY_AT_LEVEL")
    assert counts() == before
    # object rule: a service agent does not see a group's member, nor group tiers
    agent = api("service_agent")
    assert agent.get(f"{T}/members/{staff_of_group.pk}").status_code == 404
    assert agent.get(f"{T}/groups/{g.pk}").json()["code"] == "PERMISSION_DENIED"


def test_group_tier(api):
    tier_presets_install(preset="stored_value")
    g = group_account_create(name="集团")
    recharge(g, 30_000)
    manager = api("service_manager")
    r = manager.post(f"{T}/groups/{g.pk}/evaluate", content_type=J)
    assert r.json()["change"]["to_level"]["code"] == "gold"
    body = manager.get(f"{T}/groups/{g.pk}").json()
    assert body["level"]["price_rate_bp"] == 9300 and body["level"]["service_owner_role"] == "service_manager"
    items = manager.get(f"{T}/groups/{g.pk}/history").json()["items"]
    assert [(i["from_level"], i["to_level"]["name"]) for i in items] == [(None, "金牌")]
    m = member_create(name="员工", mobile="13900008888", group_account=g)
    body = manager.get(f"{T}/members/{m.pk}").json()
    assert body["level"]["code"] == "gold" and body["own"] is None and body["group_level"]["code"] == "gold"


def test_messages_in_both_languages(api):
    tier_presets_install(preset="online_shop")
    body = {**PROGRAMME, "code": "online-shop"}
    r = api("marketer", lang="zh-hans").post(f"{T}/programmes", body, content_type=J)
    assert r.json()["message"] == "等级方案编号 online-shop 已存在"
    r = api("marketer", lang="en").post(f"{T}/programmes", body, content_type=J)
    assert r.json()["message"] == "Tier programme code online-shop already exists"
