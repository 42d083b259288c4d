"""Refunds, receipt claims, redemption windows and stock, the permanent-member rule, old-programme
migration, manual adjustments and sign-in — through the services, against the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from laoke.catalog.models import GiftStock
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import ledger_check
from laoke.members.models import Member
from laoke.points import selectors
from laoke.points.models import GiftRedemption, PointsLot, PointsMigrationEntry, ReceiptClaim, SignIn
from laoke.points.rules import EarnLine
from laoke.points.services import (
    _points_earn,
    _points_spend,
    gift_redeem,
    gift_redemption_cancel,
    points_adjust,
    points_migrate,
    points_reverse,
    points_sign_in,
    points_tick,
    programme_update,
    receipt_claim_decide,
    receipt_claim_submit,
)

from .conftest import earn, give, make_member, make_offer


def balance(member) -> int:
    acct = Account.objects.filter(member=member, kind="points").first()
    return acct.balance if acct else 0


def code(fn, **kw) -> str:
    with pytest.raises(DomainError) as exc:
        fn(**kw)
    return exc.value.code


# --- refunds --------------------------------------------------------------------------------------


def _order(member, *, key="o1", spend=0):
    """An order of two lines (100元 and 50元 paid) settled in one transaction, paying ``spend``
    points, as settlement will call it."""
    from django.db import transaction

    with transaction.atomic():
        if spend:
            _points_spend(member=member, key=key, reference=key, points=spend)
        return _points_earn(
            member=member,
            key=key,
            reference=key,
            lines=[EarnLine(ref="a", paid_fen=10_000), EarnLine(ref="b", paid_fen=5_000)],
        )


def test_partial_refunds_add_up_to_the_whole(member):
    _order(member)
    assert balance(member) == 150
    r1 = points_reverse(key="r1", reference="o1", refunds={"a": 3_333})
    # line a: 100 points × 3333/10000 = 33.33 → 33
    assert (r1.points_due, r1.points_reversed, r1.points_unrecovered) == (33, 33, 0)
    r2 = points_reverse(key="r2", reference="o1", refunds={"a": 3_333})
    # cumulative 6666/10000 × 100 = 66.66 → 67 due in total: 34 now
    assert r2.points_reversed == 34
    r3 = points_reverse(key="r3", reference="o1", refunds={"a": 3_334, "b": 5_000})
    assert r3.points_reversed == 33 + 50
    assert balance(member) == 0
    assert code(points_reverse, key="r4", reference="o1", refunds={"b": 1}) == "POINTS_REFUND_EXCEEDS"
    assert ledger_check().ok and selectors.points_lots_check() == []


def test_refund_is_idempotent(member):
    _order(member)
    a = points_reverse(key="r1", reference="o1", refunds={"a": 5_000})
    b = points_reverse(key="r1", reference="o1", refunds={"a": 5_000})
    assert a.pk == b.pk and balance(member) == 100
    assert Transfer.objects.filter(idempotency_key="refund-earn:r1").count() == 1


def test_reversal_after_partial_spend_gives_spent_points_back(member):
    give(member, 200)  # an older lot
    _order(member, key="o2", spend=80)  # pays 80 of the old lot, earns 150
    assert balance(member) == 200 - 80 + 150
    # The member now spends almost everything, including the purchase's own points.
    from laoke.points.services import points_spend

    points_spend(member=member, key="later", reference="x", points=250)
    assert balance(member) == 20
    # Full refund: the 80 spent points come back (a new lot), then 150 earned are taken back;
    # the member holds 20 + 80 = 100, so 100 are taken and 50 cannot be recovered (no negatives).
    r = points_reverse(key="full", reference="o2", refunds={"a": 10_000, "b": 5_000})
    assert (r.points_returned, r.points_reversed, r.points_unrecovered) == (80, 100, 50)
    assert balance(member) == 0
    returned = PointsLot.objects.get(member=member, kind="return")
    assert returned.amount == 80
    assert ledger_check().ok and selectors.points_lots_check() == []


def test_refund_may_go_negative_when_allowed_and_later_points_pay_it_off(member):
    programme_update(data={"allow_negative": True})
    _order(member)
    from laoke.points.services import points_spend

    points_spend(member=member, key="s", reference="x", points=150)
    r = points_reverse(key="full", reference="o1", refunds={"a": 10_000, "b": 5_000})
    assert (r.points_reversed, r.points_unrecovered) == (150, 0)
    assert balance(member) == -150
    deficit = PointsLot.objects.get(member=member, kind="deficit")
    assert deficit.remaining == -150
    earn(member, 20_000)  # 200 points: 150 pay the deficit, 50 remain
    assert balance(member) == 50
    deficit.refresh_from_db()
    assert deficit.remaining == 0
    assert selectors.points_lots_check() == [] and ledger_check().ok


def test_refund_spread_proportionally_over_spent_points(member):
    give(member, 100)
    _order(member, key="o3", spend=90)
    r = points_reverse(key="half", reference="o3", refunds={"a": 5_000, "b": 2_500})
    # half of the order refunded: 45 of the 90 spent points back, 75 of 150 earned taken
    assert (r.points_returned, r.points_reversed) == (45, 75)


# --- receipt claims (补积分) ----------------------------------------------------------------------


def test_claim_approved_once_per_receipt(member, store):
    bought = clock.now() - timedelta(days=2)
    c = receipt_claim_submit(
        member=member, store=store, receipt_no="R-001", paid_fen=8_800, purchased_at=bought
    )
    assert c.status == "pending" and balance(member) == 0
    assert (
        code(
            receipt_claim_submit,
            member=member,
            store=store,
            receipt_no="R-001",
            paid_fen=1,
            purchased_at=bought,
        )
        == "POINTS_CLAIM_DUPLICATE"
    )
    other = make_member()
    assert (
        code(
            receipt_claim_submit,
            member=other,
            store=store,
            receipt_no="R-001",
            paid_fen=1,
            purchased_at=bought,
        )
        == "POINTS_CLAIM_DUPLICATE"
    )
    c = receipt_claim_decide(claim_id=c.pk, approve=True)
    assert c.status == "approved" and c.earning.points == 88 and balance(member) == 88
    assert PointsLot.objects.get(member=member).kind == "claim"
    assert code(receipt_claim_decide, claim_id=c.pk, approve=True) == "POINTS_CLAIM_DECIDED"
    assert balance(member) == 88


def test_rejected_claim_does_not_block_a_corrected_one(member, store):
    bought = clock.now() - timedelta(days=1)
    c = receipt_claim_submit(member=member, store=store, receipt_no="R-9", paid_fen=100, purchased_at=bought)
    receipt_claim_decide(claim_id=c.pk, approve=False, note="金额不符")
    c2 = receipt_claim_submit(
        member=member, store=store, receipt_no="R-9", paid_fen=9_900, purchased_at=bought
    )
    receipt_claim_decide(claim_id=c2.pk, approve=True)
    assert balance(member) == 99
    assert ReceiptClaim.objects.filter(receipt_no="R-9").count() == 2


def test_the_database_refuses_a_second_live_claim(member, store):
    from django.db import IntegrityError, transaction

    now = clock.now()
    ReceiptClaim.objects.create(
        member=member, store=store, receipt_no="X", paid_fen=1, purchased_at=now, submitted_at=now
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ReceiptClaim.objects.create(
            member=member, store=store, receipt_no="X", paid_fen=1, purchased_at=now, submitted_at=now
        )


@pytest.mark.parametrize(
    ("days_ago", "error"),
    [(-1, "POINTS_CLAIM_FUTURE"), (31, "POINTS_CLAIM_TOO_OLD")],
)
def test_claim_time_limits(member, store, days_ago, error):
    at = clock.now() - timedelta(days=days_ago)
    assert (
        code(receipt_claim_submit, member=member, store=store, receipt_no="R", paid_fen=1, purchased_at=at)
        == error
    )
    assert not ReceiptClaim.objects.exists()


# --- redemption: windows, stock, permanent member ------------------------------------------------


def test_redeem_inside_the_window(member, gift_offer):
    give(member, 100)
    r = gift_redeem(member=member, offer=gift_offer, key="k1")
    assert r.points == 80 and balance(member) == 20 and not r.outside_window
    assert GiftStock.objects.get(gift=gift_offer.gift).quantity == 4
    again = gift_redeem(member=member, offer=gift_offer, key="k1")
    assert again.pk == r.pk and balance(member) == 20
    assert AuditEntry.objects.filter(action="points.redeem").count() == 1


@pytest.mark.parametrize(
    ("local_day", "ok"),
    [
        # Shanghai days: 1st 00:00 is the last UTC day of the previous month 16:00.
        (datetime(2026, 5, 31, 16, 0, tzinfo=UTC), True),  # 1 June 00:00 Shanghai
        (datetime(2026, 5, 31, 15, 59, tzinfo=UTC), False),  # 31 May 23:59 Shanghai
        (datetime(2026, 6, 4, 15, 59, tzinfo=UTC), True),  # 4 June 23:59 Shanghai
        (datetime(2026, 6, 4, 16, 0, tzinfo=UTC), False),  # 5 June 00:00 Shanghai
    ],
)
def test_window_edges_in_shop_time(member, gift_offer, local_day, ok):
    give(member, 100)
    with clock.frozen(local_day):
        if ok:
            gift_redeem(member=member, offer=gift_offer, key="k")
        else:
            assert code(gift_redeem, member=member, offer=gift_offer, key="k") == "POINTS_WINDOW_CLOSED"
    assert balance(member) == (20 if ok else 100)


def test_outside_window_needs_the_permission(member, gift_offer, staff):
    give(member, 200)
    clerk = staff("redemption_clerk")
    admin = staff("admin")
    with clock.frozen(datetime(2026, 6, 10, 2, 0, tzinfo=UTC)):
        assert (
            code(gift_redeem, member=member, offer=gift_offer, key="a", actor=clerk, outside_window=True)
            == "POINTS_WINDOW_CLOSED"
        )
        admin = type(admin).objects.get(pk=admin.pk)
        r = gift_redeem(member=member, offer=gift_offer, key="b", actor=admin, outside_window=True)
    assert r.outside_window and r.clerk_id == admin.pk


def test_out_of_stock_keeps_the_points(member, programme, store):
    offer = make_offer(store, 80, stock=0)
    give(member, 100)
    assert code(gift_redeem, member=member, offer=offer, key="k") == "GIFT_OUT_OF_STOCK"
    assert balance(member) == 100 and not GiftRedemption.objects.exists()
    assert selectors.points_lots_check() == []


def test_not_enough_points(member, gift_offer):
    give(member, 79)
    assert code(gift_redeem, member=member, offer=gift_offer, key="k") == "POINTS_INSUFFICIENT"
    assert GiftStock.objects.get(gift=gift_offer.gift).quantity == 5


def test_cancel_gives_points_and_stock_back(member, gift_offer):
    give(member, 80)
    r = gift_redeem(member=member, offer=gift_offer, key="k")
    gift_redemption_cancel(redemption_id=r.pk, reason="退回")
    assert balance(member) == 80 and GiftStock.objects.get(gift=gift_offer.gift).quantity == 5
    assert code(gift_redemption_cancel, redemption_id=r.pk, reason="x") == "POINTS_REDEMPTION_CANCELLED"


def test_eight_thousand_point_gift_makes_a_permanent_member(member, store):
    offer = make_offer(store, 8000, stock=2)
    give(member, 7_999)
    assert code(gift_redeem, member=member, offer=offer, key="k0") == "POINTS_INSUFFICIENT"
    give(member, 1)
    r = gift_redeem(member=member, offer=offer, key="k1")
    member.refresh_from_db()
    assert r.made_permanent and member.is_permanent and member.permanent_since == clock.now()
    give(member, 8_000)
    r2 = gift_redeem(member=member, offer=offer, key="k2")
    assert not r2.made_permanent  # recorded once


def test_smaller_gifts_do_not_make_a_member_permanent(member, gift_offer):
    give(member, 9_000)
    gift_redeem(member=member, offer=gift_offer, key="k")
    member.refresh_from_db()
    assert not member.is_permanent


def test_tick_repairs_a_permanent_flag_left_unset(member, store, monkeypatch):
    from laoke.points import gifts

    offer = make_offer(store, 8000, stock=1)
    give(member, 8_000)
    monkeypatch.setattr(gifts, "_mark_permanent", lambda r: None)  # a crash right after commit
    gift_redeem(member=member, offer=offer, key="k")
    assert not Member.objects.get(pk=member.pk).is_permanent
    assert points_tick(clock.now())["permanent_repaired"] == 1
    assert Member.objects.get(pk=member.pk).is_permanent
    assert points_tick(clock.now())["permanent_repaired"] == 0


# --- migration, adjustment, sign-in -----------------------------------------------------------------


def test_migration_converts_at_ten_to_one_once(member):
    e = points_migrate(code="old2025", mode="convert", member=member, old_points=12_345)
    assert (e.old_points, e.new_points) == (12_345, 1_234) and balance(member) == 1_234
    again = points_migrate(code="old2025", mode="convert", member=member, old_points=12_345)
    assert again.pk == e.pk and balance(member) == 1_234
    assert (
        code(points_migrate, code="old2025", mode="convert", member=member, old_points=99)
        == "POINTS_MIGRATION_CONFLICT"
    )
    assert (
        code(points_migrate, code="other", mode="reset", member=member, old_points=1)
        == "POINTS_MIGRATION_CONFLICT"
    )
    assert PointsLot.objects.get(member=member).kind == "migrate"


def test_migration_reset(member):
    e = points_migrate(code="old-reset", mode="reset", member=member, old_points=5_000)
    assert e.new_points == 0 and balance(member) == 0 and e.transfer is None
    assert (
        code(points_migrate, code="old-reset", mode="convert", member=make_member(), old_points=1)
        == "POINTS_MIGRATION_CONFLICT"
    )
    assert PointsMigrationEntry.objects.count() == 1


def test_adjustment_needs_a_reason_and_is_audited(member, staff):
    user = staff("service_manager")
    assert code(points_adjust, member=member, points=10, reason=" ", key="a") == "POINTS_REASON_REQUIRED"
    assert code(points_adjust, member=member, points=0, reason="x", key="a") == "POINTS_AMOUNT_INVALID"
    points_adjust(member=member, points=50, reason="补偿", key="a", actor=user)
    points_adjust(member=member, points=-20, reason="更正", key="b", actor=user)
    assert balance(member) == 30
    entries = AuditEntry.objects.filter(action="points.adjust").order_by("pk")
    assert [(e.after["points"], e.after["reason"], e.actor_id) for e in entries] == [
        (50, "补偿", user.pk),
        (-20, "更正", user.pk),
    ]
    assert code(points_adjust, member=member, points=-31, reason="x", key="c") == "POINTS_INSUFFICIENT"


def test_sign_in_once_a_shop_day_with_streak_bonus(member):
    start = datetime(2026, 6, 1, 15, 59, tzinfo=UTC)  # 1 June 23:59 Shanghai
    with clock.frozen(start):
        s = points_sign_in(member=member)
        assert (s.day.isoformat(), s.streak, s.points, s.bonus) == ("2026-06-01", 1, 5, 0)
        assert code(points_sign_in, member=member) == "POINTS_SIGNED_IN"
    for i in range(1, 7):  # 2 June 00:00 Shanghai onwards, one sign-in a day
        with clock.frozen(start + timedelta(minutes=1, days=i - 1)):
            s = points_sign_in(member=member)
    assert (s.streak, s.bonus) == (7, 20)
    assert balance(member) == 7 * 5 + 20
    with clock.frozen(start + timedelta(days=8)):  # a day missed
        assert points_sign_in(member=member).streak == 1
    assert SignIn.objects.filter(member=member).count() == 8


def test_catalogue_shows_stock_and_missing_stock(programme, store):
    full = make_offer(store, 80, stock=3)
    empty = make_offer(store, 100, stock=0)
    rows = {o.pk: o.stock for o in selectors.gift_catalogue(store_id=store.pk)}
    assert rows == {full.pk: 3, empty.pk: 0}
    assert [o.pk for o in selectors.gift_catalogue(missing_stock=True)] == [empty.pk]


def test_gift_budget_is_a_share_of_sales(member, store):
    from laoke.catalog.services import gift_item_update

    offer = make_offer(store, 80, stock=5)
    gift_item_update(gift_id=offer.gift_id, data={"unit_cost_fen": 480})
    give(member, 240)
    for k in ("a", "b", "c"):
        gift_redeem(member=member, offer=offer, key=k)
    gift_redemption_cancel(redemption_id=GiftRedemption.objects.get(key="c").pk, reason="退回")
    since, until = clock.now() - timedelta(days=1), clock.now() + timedelta(days=1)
    b = selectors.gift_budget(sales_fen=1_000_000, since=since, until=until, store_id=store.pk)
    # 0.6 % of 10,000元 is 60元; two gifts at 4.80元 cost 9.60元.
    assert (b.budget_fen, b.spent_fen, b.redemptions, b.left_fen) == (6_000, 960, 2, 5_040)


def test_merge_moves_open_lots_with_their_dates(programme, member):
    from laoke.points.services import points_merge, points_spend

    programme_update(data={"expiry_months": 12})
    source = make_member()
    earn(source, 10_000)  # 100
    clock.advance(timedelta(days=3))
    earn(source, 5_000)  # 50
    points_spend(member=source, key="s", reference="o", points=30)  # 70 + 50 left
    earn(member, 2_000)  # the survivor's own 20
    src_lots = list(
        PointsLot.objects.filter(member=source).order_by("pk").values_list("earned_at", "expires_at")
    )
    assert points_merge(source=source, target=member) == 120
    assert balance(source) == 0 and balance(member) == 140
    moved = PointsLot.objects.filter(member=member, transfer__reason="points.merge").order_by("earned_at")
    assert [(lot.amount, lot.earned_at, lot.expires_at) for lot in moved] == [
        (70, *src_lots[0]),
        (50, *src_lots[1]),
    ]
    assert points_merge(source=source, target=member) == 0
    assert selectors.points_lots_check() == [] and ledger_check().ok


def test_member_merge_carries_points_through_the_hook(programme, member):
    from laoke.members.models import MergeRecord
    from laoke.members.services import member_create, member_merge

    source = member_create(name="重复档案")  # no mobile: nothing for the merge to conflict on
    earn(source, 10_000)  # 100
    earn(member, 2_000)  # 20
    member_merge(source_id=source.pk, target_id=member.pk)
    assert balance(source) == 0 and balance(member) == 120
    assert MergeRecord.objects.get(source=source).moved["points"] == {"points_moved": 100}
    assert selectors.points_lots_check() == [] and ledger_check().ok
