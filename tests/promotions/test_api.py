"""The promotions API: templates, issue with Idempotency-Key, claim, a member's coupons, import."""

from __future__ import annotations

import pytest

from laoke.core.models import IdempotencyRecord
from laoke.promotions.models import Coupon, CouponTemplate
from tests.promotions.helpers import END, template

J = "application/json"
P = "/api/v1/promotions"
pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(api):
    return api("marketer")


def test_empty_bodies_are_422(marketer):
    for path in ("/templates", "/claim", "/templates/1/import"):
        r = marketer.post(f"{P}{path}", {}, content_type=J)
        assert r.status_code in (404, 422), (path, r.content)
    r = marketer.patch(f"{P}/templates/1", {}, content_type=J)
    assert r.status_code == 404, r.content


def test_template_crud(marketer, frozen):
    body = {
        "name": "满200减30",
        "kind": "fixed",
        "threshold_fen": 20_000,
        "amount_off_fen": 3_000,
        "valid_days": 7,
    }
    r = marketer.post(f"{P}/templates", body, content_type=J)
    assert r.status_code == 201, r.content
    tid = r.json()["id"]
    r = marketer.post(f"{P}/templates", {**body, "amount_off_fen": 0}, content_type=J)
    assert r.status_code == 422 and r.json()["code"] == "COUPON_TEMPLATE_INVALID"
    assert r.json()["details"]["field"] == "amount_off_fen"
    r = marketer.patch(f"{P}/templates/{tid}", {"total_limit": 100}, content_type=J)
    assert r.status_code == 200 and r.json()["total_limit"] == 100
    r = marketer.patch(f"{P}/templates/{tid}", {"amount_off_fen": 2_500}, content_type=J)
    assert r.status_code == 200 and r.json()["amount_off_fen"] == 2_500  # nothing issued yet
    r = marketer.post(f"{P}/templates/{tid}/issue", {}, content_type=J, HTTP_IDEMPOTENCY_KEY="i1")
    assert r.status_code == 201
    r = marketer.patch(f"{P}/templates/{tid}", {"amount_off_fen": 3_000}, content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "COUPON_TEMPLATE_TERMS_FROZEN"
    r = marketer.get(f"{P}/templates")
    assert [t["id"] for t in r.json()["items"]] == [tid]
    assert marketer.get(f"{P}/templates/{tid}").json()["valid_days"] == 7


def test_issue_needs_a_key_and_replays(marketer, member, frozen):
    tpl = template(total_limit=3)
    url = f"{P}/templates/{tpl.pk}/issue"
    body = {"member_id": member.pk, "channel": "DM-01"}
    r = marketer.post(url, body, content_type=J)
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    r1 = marketer.post(url, body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r1.status_code == 201, r1.content
    assert r1.json()["member_id"] == member.pk and r1.json()["channel"] == "DM-01"
    r2 = marketer.post(url, body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r2.json() == r1.json() and Coupon.objects.count() == 1
    assert CouponTemplate.objects.get(pk=tpl.pk).issued_count == 1
    assert IdempotencyRecord.objects.count() == 1


def test_claim_and_member_coupons(marketer, api, member, friend, frozen):
    tpl = template()
    r = marketer.post(f"{P}/templates/{tpl.pk}/issue", {}, content_type=J, HTTP_IDEMPOTENCY_KEY="s1")
    code = r.json()["code"]
    assert r.json()["shareable"] and r.json()["member_id"] is None
    agent = api("service_agent")
    r = agent.post(f"{P}/claim", {"code": code, "member_id": friend.pk}, content_type=J)
    assert r.status_code == 200 and r.json()["member_id"] == friend.pk
    r = agent.post(f"{P}/claim", {"code": code, "member_id": member.pk}, content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "COUPON_ALREADY_CLAIMED"
    r = api("cashier").get(f"{P}/members/{friend.pk}/coupons")
    assert [c["code"] for c in r.json()["items"]] == [code]
    assert marketer.get(f"{P}/coupons/{code.lower()}").json()["state"] == "issued"
    assert marketer.get(f"{P}/coupons/NOPE").status_code == 404


def test_import_errors_by_row_and_column(marketer, member, frozen):
    tpl = template(valid_to=END)
    r = marketer.post(f"{P}/templates/{tpl.pk}/import", {"csv": "code\nX\nOK-0001,1\n"}, content_type=J)
    assert r.status_code == 422 and r.json()["code"] == "COUPON_IMPORT_INVALID"
    errs = r.json()["details"]["errors"]
    assert [(e["row"], e["column"]) for e in errs] == [(2, "code"), (3, "mobile")]
    r = marketer.post(f"{P}/templates/{tpl.pk}/import", {"csv": "OK-0001,13800001111\n"}, content_type=J)
    assert r.status_code == 201 and r.json() == {"count": 1}
