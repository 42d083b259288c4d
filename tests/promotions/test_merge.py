"""A member merge moves the merged member's coupons and per-member counts to the survivor."""

from __future__ import annotations

import pytest

from laoke.members.models import MergeRecord
from laoke.members.services import member_create, member_merge
from laoke.promotions.models import Coupon, CouponMemberCount
from laoke.promotions.services import coupon_issue
from tests.promotions.helpers import template

pytestmark = pytest.mark.django_db


def test_coupons_follow_the_survivor(frozen):
    target = member_create(name="老客", mobile="13800005555")
    source = member_create(name="老客（淘宝）")
    tpl = template(per_member_limit=3)
    coupon_issue(template=tpl, member=source)
    coupon_issue(template=tpl, member=source)
    coupon_issue(template=tpl, member=target)
    member_merge(source_id=source.pk, target_id=target.pk)
    assert Coupon.objects.filter(member=target).count() == 3
    assert not Coupon.objects.filter(member=source).exists()
    assert CouponMemberCount.objects.get(template=tpl, member=target).count == 3
    assert not CouponMemberCount.objects.filter(member=source).exists()
    assert MergeRecord.objects.get(source=source).moved["promotions"] == {"coupons_moved": 2}


def test_nothing_to_move(frozen, member):
    source = member_create(name="老客（导入）")
    member_merge(source_id=source.pk, target_id=member.pk)
    assert MergeRecord.objects.get(source=source).moved["promotions"] == {}
