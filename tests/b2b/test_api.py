"""The pipeline through /api/v1/b2b: customer → project → 立项 approval (the requester's own role is
refused over the API too) → … → contract with its schedule → collection with an Idempotency-Key."""

from __future__ import annotations

import pytest

from laoke.b2b.models import Installment

pytestmark = pytest.mark.django_db
P = "/api/v1/b2b"
J = "application/json"


def test_pipeline_over_the_api(api):
    rep, manager, manager2, gm = (
        api("sales_rep"),
        api("sales_manager"),
        api("sales_manager"),
        api("general_manager"),
    )
    cust = rep.post(f"{P}/customers", {"name": "华东电力集团", "level": "A"}, content_type=J)
    assert cust.status_code == 201 and cust.json()["owner_id"] == rep.user.pk
    body = {
        "customer_id": cust.json()["id"],
        "name": "培训中心改造",
        "customer_lead": "王处长",
        "expected_amount_fen": 200_000_00,
        "estimated_margin_bp": 2000,
        "category": "工程",
        "expected_sign_on": "2027-03-01",
    }
    opp = rep.post(f"{P}/opportunities", body, content_type=J).json()
    oid = opp["id"]
    assert opp["number"].startswith("XM") and opp["stage"] == "development"
    assert (
        rep.post(f"{P}/opportunities/{oid}/advance", {}, content_type=J).json()["code"] == "B2B_KEY_NODE_OPEN"
    )
    rep.post(f"{P}/opportunities/{oid}/check", {"stage": "development", "item": 0}, content_type=J)
    assert rep.post(f"{P}/opportunities/{oid}/advance", {}, content_type=J).json()["stage"] == "initiation"
    req = manager.post(f"{P}/opportunities/{oid}/approvals", {"kind": "project"}, content_type=J).json()
    assert req["requester_roles"] == ["sales_manager"]
    url = f"{P}/approvals/{req['id']}/decide"
    r = manager.post(url, {"approve": True}, content_type=J)
    assert r.status_code == 403 and r.json()["code"] == "APPROVAL_OWN_REQUEST"
    r = manager2.post(url, {"approve": True}, content_type=J)
    assert r.status_code == 403 and r.json()["code"] == "APPROVAL_OWN_ROLE"
    assert rep.post(url, {"approve": True}, content_type=J).status_code == 403
    assert gm.post(url, {"approve": True}, content_type=J).json()["state"] == "approved"
    rep.post(f"{P}/opportunities/{oid}/advance", {}, content_type=J)
    rep.post(f"{P}/opportunities/{oid}/check", {"stage": "proposal", "item": 0}, content_type=J)
    rep.post(f"{P}/opportunities/{oid}/advance", {}, content_type=J)
    bid = rep.post(
        f"{P}/opportunities/{oid}/approvals", {"kind": "bid", "amount_fen": 190_000_00}, content_type=J
    ).json()
    assert (
        manager.post(f"{P}/approvals/{bid['id']}/decide", {"approve": True}, content_type=J).status_code
        == 200
    )
    rep.post(f"{P}/opportunities/{oid}/check", {"stage": "bidding", "item": 0}, content_type=J)
    assert rep.post(f"{P}/opportunities/{oid}/advance", {}, content_type=J).json()["stage"] == "negotiation"
    schedule = [
        {"due_on": "2027-02-01", "amount_fen": 90_000_00},
        {"due_on": "2027-05-01", "amount_fen": 100_000_00},
    ]
    contract = rep.post(
        f"{P}/opportunities/{oid}/approvals",
        {"kind": "contract", "amount_fen": 190_000_00, "installments": schedule},
        content_type=J,
    ).json()
    r = manager.post(f"{P}/approvals/{contract['id']}/decide", {"approve": True}, content_type=J)
    assert (
        r.status_code == 403 and r.json()["code"] == "APPROVAL_PERMISSION"
    )  # contracts: the general manager
    gm.post(f"{P}/approvals/{contract['id']}/decide", {"approve": True}, content_type=J)
    signed = rep.post(
        f"{P}/opportunities/{oid}/contract/sign", {"signed_on": "2027-01-05"}, content_type=J
    ).json()
    assert [i["amount_fen"] for i in signed["installments"]] == [90_000_00, 100_000_00]
    first = signed["installments"][0]["id"]
    collect = f"{P}/installments/{first}/collect"
    pay = {"amount_fen": 90_000_00, "on": "2027-01-30"}
    assert rep.post(collect, pay, content_type=J).status_code == 400
    a = rep.post(collect, pay, content_type=J, HTTP_IDEMPOTENCY_KEY="pay-1")
    b = rep.post(collect, pay, content_type=J, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    assert Installment.objects.get(pk=first).collected_fen == 90_000_00
    detail = rep.get(f"{P}/opportunities/{oid}").json()
    assert [h["to_stage"] for h in detail["history"]] == [
        "development",
        "initiation",
        "proposal",
        "bidding",
        "negotiation",
    ]
    assert [a["state"] for a in detail["approvals"]] == ["approved", "approved", "approved"]
    closed = manager.post(
        f"{P}/opportunities/{oid}/close",
        {"outcome": "won", "reason": "accepted", "summary": "验收"},
        content_type=J,
    )
    assert closed.json()["status"] == "won"
