"""Seed presets through the whole quote (tier × coupon × gift × region), one row per rule, every
figure worked out by hand in the row's comment. Postage table (seed 001 preset, ours): normal
courier 10元 ordinary / 25元 remote / 40元 港澳台; SF 22元 ordinary. Products: TEE 120元, COAT
350元, SALE 50元 (special sale), GIFT-TOWEL 10元."""

from __future__ import annotations

from collections import Counter

import pytest

from laoke.orders import services
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.promotions.models import Coupon
from laoke.promotions.presets import promotions_presets_install
from laoke.promotions.services import coupon_issue, coupon_template_create
from laoke.tiers.models import TierLevel
from laoke.tiers.services import tier_grant
from tests.orders.conftest import END

pytestmark = pytest.mark.django_db

# name, who, lines, coupon, courier, province, prefer_gift, group → goods net, postage, towels, boxes, cards
ROWS = [
    # 新客户满150包邮（或小方巾）: 240元×95折 = 228元 + towel 10元×95折 = 9.50元 → 237.50元 ≥ 150元,
    # free shipping chosen, so the towel is not free; guarantee card always.
    (
        "new-150-free, towel not given",
        "new",
        [("TEE", 2), ("GIFT-TOWEL", 1)],
        None,
        "normal",
        "浙江省",
        False,
        False,
        23_750,
        0,
        0,
        0,
        1,
    ),
    # …or the towel instead: the towel line is free (−9.50元), postage stays 10元.
    (
        "new-150 towel instead of free shipping",
        "new",
        [("TEE", 2), ("GIFT-TOWEL", 1)],
        None,
        "normal",
        "浙江省",
        True,
        False,
        22_800,
        1_000,
        1,
        0,
        1,
    ),
    # 老客户包邮 and the towel as well (须拍下): 228元, towel free, postage 0.
    (
        "old-free plus towel",
        "old",
        [("TEE", 2), ("GIFT-TOWEL", 1)],
        None,
        "normal",
        "浙江省",
        False,
        False,
        22_800,
        0,
        1,
        0,
        1,
    ),
    # Remote 新疆, new ≥150元: postage 25元 − 10元 = 15元 (the "minus" reading, default).
    (
        "remote-new-150 minus 10元",
        "new",
        [("TEE", 2)],
        None,
        "normal",
        "新疆",
        False,
        False,
        22_800,
        1_500,
        0,
        0,
        1,
    ),
    # 港澳台 35元 for everyone, a non-member pays list prices: 120元.
    ("hmt-35", None, [("TEE", 1)], None, "normal", "香港", False, False, 12_000, 3_500, 0, 0, 1),
    # Old customer by SF: free normal courier, pays the difference 22元 − 10元 = 12元; 114元 goods.
    (
        "old-free SF pays the difference",
        "old",
        [("TEE", 1)],
        None,
        "sf",
        "浙江省",
        False,
        False,
        11_400,
        1_200,
        0,
        0,
        1,
    ),
    # Gift box for each unit priced ≥ 300元 (2 coats); non-member ≥150元 free shipping.
    (
        "gift box per unit ≥300元",
        None,
        [("COAT", 2)],
        None,
        "normal",
        "浙江省",
        False,
        False,
        70_000,
        0,
        0,
        2,
        1,
    ),
    # VIP 90折 and 满100减10 on the non-sale line: 120元 → 108元 → 98元; sale 50元; 148元 < 150元 → postage 10元.
    (
        "vip 90折 + 满100减10",
        "vip",
        [("TEE", 1), ("SALE", 1)],
        "fixed",
        "normal",
        "浙江省",
        False,
        False,
        14_800,
        1_000,
        0,
        0,
        1,
    ),
    # 20% off capped at 15元: 350元 × 95折 = 332.50元 − 15元 = 317.50元; free shipping (new ≥150元).
    (
        "percent 20% cap 15元",
        "new",
        [("COAT", 1)],
        "percent",
        "normal",
        "浙江省",
        False,
        False,
        31_750,
        0,
        0,
        1,
        1,
    ),
    # 包邮卡 in a remote region: the card's remote reading 25元 − 10元 = 15元 (114元 < 150元, new).
    ("card-remote", "new", [("TEE", 1)], "card", "normal", "新疆", False, False, 11_400, 1_500, 0, 0, 1),
    # 团购: no tier, no coupon, no rules' gifts; shipping rules still apply (240元 ≥ 150元).
    ("group purchase", "new", [("TEE", 2)], "fixed", "normal", "浙江省", False, True, 24_000, 0, 0, 0, 0),
]


@pytest.fixture
def world(shop, django_user_model):
    rules = promotions_presets_install()
    boss = django_user_model.objects.create_superuser("boss", password="x")
    templates = {
        "fixed": shop.fixed,
        "percent": coupon_template_create(
            data={
                "name": "八折封顶15元",
                "kind": "percent",
                "rate_off_bp": 2_000,
                "cap_fen": 1_500,
                "valid_to": END,
            }
        ),
        "card": coupon_template_create(data={"name": "包邮卡", "kind": "free_shipping", "valid_to": END}),
    }
    n = iter(range(100))

    def who(kind):
        if kind is None:
            return None
        m = shop.member(f"1370000{next(n):04d}", wallet_fen=0, points=0)
        if kind == "old":  # one earlier order makes an old customer (seed 001: ≥ 1 order)
            services.order_settle(request=CheckoutIn(lines=(LineIn(sku="SALE", quantity=1),), member_id=m.pk))
        if kind == "vip":
            tier_grant(member=m, level=TierLevel.objects.get(code="vip"), reason="table", actor=boss)
        return m

    return rules, templates, who


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_seed_presets_row(world, row):
    rules, templates, who = world
    _name, kind, lines, coupon, courier, province, prefer_gift, group, net, postage, towels, boxes, cards = (
        row
    )
    m = who(kind)
    codes = (coupon_issue(template=templates[coupon], member=m).code,) if coupon else ()
    q = services.order_quote(
        request=CheckoutIn(
            lines=tuple(LineIn(sku=s, quantity=k) for s, k in lines),
            member_id=m.pk if m else None,
            coupon_codes=codes,
            courier=courier,
            province=province,
            prefer_gift=prefer_gift,
            group_purchase=group,
        )
    )
    r = q.result
    granted = Counter()
    for stage in r.stages:
        for o in stage.outcomes:
            for rule_code, pk in rules.items():
                if o.code == f"gift:{pk}" or o.code.startswith(f"gift:{pk}:"):
                    granted[rule_code] += o.granted
    assert (r.goods_net_fen, r.shipping.net_fen) == (net, postage), r.text()
    assert (granted["seed-001-towel"], granted["seed-001-giftbox"], granted["seed-001-card"]) == (
        towels,
        boxes,
        cards,
    )


def test_card_kept_when_old_customer_free_shipping_already_applies(world, shop):
    _rules, templates, who = world
    m = who("old")
    card = coupon_issue(template=templates["card"], member=m)
    order = services.order_settle(
        request=CheckoutIn(
            lines=(LineIn(sku="TEE", quantity=1),),
            member_id=m.pk,
            coupon_codes=(card.code,),
            courier="normal",
            province="浙江省",
        )
    )
    assert order.postage_net_fen == 0
    assert Coupon.objects.get(pk=card.pk).state == "issued"  # the rule won the tie: the card is kept


def test_full_send_highest_tier_only_issued_at_settlement_and_revoked_by_refund(world, shop):
    _rules, _templates, who = world
    m = who("new")
    order = services.order_settle(request=CheckoutIn(lines=(LineIn(sku="TEE", quantity=2),), member_id=m.pk))
    got = list(
        Coupon.objects.filter(member=m, template__name__startswith="满就送").values_list(
            "template__name", "state"
        )
    )
    assert got == [("满就送 5元券", "issued")]  # 228元 ≥ 150元: the 5元 coupon only ("highest")
    services.order_refund(order_id=order.pk, key="all")
    assert list(
        Coupon.objects.filter(member=m, template__name__startswith="满就送").values_list("state", flat=True)
    ) == ["voided"]
