"""Membership cards: fee by policy (standard, group rate, waiver, first purchase, permanent),
validity in shop days, renewal of an expired card, replacement voiding the old card."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from laoke.core import clock
from laoke.core.models import AuditEntry
from laoke.members.cards import card_number_valid
from laoke.members.models import CardPolicy, MembershipCard
from laoke.members.services import (
    card_policy_activate,
    card_policy_create,
    group_account_create,
    member_create,
    member_forget,
    member_mark_permanent,
    member_view,
    membership_card_issue,
    membership_card_replace,
)

from .helpers import code_of, s2_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 11, 17, 30, tzinfo=UTC)  # 01:30 on 12 November in Shanghai


def test_no_policy_no_card(db):
    m = member_create(name="甲")
    assert code_of(membership_card_issue, member_id=m.pk) == ("CARD_POLICY_MISSING", None)


def test_fee_rules_of_the_s2_preset(db):
    s2_policy()
    plain = member_create(name="丁")
    card = membership_card_issue(member_id=plain.pk, purchase_fen=19_999)  # 1 fen short of the waiver
    assert (card.fee_fen, card.fee_note) == (500, "standard fee")
    assert card_number_valid(card.number)
    waived = membership_card_issue(member_id=member_create(name="戊").pk, purchase_fen=20_000)
    assert waived.fee_fen == 0 and waived.fee_note.startswith("waived")
    group = group_account_create(name="某公司")
    grouped = membership_card_issue(member_id=member_create(name="己", group_account=group).pk)
    assert grouped.fee_fen == 400  # 5.00元 × 80% = 4.00元
    vip = member_create(name="庚")
    member_mark_permanent(member_id=vip.pk, reason="8000 points gift redeemed")
    assert membership_card_issue(member_id=vip.pk).fee_fen == 0
    assert code_of(membership_card_issue, member_id=plain.pk) == ("CARD_ALREADY_ACTIVE", None)
    assert code_of(membership_card_issue, member_id=plain.pk, purchase_fen=-1) == (
        "FIELD_INVALID",
        "purchase_fen",
    )
    row = AuditEntry.objects.get(action="membership_card.issue", object_id=str(card.pk))
    assert row.after["fee_fen"] == 500 and row.after["policy"] == "S2"


def test_group_rate_rounds_half_up_to_the_fen(db):
    card_policy_create(name="odd", fee_fen=333, group_fee_bp=8500, activate=True)
    group = group_account_create(name="某公司")
    card = membership_card_issue(member_id=member_create(name="甲", group_account=group).pk)
    assert card.fee_fen == 283  # 333 × 0.85 = 283.05 → 283


def test_mall_preset_free_with_the_first_receipt(db):
    card_policy_create(name="S3", fee_fen=1000, free_with_first_purchase=True, activate=True)
    first = membership_card_issue(member_id=member_create(name="甲").pk, first_purchase=True)
    later = membership_card_issue(member_id=member_create(name="乙").pk, first_purchase=False)
    assert (first.fee_fen, later.fee_fen) == (0, 1000)


def test_validity_is_counted_in_shop_days_and_zero_means_no_expiry(db):
    s2_policy()
    with clock.frozen(T0):
        card = membership_card_issue(member_id=member_create(name="甲").pk)
    assert card.valid_until == date(2026, 11, 12) + timedelta(days=730)  # from the Shanghai date
    forever = card_policy_create(name="forever", validity_days=0)
    card_policy_activate(policy_id=forever.pk)
    assert membership_card_issue(member_id=member_create(name="乙").pk).valid_until is None


def test_expired_card_is_renewed(db):
    s2_policy()
    m = member_create(name="甲")
    with clock.frozen(T0):
        old = membership_card_issue(member_id=m.pk)
    last_day_late = datetime.combine(old.valid_until, time(23, 30), tzinfo=SHANGHAI)
    with clock.frozen(last_day_late):
        assert code_of(membership_card_issue, member_id=m.pk)[0] == "CARD_ALREADY_ACTIVE"  # still valid
    with clock.frozen(last_day_late + timedelta(hours=1)):  # 00:30 the next shop day
        new = membership_card_issue(member_id=m.pk)
    old.refresh_from_db()
    assert (old.state, old.void_reason) == ("void", "expired")
    assert new.state == "active" and new.fee_fen == 500
    assert (
        AuditEntry.objects.filter(action="membership_card.issue").latest("id").after["renews"] == old.number
    )


def test_replacement_needs_proof_voids_the_old_card_and_keeps_validity(db):
    s2_policy()
    m = member_create(name="甲")
    card = membership_card_issue(member_id=m.pk)
    assert code_of(membership_card_replace, member_id=m.pk)[0] == "CARD_REPLACEMENT_PROOF_REQUIRED"
    assert code_of(membership_card_replace, member_id=m.pk, old_number="800000000003")[0] == (
        "CARD_REPLACEMENT_PROOF_REQUIRED"
    )
    card.refresh_from_db()
    assert card.state == "active"  # a refused replacement changes nothing
    new = membership_card_replace(member_id=m.pk, old_number=f" {card.number} ")
    card.refresh_from_db()
    assert (card.state, card.void_reason) == ("void", "replaced") and card.voided_at is not None
    assert new.replaces_id == card.pk and new.valid_until == card.valid_until
    assert (new.fee_fen, new.fee_note) == (200, "replacement (old card)")
    stub = membership_card_replace(member_id=m.pk, customer_stub=True)
    assert stub.fee_note == "replacement (customer stub)"
    assert MembershipCard.objects.filter(member=m, state="active").get() == stub
    assert MembershipCard.objects.filter(member=m).count() == 3
    assert [c["state"] for c in member_view(viewer=None, member_id=m.pk)["cards"]] == [
        "active",
        "void",
        "void",
    ]


def test_permanent_members_replace_for_free_and_no_card_no_replacement(db):
    s2_policy()
    m = member_create(name="甲")
    assert code_of(membership_card_replace, member_id=m.pk, customer_stub=True)[0] == "CARD_NOT_ACTIVE"
    membership_card_issue(member_id=m.pk)
    member_mark_permanent(member_id=m.pk, reason="8000 points gift redeemed")
    assert membership_card_replace(member_id=m.pk, customer_stub=True).fee_fen == 0


def test_inactive_members_get_no_card(db):
    s2_policy()
    m = member_create(name="甲")
    member_forget(member_id=m.pk, reason="member request")
    assert code_of(membership_card_issue, member_id=m.pk) == ("MEMBER_NOT_ACTIVE", None)


def test_policies(db):
    a = s2_policy()
    b = card_policy_create(name="S3", fee_fen=0, free_with_first_purchase=True)
    assert list(CardPolicy.objects.filter(is_active=True)) == [a]
    card_policy_activate(policy_id=b.pk)
    assert list(CardPolicy.objects.filter(is_active=True)) == [b]
    assert code_of(card_policy_create, name="S3") == ("CARD_POLICY_NAME_TAKEN", "name")
    assert code_of(card_policy_create, name="x", group_fee_bp=10_001) == ("FIELD_INVALID", "group_fee_bp")
    assert code_of(card_policy_create, name="x", fee_fen=-5) == ("FIELD_INVALID", "fee_fen")
    assert code_of(card_policy_create, name="x", waiver_threshold_fen="200") == (
        "FIELD_INVALID",
        "waiver_threshold_fen",
    )
    assert AuditEntry.objects.filter(action="card_policy.activate").count() == 1
