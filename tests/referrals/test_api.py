"""/api/v1/referrals: register with Idempotency-Key (required, replayed, conflicting), error
bodies with stable codes in both languages, list, programme, KPI."""

from __future__ import annotations

import pytest

from laoke.promotions.models import Coupon
from laoke.referrals.models import Referral
from tests.promotions.helpers import template
from tests.referrals.helpers import ADDRESS, member, settle

pytestmark = pytest.mark.django_db
P = "/api/v1/referrals"


def post(client, body, key=None, path=P):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, body, content_type="application/json", **headers)


def test_register_needs_a_key_and_replays_it(api, preset, old, new):
    client = api("cashier")
    body = {"new_member_id": new.pk, "referrer": "13800001111", "device_id": "d-1"}
    r = post(client, body)
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    r = post(client, body, key="reg-1")
    assert r.status_code == 201, r.content
    data = r.json()
    assert (data["referrer_id"], data["new_member_id"], data["state"]) == (old.pk, new.pk, "rewarded")
    assert data["referrer_code"] == old.code and data["referrer_coupon_id"] and data["new_member_coupon_id"]
    again = post(client, body, key="reg-1")
    assert again.status_code == 201 and again.json() == data
    conflict = post(client, {**body, "device_id": "d-2"}, key="reg-1")
    assert conflict.status_code == 409 and conflict.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert Referral.objects.count() == 1 and Coupon.objects.count() == 2


def test_guard_errors_have_stable_codes_in_both_languages(api, preset):
    a = member("甲", "13800004444", address=ADDRESS)
    b = member("乙", "13900005555", address=ADDRESS)
    body = {"new_member_id": b.pk, "referrer": a.code}
    r = post(api("cashier", lang="zh-hans"), body, key="k1")
    assert r.status_code == 422
    assert r.json()["code"] == "REFERRAL_SAME_ADDRESS" and r.json()["message"] == "推荐人与新会员的地址相同"
    r = post(api("cashier"), body, key="k2")
    assert r.json()["message"] == "The referrer and the new member have the same address"
    r = post(api("cashier"), {"new_member_id": b.pk, "referrer": "13711112222"}, key="k3")
    assert (r.status_code, r.json()["code"]) == (422, "REFERRAL_REFERRER_NOT_FOUND")
    assert post(api("cashier"), {"new_member_id": 999_999, "referrer": a.code}, key="k4").status_code == 404
    # A failed attempt releases its key: the same key may be used again once the data is fixed.
    r = post(api("cashier"), {"new_member_id": b.pk, "referrer": "13711112222"}, key="k3")
    assert r.status_code == 422


def test_list_a_members_referrals(api, preset, old, new):
    other = member("丙", "13900003333")
    client = api("service_agent")
    for m, key in ((new, "a"), (other, "b")):
        assert post(client, {"new_member_id": m.pk, "referrer": old.code}, key=key).status_code == 201
    r = client.get(f"{P}?member_id={old.pk}")
    assert [i["new_member_id"] for i in r.json()["items"]] == [other.pk, new.pk]
    r = client.get(f"{P}?member_id={new.pk}")
    assert [i["referrer_id"] for i in r.json()["items"]] == [old.pk]
    assert client.get(f"{P}?state=pending").json()["items"] == []
    assert client.get(f"{P}?state=bogus").status_code == 422


def test_programme_get_and_patch(api, preset):
    client = api("marketer")
    r = client.get(f"{P}/programme")
    assert r.json()["trigger"] == "registration" and r.json()["kpi_target_bp"] == 2_000
    combo = template(name="组合", threshold_fen=0)
    r = client.patch(
        f"{P}/programme",
        {"trigger": "first_paid_order", "new_member_template_id": combo.pk, "kpi_target_bp": 2500},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert (r.json()["trigger"], r.json()["new_member_template_id"], r.json()["kpi_target_bp"]) == (
        "first_paid_order",
        combo.pk,
        2500,
    )
    assert r.json()["referrer_template_id"] == preset.referrer_template_id  # unsent: unchanged
    r = client.patch(f"{P}/programme", {"referrer_template_id": None}, content_type="application/json")
    assert r.json()["referrer_template_id"] is None
    r = client.patch(f"{P}/programme", {"trigger": "sometime"}, content_type="application/json")
    assert r.status_code == 422
    r = client.patch(f"{P}/programme", {"new_member_template_id": 999_999}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (422, "REFERRAL_SETTINGS_INVALID")
    assert api("analyst").patch(f"{P}/programme", {}, content_type="application/json").status_code == 403


def test_kpi_endpoint(api, preset, old, new):
    post(api("cashier"), {"new_member_id": new.pk, "referrer": old.code}, key="k")
    settle(new, "O-1", 25_000)
    settle(old, "O-2", 75_000)
    r = api("analyst").get(f"{P}/kpi?start=2026-03-01&end=2026-03-31")
    assert r.status_code == 200
    assert r.json()["months"] == [
        {
            "month": "2026-03-01",
            "referred_fen": 25_000,
            "total_fen": 100_000,
            "share_bp": 2_500,
            "target_bp": 2_000,
            "met": True,
        }
    ]
    assert api("analyst").get(f"{P}/kpi?start=2026-04-01&end=2026-03-01").status_code == 422
    assert len(api("analyst").get(f"{P}/kpi").json()["months"]) == 1  # this month by default
