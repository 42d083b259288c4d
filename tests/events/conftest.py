"""A small shop for events: a store, the points preset, members around the 5,000-point preset,
membership cards, a gift voucher template, a gift item in stock, staff in the roles that matter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from laoke.catalog.services import gift_item_create, gift_stock_adjust
from laoke.core import clock
from laoke.core.services import store_create
from laoke.members.cards import card_policy_create, membership_card_issue
from laoke.members.services import member_create
from laoke.points.presets import points_presets_install
from laoke.points.services import points_adjust
from laoke.promotions.services import coupon_template_create

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 Shanghai, a Monday
EVENT_AT = datetime(2026, 6, 20, 9, 0, tzinfo=UTC)  # 17:00 Shanghai
END = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
POINTS = {"A": 6_000, "B": 5_000, "C": 4_999, "D": 12_000, "E": 0, "F": 5_200}


class World:
    def __init__(self):
        self.store = store_create(code="S1", name="一店")
        self.other_store = store_create(code="S2", name="二店")
        points_presets_install()
        self.members = {}
        for i, (k, pts) in enumerate(POINTS.items()):
            m = member_create(name=f"会员{k}", mobile=f"1380000{i:04d}", birthday=date(1960 + 5 * i, 3, 1))
            if pts:
                points_adjust(member=m, points=pts, reason="seed", key=f"seed:{k}")
            self.members[k] = m
        card_policy_create(name="会员卡", fee_fen=0, activate=True)
        for k in ("A", "C", "E"):
            membership_card_issue(member_id=self.members[k].pk)
        self.voucher = coupon_template_create(
            data={"name": "答谢会礼品券", "kind": "fixed", "amount_off_fen": 2_000, "valid_to": END}
        )
        self.prize_coupon = coupon_template_create(
            data={"name": "会员日满100减30", "kind": "fixed", "amount_off_fen": 3_000, "valid_to": END}
        )
        self.gift = gift_item_create(code="BAG", name="环保购物袋", unit_cost_fen=800)
        gift_stock_adjust(gift=self.gift, store=self.store, delta=10, reason="delivery")

    def window(self):
        return NOW - timedelta(days=1), NOW + timedelta(days=1)


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def world(db, frozen):
    return World()
