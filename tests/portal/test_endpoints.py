"""Each /api/v1/me endpoint's happy path (state made through the real services), and the recharge
brute-force guards of cards applied to the member pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.core import clock

from .conftest import get, make_member, post, signed_in


@pytest.fixture
def member(programme):
    return make_member(name="甲")


@pytest.fixture
def c(member):
    return signed_in(member)


def test_recharge_with_card_and_pin(c, member):
    from tests.cards.helpers import issue

    _, pins = issue(face_value_fen=50_000, count=1)
    ((number, pin),) = pins.items()
    r = post(c, "/recharge", {"card_no": number, "pin": pin})
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    r = post(c, "/recharge", {"card_no": number, "pin": pin}, HTTP_IDEMPOTENCY_KEY="r1")
    assert r.status_code == 200, r.content
    assert r.json()["amount_fen"] == 50_000 and r.json()["paid_fen"] == 50_000
    again = post(c, "/recharge", {"card_no": number, "pin": pin}, HTTP_IDEMPOTENCY_KEY="r1")
    assert again.status_code == 200 and again.json() == r.json()  # the stored answer, no second credit
    me = get(c, "").json()
    assert me["wallet"] == {"paid_fen": 50_000, "bonus_fen": 0, "total_fen": 50_000}
    wallet = get(c, "/wallet").json()
    assert [m["amount"] for m in wallet["history"]] == [50_000]
    from laoke.cards.models import Card

    assert Card.objects.get(number=number).redeemed_channel == "h5"


def test_wrong_pins_lock_the_card_then_the_member_limit_answers_429(c, member):
    from tests.cards.helpers import issue

    _, pins = issue(face_value_fen=10_000, count=3)
    cards = list(pins.items())

    def attempt(number, pin, key):
        return post(c, "/recharge", {"card_no": number, "pin": pin}, HTTP_IDEMPOTENCY_KEY=key)

    bad = lambda pin: "000000" if pin != "000000" else "111111"  # noqa: E731
    codes = [attempt(cards[0][0], bad(cards[0][1]), f"a{i}").json()["code"] for i in range(5)]
    assert codes == ["CARD_CREDENTIALS_INVALID"] * 4 + ["CARD_LOCKED"]
    r = attempt(cards[0][0], cards[0][1], "a-right")  # locked: even the right PIN is refused
    assert r.json()["code"] == "CARD_LOCKED"
    for i in range(5):  # the member's 10 failures an hour (cards' CARD_PIN_FAILURES_PER_MEMBER)
        attempt(cards[1][0], bad(cards[1][1]), f"b{i}")
    r = attempt(cards[2][0], cards[2][1], "c-right")
    assert r.status_code == 429 and r.json()["code"] == "RATE_LIMITED"
    assert get(c, "").json()["wallet"]["total_fen"] == 0


def test_points_lots_and_history(c, member):
    from laoke.points.programme import programme_update
    from tests.points.conftest import give

    programme_update(data={"expiry_months": 12})

    give(member, 300)
    clock.advance(timedelta(days=1))
    give(member, 200)
    p = get(c, "/points").json()
    assert p["balance"] == 500
    assert [lot["remaining"] for lot in p["lots"]] == [300, 200]
    # points earned on 2 June expire at the end of 2 June 2027 (shop time) = 16:00 UTC
    assert [lot["expires_at"][:16] for lot in p["lots"]] == ["2027-06-02T16:00", "2027-06-03T16:00"]
    assert [h["amount"] for h in p["history"]] == [200, 300]


def test_signin_streak_bonus(c, member):
    # preset (seed): 5 points a day, +20 on every 7th consecutive day
    answers = []
    for day in range(7):
        if day:
            clock.advance(timedelta(days=1))
        r = post(c, "/signin")
        assert r.status_code == 201, r.content
        answers.append((r.json()["streak"], r.json()["points"], r.json()["bonus"]))
    assert answers[-1] == (7, 5, 20)
    assert get(c, "").json()["points"]["balance"] == 6 * 5 + 25
    r = post(c, "/signin")
    assert r.status_code >= 400 and r.json()["code"] == "POINTS_SIGNED_IN"


def test_gifts_in_window_and_redeem(c, member):
    from laoke.core.services import store_create
    from tests.points.conftest import give, make_offer

    store = store_create(code="SX1", name="一店")
    offer = make_offer(store, 80, stock=2)
    give(member, 100)
    g = get(c, "/gifts").json()
    assert g["window_open"] is True and g["balance"] == 100
    assert [(o["id"], o["points"], o["in_stock"]) for o in g["offers"]] == [(offer.pk, 80, True)]
    r = post(c, f"/gifts/{offer.pk}/redeem")
    assert r.status_code == 400
    r = post(c, f"/gifts/{offer.pk}/redeem", HTTP_IDEMPOTENCY_KEY="g1")
    assert r.status_code == 201, r.content
    assert post(c, f"/gifts/{offer.pk}/redeem", HTTP_IDEMPOTENCY_KEY="g1").json() == r.json()
    assert get(c, "").json()["points"]["balance"] == 20
    clock.advance(timedelta(days=5))  # 7 June: outside the 1–4 window
    assert get(c, "/gifts").json()["window_open"] is False
    r = post(c, f"/gifts/{offer.pk}/redeem", HTTP_IDEMPOTENCY_KEY="g2")
    assert r.status_code >= 400 and get(c, "").json()["points"]["balance"] == 20


def test_receipt_claim(c, member):
    from laoke.core.services import store_create
    from laoke.points.models import ReceiptClaim

    store = store_create(code="SX2", name="二店")
    body = {
        "store_id": store.pk,
        "receipt_no": "R-1001",
        "paid_fen": 12_300,
        "purchased_at": "2026-06-01T04:00:00Z",
    }
    r = post(c, "/receipts", body)
    assert r.status_code == 201, r.content
    claim = ReceiptClaim.objects.get()
    assert (claim.member_id, claim.paid_fen, claim.status) == (member.pk, 12_300, r.json()["status"])
    assert post(c, "/receipts", {**body, "store_id": 999_999}).status_code == 404


def test_coupons_referral_unsubscribe_agreement_history(c, member):
    from laoke.members.models import Consent
    from laoke.members.services import agreement_publish
    from laoke.promotions.services import coupon_issue, coupon_template_create
    from tests.points.conftest import give

    tpl = coupon_template_create(
        data={
            "name": "满100减10",
            "kind": "fixed",
            "amount_off_fen": 1000,
            "threshold_fen": 10_000,
            "valid_days": 30,
        }
    )
    coupon = coupon_issue(template=tpl, member=member, key="c1")
    coupons = get(c, "/coupons").json()
    assert [(x["code"], x["amount_off_fen"]) for x in coupons] == [(coupon.code, 1000)]
    assert get(c, "").json()["coupons"] == 1

    ref = get(c, "/referral").json()
    assert ref["link"].endswith(f"/m/login/?ref={member.code}")
    assert ref["qr_svg"].startswith("data:image/svg+xml")

    r = post(c, "/unsubscribe", {"channel": "sms"})
    assert r.status_code == 200 and r.json()["state"] == Consent.State.WITHDRAWN
    assert Consent.objects.get(member=member, channel="sms").state == Consent.State.WITHDRAWN
    assert post(c, "/unsubscribe", {"channel": "sensitive_pi"}).status_code == 422

    agreement_publish(version="v1", title="会员协议", body="条款")
    a = get(c, "/agreement").json()
    assert (a["version"], a["accepted"]) == ("v1", False)

    for i in range(3):
        clock.advance(timedelta(minutes=1))
        give(member, 10 + i)
    page1 = get(c, "/history?limit=2").json()
    assert [i["amount"] for i in page1["items"]] == [12, 11]
    page2 = get(c, f"/history?limit=2&cursor={page1['next_cursor']}").json()
    assert [i["amount"] for i in page2["items"]] == [10] and page2["next_cursor"] is None
    assert get(c, "/history?cursor=garbage").status_code == 400


def test_tier_and_progress(c, member):
    from laoke.tiers.services import tier_presets_install

    tier_presets_install(preset="online_shop")
    tier = get(c, "").json()["tier"]
    assert (tier["code"], tier["rank"]) == ("regular", 0)
    nxt = tier["next"]
    assert (nxt["code"], nxt["threshold"]) == ("senior", 200_000)  # 2,000 yuan spent
    assert nxt["value"] == 0 and nxt["missing"] == nxt["threshold"] and nxt["percent"] == 0


def test_summary_query_count_is_pinned(c, member, django_assert_max_num_queries):
    from laoke.tiers.services import tier_presets_install
    from tests.points.conftest import give

    tier_presets_install(preset="online_shop")
    give(member, 50)
    with django_assert_max_num_queries(14):
        r = get(c, "")
    assert r.status_code == 200 and r.json()["points"]["balance"] == 50
