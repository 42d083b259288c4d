"""The points API: happy paths through each route, and bad input answered 4xx with its code and
nothing written."""

from __future__ import annotations

import pytest

from laoke.core.models import AuditEntry, IdempotencyRecord
from laoke.ledger.models import Transfer
from laoke.points.models import GiftRedemption, PointsLot, PointsProgramme, ReceiptClaim

from .conftest import give, make_member

P = "/api/v1/points"
J = "application/json"


@pytest.fixture
def manager(api, programme):
    return api("service_manager")


def test_programme_read_and_update(api, programme):
    marketer = api("marketer")
    r = marketer.get(f"{P}/programme")
    assert r.status_code == 200
    body = r.json()
    assert (
        body["points_per_yuan"],
        body["expiry_months"],
        body["window_start_day"],
        body["window_end_day"],
    ) == (
        1,
        None,
        1,
        4,
    )
    assert body["gift_budget_bp"] == 60 and body["permanent_points"] == 8000
    r = marketer.patch(f"{P}/programme", {"expiry_months": 24, "reminder_days": 15}, content_type=J)
    assert r.status_code == 200 and r.json()["expiry_months"] == 24
    r = marketer.patch(f"{P}/programme", {"expiry_months": None}, content_type=J)
    assert r.json()["expiry_months"] is None
    assert AuditEntry.objects.filter(action="points.programme.update").count() == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"expiry_months": 0}, 422, "VALIDATION_ERROR"),
        ({"window_start_day": 5, "window_end_day": 2}, 422, "POINTS_SETTING_INVALID"),
        ({"rounding": "up"}, 422, "VALIDATION_ERROR"),
        ({"signin_streak_bonus": {"x": 1}}, 422, "POINTS_SETTING_INVALID"),
        ({"gift_budget_bp": 10_001}, 422, "VALIDATION_ERROR"),
    ],
)
def test_programme_bad_input(api, programme, body, status, code):
    r = api("marketer").patch(f"{P}/programme", body, content_type=J)
    assert r.status_code == status and r.json()["code"] == code
    assert PointsProgramme.objects.get().window_end_day == 4
    assert not AuditEntry.objects.filter(action="points.programme.update").exists()


def test_adjust_balance_lots_history(manager, member):
    url = f"{P}/members/{member.pk}/adjustments"
    r = manager.post(url, {"points": 120, "reason": "补偿"}, content_type=J, HTTP_IDEMPOTENCY_KEY="a1")
    assert r.status_code == 201 and r.json()["balance"] == 120
    again = manager.post(url, {"points": 120, "reason": "补偿"}, content_type=J, HTTP_IDEMPOTENCY_KEY="a1")
    assert again.json() == r.json()
    r = manager.post(url, {"points": -20, "reason": "更正"}, content_type=J, HTTP_IDEMPOTENCY_KEY="a2")
    assert r.json()["balance"] == 100
    b = manager.get(f"{P}/members/{member.pk}/balance").json()
    assert (b["balance"], b["available"], b["is_permanent"]) == (100, 100, False)
    lots = manager.get(f"{P}/members/{member.pk}/lots").json()
    assert [(lot["kind"], lot["amount"], lot["remaining"]) for lot in lots] == [("adjust", 120, 100)]
    hist = manager.get(f"{P}/members/{member.pk}/history").json()["items"]
    assert [h["points"] for h in hist] == [-20, 120]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"points": 10, "reason": "x"}, {}, 400, "IDEMPOTENCY_KEY_REQUIRED"),
        ({"points": 0, "reason": "x"}, {"HTTP_IDEMPOTENCY_KEY": "k"}, 422, "POINTS_AMOUNT_INVALID"),
        ({"points": 10, "reason": "  "}, {"HTTP_IDEMPOTENCY_KEY": "k"}, 422, "POINTS_REASON_REQUIRED"),
        ({"points": 10}, {"HTTP_IDEMPOTENCY_KEY": "k"}, 422, "VALIDATION_ERROR"),
        ({"points": "ten", "reason": "x"}, {"HTTP_IDEMPOTENCY_KEY": "k"}, 422, "VALIDATION_ERROR"),
        ({"points": -5, "reason": "x"}, {"HTTP_IDEMPOTENCY_KEY": "k"}, 409, "POINTS_INSUFFICIENT"),
    ],
)
def test_adjust_bad_input_writes_nothing(manager, member, body, headers, status, code):
    r = manager.post(f"{P}/members/{member.pk}/adjustments", body, content_type=J, **headers)
    assert r.status_code == status and r.json()["code"] == code
    assert not Transfer.objects.exists() and not PointsLot.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_unknown_member_is_404(manager):
    r = manager.get(f"{P}/members/999999/balance")
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"


def test_service_agent_does_not_see_group_members(api, programme):
    from laoke.members.services import group_account_create

    group = group_account_create(name="公司")
    m = make_member(group_account=group)
    assert api("service_agent").get(f"{P}/members/{m.pk}/balance").status_code == 404
    assert api("service_manager").get(f"{P}/members/{m.pk}/balance").status_code == 200


def test_redeem_through_the_api(api, member, gift_offer):
    give(member, 100)
    clerk = api("redemption_clerk")
    offers = clerk.get(f"{P}/gift-offers").json()
    assert [(o["level_points"], o["level_name"]) for o in offers] == [(80, "一级好礼")]
    body = {"member_id": member.pk, "offer_id": gift_offer.pk}
    r = clerk.post(f"{P}/redemptions", body, content_type=J, HTTP_IDEMPOTENCY_KEY="r1")
    assert r.status_code == 201 and r.json()["points"] == 80
    again = clerk.post(f"{P}/redemptions", body, content_type=J, HTTP_IDEMPOTENCY_KEY="r1")
    assert again.status_code == 201 and again.json() == r.json()
    assert GiftRedemption.objects.count() == 1
    conflict = clerk.post(
        f"{P}/redemptions", {**body, "outside_window": True}, content_type=J, HTTP_IDEMPOTENCY_KEY="r1"
    )
    assert conflict.status_code == 409 and conflict.json()["code"] == "IDEMPOTENCY_CONFLICT"


@pytest.mark.parametrize(
    ("patch", "headers", "status", "code"),
    [
        ({}, {}, 400, "IDEMPOTENCY_KEY_REQUIRED"),
        ({"offer_id": 999999}, {"HTTP_IDEMPOTENCY_KEY": "k"}, 404, "NOT_FOUND"),
        ({"member_id": 999999}, {"HTTP_IDEMPOTENCY_KEY": "k"}, 404, "NOT_FOUND"),
        ({"offer_id": "x"}, {"HTTP_IDEMPOTENCY_KEY": "k"}, 422, "VALIDATION_ERROR"),
    ],
)
def test_redeem_bad_input(api, member, gift_offer, patch, headers, status, code):
    give(member, 100)
    body = {"member_id": member.pk, "offer_id": gift_offer.pk, **patch}
    r = api("redemption_clerk").post(f"{P}/redemptions", body, content_type=J, **headers)
    assert r.status_code == status and r.json()["code"] == code
    assert not GiftRedemption.objects.exists()


def test_redeem_not_enough_points_is_409_and_nothing_moves(api, member, gift_offer):
    give(member, 79)
    before = Transfer.objects.count()
    r = api("redemption_clerk").post(
        f"{P}/redemptions",
        {"member_id": member.pk, "offer_id": gift_offer.pk},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert r.status_code == 409 and r.json()["code"] == "POINTS_INSUFFICIENT"
    assert "79" in r.json()["message"]
    assert Transfer.objects.count() == before and not IdempotencyRecord.objects.exists()


def test_claims_submit_list_decide(api, member, store):
    from laoke.core import clock

    cashier, manager = api("cashier"), api("service_manager")
    body = {
        "member_id": member.pk,
        "store_id": store.pk,
        "receipt_no": "R-1",
        "paid_fen": 12_345,
        "purchased_at": clock.now().isoformat(),
    }
    r = cashier.post(f"{P}/claims", body, content_type=J)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    cid = r.json()["id"]
    dup = cashier.post(f"{P}/claims", body, content_type=J)
    assert dup.status_code == 409 and dup.json()["code"] == "POINTS_CLAIM_DUPLICATE"
    assert [c["id"] for c in manager.get(f"{P}/claims?status=pending").json()["items"]] == [cid]
    no_key = manager.post(f"{P}/claims/{cid}/decide", {"approve": True}, content_type=J)
    assert no_key.status_code == 400
    r = manager.post(f"{P}/claims/{cid}/decide", {"approve": True}, content_type=J, HTTP_IDEMPOTENCY_KEY="d1")
    assert r.status_code == 200 and (r.json()["status"], r.json()["points"]) == ("approved", 123)
    r2 = manager.post(
        f"{P}/claims/{cid}/decide", {"approve": False}, content_type=J, HTTP_IDEMPOTENCY_KEY="d2"
    )
    assert r2.status_code == 409 and r2.json()["code"] == "POINTS_CLAIM_DECIDED"


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"paid_fen": 0}, 422, "VALIDATION_ERROR"),
        ({"receipt_no": ""}, 422, "VALIDATION_ERROR"),
        ({"purchased_at": "yesterday"}, 422, "VALIDATION_ERROR"),
        ({"purchased_at": "2030-01-01T00:00:00+08:00"}, 422, "POINTS_CLAIM_FUTURE"),
        ({"purchased_at": "2020-01-01T00:00:00+08:00"}, 422, "POINTS_CLAIM_TOO_OLD"),
        ({"store_id": 999999}, 404, "NOT_FOUND"),
    ],
)
def test_claim_bad_input(api, member, store, patch, status, code):
    from laoke.core import clock

    body = {
        "member_id": member.pk,
        "store_id": store.pk,
        "receipt_no": "R-1",
        "paid_fen": 100,
        "purchased_at": clock.now().isoformat(),
        **patch,
    }
    r = api("cashier").post(f"{P}/claims", body, content_type=J)
    assert r.status_code == status and r.json()["code"] == code
    assert not ReceiptClaim.objects.exists()


def test_sign_in_and_migration(api, member):
    agent, manager = api("service_agent"), api("service_manager")
    r = agent.post(f"{P}/members/{member.pk}/sign-in", HTTP_IDEMPOTENCY_KEY="s1")
    assert r.status_code == 201 and (r.json()["streak"], r.json()["points"]) == (1, 5)
    r = agent.post(f"{P}/members/{member.pk}/sign-in", HTTP_IDEMPOTENCY_KEY="s2")
    assert r.status_code == 409 and r.json()["code"] == "POINTS_SIGNED_IN"
    body = {"code": "old", "mode": "convert", "old_points": 3_456}
    r = manager.post(f"{P}/members/{member.pk}/migration", body, content_type=J, HTTP_IDEMPOTENCY_KEY="m1")
    assert r.status_code == 201 and r.json()["new_points"] == 345
    bad = manager.post(
        f"{P}/members/{member.pk}/migration",
        {**body, "mode": "half"},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="m2",
    )
    assert bad.status_code == 422
    assert manager.get(f"{P}/members/{member.pk}/balance").json()["balance"] == 350


def test_english_messages(api, member):
    r = api("service_manager", lang="en").post(
        f"{P}/members/{member.pk}/adjustments",
        {"points": 5, "reason": " "},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert r.json()["message"] == "A points adjustment needs a reason"
    r = api("service_manager", lang="zh-hans").post(
        f"{P}/members/{member.pk}/adjustments",
        {"points": 5, "reason": " "},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert r.json()["message"] == "调整积分必须填写原因"


def test_quote_explains_without_writing(api, member):
    from laoke.points.models import PointsEarning

    r = api("cashier", lang="en").post(
        f"{P}/quote",
        {
            "member_id": member.pk,
            "lines": [{"ref": "a", "paid_fen": 1999}, {"ref": "b", "paid_fen": 900, "special_sale": True}],
        },
        content_type=J,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["points"] == 19 and [ln["points"] for ln in body["lines"]] == [19, 0]
    assert body["lines"][0]["text"] == "a: ¥19.99 → 19 point(s) (1 point(s) per yuan)"
    assert body["text"].endswith("Total: 19 point(s)")
    assert not PointsEarning.objects.exists() and not Transfer.objects.exists()


@pytest.mark.parametrize(
    "lines",
    [[], [{"ref": "", "paid_fen": 1}], [{"ref": "a", "paid_fen": -1}], [{"ref": "a", "paid_fen": 1}] * 2],
)
def test_quote_bad_lines(api, programme, lines):
    r = api("cashier").post(f"{P}/quote", {"lines": lines}, content_type=J)
    assert r.status_code == 422 and r.json()["code"] in ("VALIDATION_ERROR", "POINTS_LINE_INVALID")


def test_cancel_a_redemption(api, member, gift_offer):
    give(member, 100)
    r = api("redemption_clerk").post(
        f"{P}/redemptions",
        {"member_id": member.pk, "offer_id": gift_offer.pk},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="r",
    )
    rid = r.json()["id"]
    manager = api("service_manager")
    url = f"{P}/redemptions/{rid}/cancel"
    assert manager.post(url, {"reason": "退回"}, content_type=J).status_code == 400
    assert manager.post(url, {"reason": ""}, content_type=J, HTTP_IDEMPOTENCY_KEY="c").status_code == 422
    ok = manager.post(url, {"reason": "退回"}, content_type=J, HTTP_IDEMPOTENCY_KEY="c")
    assert ok.status_code == 200
    assert manager.get(f"{P}/members/{member.pk}/balance").json()["balance"] == 100
    again = manager.post(url, {"reason": "退回"}, content_type=J, HTTP_IDEMPOTENCY_KEY="c2")
    assert again.status_code == 409 and again.json()["code"] == "POINTS_REDEMPTION_CANCELLED"
