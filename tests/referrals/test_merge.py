"""Member merge (decision 0011): referrals follow the survivor; a referral between the two merged
records would refer the survivor to itself and is rejected instead."""

from __future__ import annotations

import pytest

from laoke.members.models import MergeRecord
from laoke.members.services import member_create, member_merge
from laoke.referrals.models import Referral, ReferralSale
from laoke.referrals.services import referral_register
from tests.referrals.helpers import member, settle

pytestmark = pytest.mark.django_db


def test_the_referrers_referrals_and_the_referred_members_sales_follow_the_survivor(preset, old, new):
    dup_old = member_create(name="老会员(淘宝)")
    referral_register(new_member=new, referrer_ref=old.code)
    b = member("乙", "13900003333")
    referral_register(new_member=b, referrer_ref=old.code)
    settle(b, "O-1", 10_000)
    survivor = member_create(name="乙(门店)")
    member_merge(source_id=old.pk, target_id=dup_old.pk)
    assert set(Referral.objects.values_list("referrer_id", flat=True)) == {dup_old.pk}
    assert MergeRecord.objects.get(source=old).moved["referrals"] == {"as_referrer": 2}
    member_merge(source_id=b.pk, target_id=survivor.pk)
    r = Referral.objects.get(referrer=dup_old, new_member=survivor)
    assert ReferralSale.objects.get().member_id == survivor.pk and r.sales.count() == 1
    moved = MergeRecord.objects.get(source=b).moved["referrals"]
    assert moved == {"as_referred": 1, "sales": 1}


def test_merging_the_referred_member_into_the_referrer_rejects_the_referral(preset, old):
    alt = member_create(name="老会员的小号")  # no mobile, no address: the guard cannot tell
    referral_register(new_member=alt, referrer_ref=old.code)
    member_merge(source_id=alt.pk, target_id=old.pk)
    r = Referral.objects.get()
    assert (r.state, r.reason, r.referrer_id, r.new_member_id) == ("rejected", "merged_self", old.pk, alt.pk)
    assert MergeRecord.objects.get(source=alt).moved["referrals"] == {"rejected_self": 1}
