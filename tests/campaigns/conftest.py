"""A shop with members tagged as Double-11 new customers, an SMS template with an offer, and two
staff users (a campaign is approved by someone other than its creator)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from laoke.channels.services import message_template_create
from laoke.core import clock
from laoke.members.services import consent_set, member_create
from laoke.members.tagging import member_tag_add, tag_create
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_settle
from laoke.promotions.services import coupon_template_create
from laoke.segments.services import segment_create
from tests.orders.conftest import Shop

T0 = datetime(2026, 11, 12, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the day after Double-11
END = datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
THANKS = "{name}您好，感谢您双11的惠顾！送您{coupon_amount}元券{coupon_code}，{coupon_expiry}前有效。回T退订"


class CampaignShop(Shop):
    def __init__(self):
        super().__init__()
        User = get_user_model()
        self.marketer = User.objects.create_user("marketer", password="x")
        self.manager = User.objects.create_user("manager", password="x")
        tag_create(name="双11新客")
        self.sms = message_template_create(
            name="双11感谢", channel="sms", kind="marketing", signature="老客商城", body=THANKS
        )
        self.offer = coupon_template_create(
            data={
                "name": "回购券10元",
                "kind": "fixed",
                "amount_off_fen": 1_000,
                "valid_days": 10,
                "valid_to": END,
            }
        )
        self.segment = segment_create(
            name="双11新客", rule={"all": [{"field": "tags", "op": "any", "value": ["双11新客"]}]}
        )
        self._n = 0

    def customers(self, n: int, *, consent: bool = True, tagged: bool = True) -> list:
        out = []
        for _ in range(n):
            self._n += 1
            m = member_create(name=f"顾客{self._n}", mobile=f"1370000{self._n:04d}")
            if consent:
                consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
            if tagged:
                member_tag_add(member_id=m.pk, tag_name="双11新客")
            out.append(m)
        return out

    def buy(self, member, at: datetime, sku: str = "TEE", coupons: tuple[str, ...] = ()):
        with clock.frozen(at):
            return order_settle(
                request=CheckoutIn(
                    lines=(LineIn(sku=sku, quantity=1),), member_id=member.pk, coupon_codes=coupons
                ),
                now=at,
            )


@pytest.fixture
def cshop(db, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    with clock.frozen(T0):
        yield CampaignShop()
