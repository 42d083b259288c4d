"""Seed 001's gift and 满就送 presets through the settlement engine, row by row.

Each row is an order (one dress at a unit price of 99 / 100 / 149.99 / 150 / 299 / 300 / 450元,
the towel 小方巾 in the cart or not, member or not, group purchase or not) and names the rules
it must meet. ``oracle`` writes seed 001 out in plain code, independently of promotions.rules:
items 3/4 (every full 150元 → a towel, 须拍下 不拍不送), 10 (unit price ≥ 300元 → a gift box),
8 (a guarantee card), 6 (≥ 100元 → 3元 coupon, ≥ 150元 → 5元 coupon, the higher one only). The
towel's 10元 list price is the preset's documented default (promotions/presets.py).
"""

from __future__ import annotations

import pytest

from laoke.catalog.models import GiftItem, Product
from laoke.catalog.services import product_create
from laoke.orders.engine import Benefit, Cart, CartLine, Kind, MemberContext, Order, Stage, quote
from laoke.promotions.presets import promotions_presets_install
from laoke.promotions.rule_services import gift_rule_create
from laoke.promotions.rules import RuleLine, full_send_preview, member_prices, order_offers
from tests.promotions.helpers import NOW

pytestmark = pytest.mark.django_db
TOWEL_PRICE = 1_000  # presets.py: GIFT-TOWEL list price 10元


def to_benefit(o) -> Benefit:
    """What orders does with an Offer (the test's own mapping, field for field)."""
    return Benefit(
        code=o.code,
        kind=Kind(o.kind),
        stage=Stage(o.stage),
        amount_fen=o.amount_fen,
        off_bp=o.off_bp,
        threshold_fen=o.threshold_fen,
        cap_fen=o.cap_fen,
        eligible_refs=o.eligible_refs,
        stackable=o.stackable,
        repeat=o.repeat,
        member_only=o.member_only,
        include_special_sale=o.include_special_sale,
        gift_ref=o.gift_ref,
        gift_qty=o.gift_qty,
        label=o.label,
    )


def oracle(price: int, towels: int, member: bool) -> dict:
    """Seed 001 in plain code: towels free, gift boxes, cards, and the 满就送 coupon (yuan)."""
    free_towels = min(price // 15_000, towels)  # 每满150元 送小方巾一条, 须拍下 (the towel line not counted)
    paid = price + towels * TOWEL_PRICE - free_towels * TOWEL_PRICE
    coupon = 5 if paid >= 15_000 else 3 if paid >= 10_000 else 0  # 单笔满100送3元, 满150送5元 (higher)
    return {
        "free_towels": free_towels,
        "gift_box": 1 if price >= 30_000 else 0,  # 单价300元以上的产品送外包装盒
        "card": 1,  # 售后服务保障卡
        "paid": paid,
        "coupon_yuan": coupon if member else 0,  # coupons go to members; no member → nothing
    }


ROWS = [  # name (the rules it meets), unit price fen, towels in cart, member, group purchase
    ("99-card-only", 9_900, 0, True, False),
    ("99-towel-not-earned", 9_900, 1, True, False),
    ("100-fullsend-3", 10_000, 0, True, False),
    ("149.99-no-towel-fullsend-3", 14_999, 1, True, False),
    ("150-towel-fullsend-5", 15_000, 1, True, False),
    ("150-towel-not-in-cart", 15_000, 0, True, False),
    ("150-non-member-towel-no-coupon", 15_000, 1, False, False),
    ("150-group-purchase-towel", 15_000, 1, True, True),
    ("299-one-towel-of-two", 29_900, 2, True, False),
    ("300-two-towels-gift-box", 30_000, 2, True, False),
    ("300-non-member-gift-box", 30_000, 0, False, False),
    ("450-three-towels-gift-box", 45_000, 3, True, False),
    ("450-five-towels-three-free", 45_000, 5, False, False),
    ("450-group-purchase-gift-box", 45_000, 1, False, True),
]


@pytest.fixture
def presets(frozen):
    ids = promotions_presets_install()
    dress = product_create(sku="WD-TEST", title="连衣裙", list_price_fen=45_000)
    return ids, dress


def cart_lines(dress, price: int, towels: int) -> list[RuleLine]:
    lines = [RuleLine("L1", dress.pk, dress.sku, None, price, 1)]
    if towels:
        towel = Product.objects.get(sku="GIFT-TOWEL")
        lines.append(RuleLine("L2", towel.pk, towel.sku, None, TOWEL_PRICE, towels))
    return lines


@pytest.mark.parametrize(("name", "price", "towels", "member", "group"), ROWS, ids=[r[0] for r in ROWS])
def test_seed_001_rules_through_the_engine(presets, name, price, towels, member, group):
    ids, dress = presets
    lines = cart_lines(dress, price, towels)
    offers = order_offers(lines=lines, is_member=member, now=NOW)
    result = quote(
        Order(
            cart=Cart(
                tuple(CartLine(ln.ref, ln.unit_price_fen, ln.quantity, ln.product_id) for ln in lines),
                group_purchase=group,
            ),
            member=MemberContext(is_member=member),
            benefits=tuple(to_benefit(o) for o in offers),
        )
    )
    want = oracle(price, towels, member and not group)
    towel = result.outcome(f"gift:{ids['seed-001-towel']}")
    assert towel.granted == want["free_towels"], name
    assert result.lines[0].discounts == {}, "the dress itself is never discounted by a gift"
    if towels:
        assert result.lines[1].discounts.get(towel.code, 0) == want["free_towels"] * TOWEL_PRICE
    elif price >= 15_000:
        assert [r.code for r in towel.reasons] == ["gift_not_in_cart"]  # 不拍不送
    box_codes = [o.code for o in offers if o.code.startswith(f"gift:{ids['seed-001-giftbox']}")]
    granted_boxes = sum(result.outcome(c).granted for c in box_codes)
    assert granted_boxes == want["gift_box"]
    assert result.outcome(f"gift:{ids['seed-001-card']}").granted == want["card"]
    assert result.goods_net_fen == want["paid"]
    # 满就送 on what was paid; settlement passes no member for a non-member or a group purchase.
    due = full_send_preview(result.goods_net_fen, NOW) if (member and not group) else []
    assert sum(d["amount_off_fen"] for d in due) == want["coupon_yuan"] * 100
    assert len(due) <= 1  # mode highest


def test_towel_gift_ref_none_would_be_a_grant_so_a_missing_towel_is_named(presets):
    """gift_ref=None means a grant outside the cart to the engine; a towel not in the cart must
    be named by a ref that is not a line, or 不拍不送 would be given anyway."""
    ids, dress = presets
    offers = order_offers(lines=cart_lines(dress, 30_000, 0), is_member=True, now=NOW)
    towel = next(o for o in offers if o.code == f"gift:{ids['seed-001-towel']}")
    assert towel.gift_ref == "missing:GIFT-TOWEL" and towel.repeat and towel.threshold_fen == 15_000


def test_members_only_gift_rule(presets):
    _, dress = presets
    scarf = GiftItem.objects.get(code="SCARF-CLIP")
    rule = gift_rule_create(
        data={"code": "vip", "name": "会员礼", "kind": "always", "gift_item": scarf, "members_only": True}
    )
    lines = cart_lines(dress, 10_000, 0)
    assert f"gift:{rule.pk}" not in [o.code for o in order_offers(lines=lines, is_member=False, now=NOW)]
    for group, granted, reasons in [(False, 1, []), (True, 0, ["group_purchase"])]:
        offers = order_offers(lines=lines, is_member=True, now=NOW)
        result = quote(
            Order(
                cart=Cart((CartLine("L1", 10_000, 1),), group_purchase=group),
                member=MemberContext(is_member=True),
                benefits=tuple(to_benefit(o) for o in offers),
            )
        )
        out = result.outcome(f"gift:{rule.pk}")
        assert (out.granted, [r.code for r in out.reasons]) == (granted, reasons)


def test_member_price_makes_a_special_sale_line(presets, frozen):
    from laoke.promotions.rule_services import member_price_create

    _, dress = presets
    member_price_create(data={"product": dress, "price_fen": 39_900})
    prices = member_prices(product_ids=[dress.pk], now=NOW)
    assert prices == {dress.pk: 39_900}
    result = quote(
        Order(
            cart=Cart((CartLine("L1", 45_000, 2, dress.pk, member_price_fen=prices[dress.pk]),)),
            member=MemberContext(is_member=True, price_rate_bp=9_500),
        )
    )
    line = result.lines[0]
    assert line.net_fen == 2 * 39_900  # no 95折 on top: a special-sale line
    assert line.special_sale and not line.earns_points
