"""A small shop with ~30 members built through the real services (registration with consents and
addresses, tags, custom attributes, wallet and points, orders settled at different times with
coupons, a merge, a PIPL deletion, an opt-out of personalisation) for the segment tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from laoke.cards.wallet import wallet_credit
from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.core.services import store_create
from laoke.members.accounts import group_account_create
from laoke.members.merge import member_merge
from laoke.members.privacy import member_forget
from laoke.members.services import member_create, member_lifecycle_set
from laoke.members.tagging import (
    attribute_definition_create,
    member_attribute_set,
    member_tag_add,
    tag_create,
)
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_settle
from laoke.points.services import points_adjust
from laoke.promotions.services import coupon_issue
from laoke.stats.models import MemberStats
from laoke.tiers.models import MemberTier, TierLevel
from tests.orders.conftest import Shop

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ADDRESSES = [
    "浙江省杭州市西湖区文三路1号",
    "上海市浦东新区世纪大道1号",
    "广东省广州市天河区体育西路1号",
    None,
]


def settle(member, *lines, coupon=None, at=None, wallet_fen=0):
    req = CheckoutIn(
        lines=tuple(LineIn(sku=s, quantity=q) for s, q in lines),
        member_id=member.pk,
        coupon_codes=(coupon.code,) if coupon else (),
        wallet_fen=wallet_fen,
    )
    if at is None:
        return order_settle(request=req)
    with clock.frozen(at):
        return order_settle(request=req, now=at)


class World:
    def __init__(self):
        self.shop = Shop()
        mb = category_create(code="mb", name="母婴")
        self.mb_food = category_create(code="mb-food", name="母婴食品", parent=mb)
        self.mb_daily = category_create(code="mb-daily", name="母婴日用", parent=mb)
        self.mb_milk = category_create(code="mb-milk", name="奶粉", parent=self.mb_food)
        product_create(sku="MILK", title="奶粉", list_price_fen=20_000, category=self.mb_milk)
        product_create(sku="DIAPER", title="纸尿裤", list_price_fen=9_000, category=self.mb_daily)
        self.stores = [store_create(code="S1", name="一店"), store_create(code="S2", name="二店")]
        tag_create(name="VIP客户")
        tag_create(name="爱美")
        tag_create(name="孕期", kind="sensitive")
        attribute_definition_create(key="skin", label="肤质", type="choice", choices=["dry", "oily"])
        attribute_definition_create(key="kids", label="孩子数", type="integer")
        attribute_definition_create(key="due", label="预产期", type="date")
        group = group_account_create(name="某公司")
        self.members = []
        for i in range(30):
            birthday = None if i % 4 == 0 else date(1960 + (i * 7) % 50, i % 12 + 1, min(28, i + 1))
            if i == 5:
                birthday = date(2000, 2, 29)
            consents = [{"sms": True}, {"sms": False, "email": True}, {"phone": True}][i % 3]
            m = member_create(
                name=f"会员{i}",
                mobile=None if i == 28 else f"1390000{i:04d}",
                gender=["F", "M", ""][i % 3],
                birthday=birthday,
                address=ADDRESSES[i % 4],
                source=["store", "taobao", "online"][i % 3],
                home_store=self.stores[i % 2] if i % 5 else None,
                group_account=group if i in (4, 9) else None,
                exclude_personalised=i == 7,
                consents=consents,
                registered_at=NOW - timedelta(days=i * 20),
            )
            self.members.append(m)
            if i % 4 == 0:
                member_tag_add(member_id=m.pk, tag_name="VIP客户")
            if i % 5 == 0:
                member_tag_add(member_id=m.pk, tag_name="爱美")
            if i % 3 == 0:
                member_attribute_set(member_id=m.pk, key="skin", value=["dry", "oily"][i % 2])
            if i % 4 == 1:
                member_attribute_set(member_id=m.pk, key="kids", value=i % 3)
            if i % 6 == 2:
                member_attribute_set(member_id=m.pk, key="due", value=date(2026, 1 + (i // 6) % 3, 15))
            if i % 3 == 0:
                wallet_credit(
                    member=m, amount_fen=1_500 if i % 6 == 0 else 30_000, key=f"w:{i}", reason="test.seed"
                )
            if i % 4 == 2:
                points_adjust(member=m, points=100 * i, reason="seed", key=f"p:{i}")
        skus = ["MILK", "DIAPER", "TEE", "TEA", "COAT"]
        for i in range(24):
            m = self.members[i]
            for j in range(i % 4):
                at = NOW - timedelta(days=i * 9 + j * 31, hours=i)
                coupon = None
                if i % 4 == 1 or (i % 4 == 3 and j == 0):
                    with clock.frozen(at - timedelta(hours=1)):
                        coupon = coupon_issue(template=self.shop.fixed, member=m)
                lines = [(skus[(i + j) % 5], 1 + (i % 2))]
                if i % 5 == 0:
                    lines.append(("MILK", 1))
                wallet = 1_000 if (i % 3 == 0 and i % 6 != 0 and j == 0) else 0
                settle(m, *lines, coupon=coupon, at=at, wallet_fen=wallet)
        # model scores (the analytics issue will compute them): a bulk fixture
        for i, m in enumerate(self.members[:20]):
            MemberStats.objects.filter(member=m).update(
                rfm_r=i % 5 + 1 if i % 3 else None,
                rfm_f=(i * 2) % 5 + 1,
                rfm_m=(i * 3) % 5 + 1,
                rfm_segment=["champions", "at_risk", "loyal"][i % 3],
                p_alive=round(i / 20, 3) if i % 4 else None,
                expected_purchases_90d=i / 7,
                clv_fen=i * 5_000,
                recharge_total_fen=i * 1_000 if i % 2 else 0,
                scores_at=NOW,
            )
        member_lifecycle_set(member_id=self.members[3].pk, state="dormant", reason="test")
        top = TierLevel.objects.filter(programme__audience="individual").order_by("-rank").first()
        MemberTier.objects.filter(member__in=self.members[2:6]).update(level=top)
        member_merge(source_id=self.members[28].pk, target_id=self.members[27].pk)
        member_forget(member_id=self.members[29].pk, reason="test")


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def world(db, frozen):
    return World()
