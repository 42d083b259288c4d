"""A small shop: catalogue, the seed presets (online-shop tiers 95折…, points 1/元, seed-001
shipping), a member with money in the wallet and points, and coupon templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from laoke.cards.services import cards_presets_install
from laoke.cards.wallet import wallet_credit
from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.members.services import member_create
from laoke.points.presets import points_presets_install
from laoke.points.services import points_adjust
from laoke.promotions.services import coupon_issue, coupon_template_create
from laoke.shipping.presets import shipping_presets_install
from laoke.tiers.presets import tier_presets_install

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
END = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


class Shop:
    def __init__(self):
        self.apparel = category_create(code="apparel", name="服装")
        self.food = category_create(code="food", name="食品")
        self.tee = product_create(sku="TEE", title="T恤", list_price_fen=12_000, category=self.apparel)
        self.coat = product_create(sku="COAT", title="大衣", list_price_fen=35_000, category=self.apparel)
        self.sale = product_create(
            sku="SALE", title="特价袜", list_price_fen=5_000, category=self.apparel, is_special_sale=True
        )
        self.tea = product_create(
            sku="TEA", title="茶叶", list_price_fen=8_000, category=self.food, returnable=False
        )
        tier_presets_install(preset="online_shop")
        points_presets_install()
        cards_presets_install()
        shipping_presets_install(preset="seed_001")
        self.fixed = coupon_template_create(
            data={
                "name": "满100减10",
                "kind": "fixed",
                "threshold_fen": 10_000,
                "amount_off_fen": 1_000,
                "valid_to": END,
            }
        )
        self.big = coupon_template_create(
            data={
                "name": "立减100",
                "kind": "fixed",
                "amount_off_fen": 10_000,
                "valid_to": END,
                "stackable": True,
            }
        )

    def member(self, mobile="13800001111", *, wallet_fen=20_000, points=500):
        m = member_create(name="老客", mobile=mobile)
        if wallet_fen:
            wallet_credit(member=m, amount_fen=wallet_fen, key=f"seed-wallet:{mobile}", reason="test.seed")
        if points:
            points_adjust(member=m, points=points, reason="test seed", key=f"seed-points:{mobile}")
        return m

    def coupon(self, member, template=None):
        return coupon_issue(template=template or self.fixed, member=member)


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def shop(db, frozen):
    return Shop()
