"""The settlement hooks: one query for a member nobody referred; the first-paid-order reward;
the S2 subsidy into the referrer's wallet and its reversal on a full refund (never below zero,
the shortfall recorded); replays change nothing; the ledger stays balanced."""

from __future__ import annotations

import pytest
from django.db import transaction

from laoke.cards.wallet import wallet_account, wallet_close, wallet_debit
from laoke.catalog.services import category_create, product_create
from laoke.core.errors import DomainError
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import ledger_check
from laoke.promotions.models import Coupon
from laoke.promotions.services import _coupon_redeem
from laoke.referrals.models import Referral, ReferralSale, ReferralSubsidy
from laoke.referrals.services import (
    _referral_order_paid,
    referral_programme_update,
    referral_register,
    subsidy_rule_save,
)
from tests.referrals.helpers import NOW, refund, refund_hook_again, settle

pytestmark = pytest.mark.django_db


def balance(member) -> int:
    return Account.objects.get(pk=wallet_account(member).pk).balance


@pytest.fixture
def first_order(preset):
    return referral_programme_update(data={"trigger": "first_paid_order"})


@pytest.fixture
def catalog(frozen):
    cars = category_create(code="CAR", name="整车")
    suv = category_create(code="SUV", name="SUV", parent=cars)
    return {
        "sedan": product_create(sku="SEDAN", title="轿车", list_price_fen=12_000_000),
        "suv": product_create(sku="SUV-1", title="SUV", list_price_fen=20_000_000, category=suv),
        "mat": product_create(sku="MAT", title="脚垫", list_price_fen=30_000),
    }


def test_a_member_nobody_referred_costs_one_query(preset, new, django_assert_num_queries):
    with transaction.atomic():
        with django_assert_num_queries(1):
            _referral_order_paid(
                member=new, order_ref="O-1", paid_fen=10_000, lines=[(None, 1, 10_000)], now=NOW
            )


def test_first_paid_order_trigger_rewards_once(first_order, old, new):
    r = referral_register(new_member=new, referrer_ref=old.code)
    assert (r.state, r.trigger, r.referrer_coupon_id) == ("pending", "first_paid_order", None)
    assert not Coupon.objects.exists()
    settle(new, "O-0", 0)  # nothing paid (fully discounted): no reward yet
    assert Referral.objects.get().state == "pending"
    settle(new, "O-1", 19_900)
    r.refresh_from_db()
    assert (r.state, r.reward_order_ref) == ("rewarded", "O-1")
    assert {c.member_id for c in Coupon.objects.all()} == {old.pk, new.pk}
    settle(new, "O-1", 19_900)  # replay
    settle(new, "O-2", 5_000)
    assert Coupon.objects.count() == 2
    assert Referral.objects.get().reward_order_ref == "O-1"
    assert list(ReferralSale.objects.order_by("order_ref").values_list("order_ref", "amount_fen")) == [
        ("O-0", 0),
        ("O-1", 19_900),
        ("O-2", 5_000),
    ]


def test_a_pending_referral_keeps_its_trigger_when_the_programme_changes(first_order, old, new):
    referral_register(new_member=new, referrer_ref=old.code)
    referral_programme_update(data={"trigger": "registration"})
    assert Referral.objects.get().state == "pending"
    settle(new, "O-1", 10_000)
    assert Referral.objects.get().state == "rewarded"


def test_a_reward_that_cannot_be_issued_does_not_stop_the_order(first_order, old, new):
    referral_register(new_member=new, referrer_ref=old.code)
    tpl = first_order.referrer_template
    from laoke.promotions.services import coupon_template_update

    coupon_template_update(template_id=tpl.pk, data={"is_active": False})
    settle(new, "O-1", 10_000)  # no exception: the order settles
    r = Referral.objects.get()
    assert (r.state, r.reason) == ("pending", "COUPON_TEMPLATE_INACTIVE")
    assert not Coupon.objects.exists() and ReferralSale.objects.filter(order_ref="O-1").exists()
    coupon_template_update(template_id=tpl.pk, data={"is_active": True})
    settle(new, "O-2", 10_000)  # the next paid order tries again
    r.refresh_from_db()
    assert (r.state, r.reward_order_ref, r.reason) == ("rewarded", "O-2", "")


def test_full_refund_of_the_rewarding_order_voids_unused_rewards(first_order, old, new):
    referral_register(new_member=new, referrer_ref=old.code)
    settle(new, "O-1", 10_000)
    r = Referral.objects.get()
    with transaction.atomic():  # the referrer already used theirs on an order of their own
        _coupon_redeem(coupon=r.referrer_coupon, member=old, order_ref="OLD-9", now=NOW)
    refund(new, "O-1", 1_000, fully=False)  # partial: nothing changes
    assert Referral.objects.get().state == "rewarded"
    refund(new, "O-1", 9_000)  # the rest: the order is fully refunded
    refund_hook_again("O-1")  # replay
    r.refresh_from_db()
    assert (r.state, r.reason) == ("rejected", "order_refunded")
    assert Coupon.objects.get(pk=r.new_member_coupon_id).state == "voided"
    assert Coupon.objects.get(pk=r.referrer_coupon_id).state == "redeemed"
    settle(new, "O-2", 10_000)  # a refunded first order earns nothing later either
    assert Coupon.objects.count() == 2 and Referral.objects.get().state == "rejected"


def test_refund_at_registration_trigger_keeps_the_rewards(preset, old, new):
    referral_register(new_member=new, referrer_ref=old.code)
    settle(new, "O-1", 10_000)
    refund(new, "O-1", 10_000)
    assert Referral.objects.get().state == "rewarded"
    assert set(Coupon.objects.values_list("state", flat=True)) == {"issued"}
    assert ReferralSale.objects.get(order_ref="O-1").refund_month is not None


def test_subsidy_by_product_and_category_into_the_referrers_wallet(preset, old, new, catalog):
    subsidy_rule_save(product=catalog["sedan"], amount_fen=100_000)
    cars = catalog["suv"].category.parent
    subsidy_rule_save(category=cars, amount_fen=200_000)  # the SUV's parent category
    subsidy_rule_save(product=catalog["suv"], amount_fen=150_000)  # the product's own rule wins
    referral_register(new_member=new, referrer_ref=old.code)
    lines = [
        (catalog["sedan"].pk, 1, 11_000_000),
        (catalog["sedan"].pk, 1, 11_000_000),  # the same product on two lines: one row, 2 units
        (catalog["suv"].pk, 1, 19_000_000),
        (catalog["mat"].pk, 3, 90_000),  # not in the table
        (None, 1, 1_000),  # a line without a product
    ]
    settle(new, "O-CAR", 41_091_000, lines)
    rows = {s.product_id: s for s in ReferralSubsidy.objects.all()}
    assert {pid: (s.quantity, s.amount_fen, s.state) for pid, s in rows.items()} == {
        catalog["sedan"].pk: (2, 200_000, "paid"),
        catalog["suv"].pk: (1, 150_000, "paid"),
    }
    assert balance(old) == 350_000 and balance(new) == 0
    t = Transfer.objects.get(pk=rows[catalog["sedan"].pk].transfer_id)
    assert (t.debit.code, t.idempotency_key) == (
        "marketing_expense",
        f"referral-subsidy:O-CAR:{catalog['sedan'].pk}",
    )
    settle(new, "O-CAR", 41_091_000, lines)  # replay
    assert ReferralSubsidy.objects.count() == 2 and balance(old) == 350_000
    assert ledger_check().ok


def test_category_rule_applies_when_the_product_has_none(preset, old, new, catalog):
    subsidy_rule_save(category=catalog["suv"].category.parent, amount_fen=80_000)
    referral_register(new_member=new, referrer_ref=old.code)
    settle(new, "O-1", 19_000_000, [(catalog["suv"].pk, 1, 19_000_000), (catalog["sedan"].pk, 1, 1)])
    assert list(ReferralSubsidy.objects.values_list("product_id", "amount_fen")) == [
        (catalog["suv"].pk, 80_000)
    ]


def test_subsidy_reversal_takes_back_what_is_left_and_records_the_shortfall(preset, old, new, catalog):
    subsidy_rule_save(product=catalog["sedan"], amount_fen=100_000)
    subsidy_rule_save(product=catalog["suv"], amount_fen=60_000)
    referral_register(new_member=new, referrer_ref=old.code)
    settle(new, "O-1", 31_000_000, [(catalog["sedan"].pk, 1, 12_000_000), (catalog["suv"].pk, 1, 19_000_000)])
    assert balance(old) == 160_000
    wallet_debit(member=old, amount_fen=130_000, key="spent", reason="order")  # spent most of it
    refund(new, "O-1", 31_000_000)
    refund_hook_again("O-1")  # replay
    rows = {s.product_id: s for s in ReferralSubsidy.objects.all()}
    sedan, suv = rows[catalog["sedan"].pk], rows[catalog["suv"].pk]
    # Reversed in row order: the sedan's 1,000元 takes the 300元 left; nothing is left for the SUV.
    assert (sedan.state, sedan.reversed_fen, sedan.shortfall_fen) == ("reversed", 30_000, 70_000)
    assert (suv.state, suv.reversed_fen, suv.shortfall_fen, suv.reversal_id) == ("reversed", 0, 60_000, None)
    assert balance(old) == 0
    assert Transfer.objects.get(pk=sedan.reversal_id).reverses_id == sedan.transfer_id
    assert ledger_check().ok


def test_subsidy_reversal_in_full_when_unspent(preset, old, new, catalog):
    subsidy_rule_save(product=catalog["sedan"], amount_fen=100_000)
    referral_register(new_member=new, referrer_ref=old.code)
    settle(new, "O-1", 12_000_000, [(catalog["sedan"].pk, 1, 12_000_000)])
    refund(new, "O-1", 12_000_000)
    s = ReferralSubsidy.objects.get()
    assert (s.state, s.reversed_fen, s.shortfall_fen) == ("reversed", 100_000, 0)
    assert balance(old) == 0 and ledger_check().ok


def test_a_closed_wallet_makes_the_subsidy_payable(preset, old, new, catalog):
    subsidy_rule_save(product=catalog["sedan"], amount_fen=100_000)
    referral_register(new_member=new, referrer_ref=old.code)
    wallet_close(
        member=old,
        confirm_name=old.name,
        confirm_mobile="13800001111",
        confirm_account=old.code,
        policy="refund",
        confirmed_via="in_person",
    )
    settle(new, "O-1", 12_000_000, [(catalog["sedan"].pk, 1, 12_000_000)])
    s = ReferralSubsidy.objects.get()
    assert (s.state, s.transfer_id) == ("payable", None)
    refund(new, "O-1", 12_000_000)
    s.refresh_from_db()
    assert (s.state, s.reversed_fen, s.shortfall_fen) == ("reversed", 0, 0)


def test_inactive_programme_pays_no_subsidy_but_counts_the_sale(preset, old, new, catalog):
    subsidy_rule_save(product=catalog["sedan"], amount_fen=100_000)
    referral_register(new_member=new, referrer_ref=old.code)
    referral_programme_update(data={"is_active": False})
    settle(new, "O-1", 12_000_000, [(catalog["sedan"].pk, 1, 12_000_000)])
    assert not ReferralSubsidy.objects.exists() and ReferralSale.objects.count() == 1


@pytest.mark.parametrize("amount", [49_999, 200_001, 0])
def test_subsidy_amounts_are_500_to_2000_yuan(frozen, catalog, amount):
    with pytest.raises(DomainError) as exc:
        subsidy_rule_save(product=catalog["sedan"], amount_fen=amount)
    assert (exc.value.code, exc.value.field) == ("REFERRAL_SETTINGS_INVALID", "amount_fen")


def test_a_subsidy_rule_names_a_product_or_a_category(frozen, catalog):
    for kw in ({}, {"product": catalog["suv"], "category": catalog["suv"].category}):
        with pytest.raises(DomainError):
            subsidy_rule_save(amount_fen=100_000, **kw)
    first = subsidy_rule_save(product=catalog["suv"], amount_fen=100_000)
    again = subsidy_rule_save(product=catalog["suv"], amount_fen=120_000)
    assert again.pk == first.pk and again.amount_fen == 120_000


def test_query_count_of_a_referred_members_order_is_pinned(
    preset, old, new, catalog, django_assert_num_queries
):
    referral_register(new_member=new, referrer_ref=old.code)
    lines = [(catalog["sedan"].pk, 1, 100), (catalog["mat"].pk, 2, 200)]
    # referral, sale insert, programme, product rules, category rules (none: stop)
    with transaction.atomic(), django_assert_num_queries(5):
        _referral_order_paid(member=new, order_ref="O-1", paid_fen=300, lines=lines, now=NOW)
