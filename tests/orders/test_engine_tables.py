"""Settlement engine, table tests: seed presets priced by hand (expected figures worked out in the
comments, not by the engine's helpers). No database."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from laoke.orders.engine import (
    SHIPPING_REF,
    Benefit,
    Cart,
    CartLine,
    Kind,
    MemberContext,
    Order,
    PaymentRequest,
    ShippingQuote,
    Stage,
    quote,
    refund_split,
)

MEMBER95 = MemberContext(is_member=True, price_rate_bp=9500, tier_code="gold")
NON_MEMBER = MemberContext()


def codes(reasons):
    return [r.code for r in reasons]


def line_reasons(result, ref):
    ln = next(x for x in result.lines if x.ref == ref)
    return [(s, r.code) for s, r in ln.reasons]


def test_tier_95_discount_is_rounded_half_up_per_line():
    cart = Cart((CartLine("a", 1999, 1), CartLine("b", 1000, 3), CartLine("c", 10, 1)))
    r = quote(Order(cart, MEMBER95))
    # a: 1999 × 5% = 99.95 → 100; b: 3000 × 5% = 150; c: 10 × 5% = 0.5 → 1 (half-up)
    assert [ln.discounts.get("tier", 0) for ln in r.lines] == [100, 150, 1]
    assert r.stage("tier").discount_fen == 251
    assert r.total_fen == 5009 - 251 == 4758
    assert [ln.net_fen for ln in r.lines] == [1899, 2850, 9]


def test_non_member_gets_no_tier_and_no_member_price():
    cart = Cart((CartLine("a", 5000, 1, member_price_fen=3900),))
    r = quote(Order(cart, MemberContext(is_member=False, price_rate_bp=9000)))
    assert r.total_fen == 5000
    assert ("member_price", "not_member") in line_reasons(r, "a")
    assert codes(r.outcome("tier").reasons) == ["not_member"]
    assert r.earn_lines() == []


def test_full_reduction_threshold_is_tested_on_the_stage_input():
    # 满100减10 on a 102元 cart: a non-member pays 92元; a 95折 member's coupon stage sees
    # 102 × 0.95 = 96.90元 < 100元, so the coupon does not apply (and says why).
    cart = Cart((CartLine("a", 10200, 1),))
    coupon = Benefit("c100-10", Kind.AMOUNT_OFF, amount_fen=1000, threshold_fen=10000)
    plain = quote(Order(cart, NON_MEMBER, (coupon,)))
    assert plain.total_fen == 9200
    assert plain.outcome("c100-10").applied
    member = quote(Order(cart, MEMBER95, (coupon,)))
    assert member.total_fen == 9690
    (why,) = member.outcome("c100-10").reasons
    assert why.code == "threshold_not_met"
    assert dict(why.params) == {"threshold": 10000, "base": 9690}


def test_repeat_full_reduction_every_full_threshold():
    # 每满100减10 on 350元 → 3 × 10元
    cart = Cart((CartLine("a", 35000, 1),))
    b = Benefit("each100", Kind.AMOUNT_OFF, amount_fen=1000, threshold_fen=10000, repeat=True)
    assert quote(Order(cart, NON_MEMBER, (b,))).total_fen == 32000


def test_percentage_with_cap_is_split_by_largest_remainder():
    # 20% off, capped at 30元: lines 120元 and 70.01元 → 24 + 14.00 = 38元 raw → capped at 30元,
    # split over the lines' amounts: 3000 × 12000/19001 = 1894.64 and 3000 × 7001/19001 = 1105.36
    # fen → 1894 + 1105, the spare fen to the larger remainder (a).
    cart = Cart((CartLine("a", 12000, 1), CartLine("b", 7001, 1)))
    b = Benefit("pct20", Kind.RATE_OFF, off_bp=2000, cap_fen=3000)
    r = quote(Order(cart, NON_MEMBER, (b,)))
    assert r.lines[0].reasons == []
    o = r.outcome("pct20")
    assert o.amount_fen == 3000
    assert o.allocations == {"a": 1895, "b": 1105}
    assert codes(o.reasons) == ["capped"]
    assert r.total_fen == 19001 - 3000


def test_amount_off_split_over_lines_by_largest_remainder():
    # 10元 over three lines of 1元 each: 333 + 333 + 333 = 999, the spare fen to the first line
    # (equal remainders: the earlier line).
    cart = Cart((CartLine("a", 100, 1), CartLine("b", 100, 1), CartLine("c", 100, 1)))
    b = Benefit("c1", Kind.AMOUNT_OFF, amount_fen=100)
    assert quote(Order(cart, NON_MEMBER, (b,))).outcome("c1").allocations == {"a": 34, "b": 33, "c": 33}


def test_special_sale_lines_are_excluded_from_tier_coupons_and_points():
    cart = Cart((CartLine("n", 10000, 1), CartLine("s", 10000, 1, special_sale=True)))
    coupon = Benefit("c10", Kind.RATE_OFF, off_bp=1000)
    pay = PaymentRequest(points_available=100_000, points_asked=100_000)
    r = quote(Order(cart, MEMBER95, (coupon,), payment=pay))
    n, s = r.lines
    assert n.discounts == {"tier": 500, "c10": 950}  # 100 × 5%, then 95 × 10%
    with translation.override("en"):
        assert n.text() == "n × 1: ¥100.00 − tier ¥5.00 − c10 ¥9.50 = ¥85.50"
        assert (
            r.text().splitlines()[-1] == "total ¥185.50; points 8500 (¥85.00), wallet ¥0.00, to pay ¥100.50"
        )
    assert s.discounts == {}
    assert ("tier", "special_sale") in line_reasons(r, "s")
    # points pay for the normal line only (85.50元 → 85 whole units of 1元 = 8,500 points)
    assert (n.points_used, n.points_fen, s.points_used) == (8500, 8500, 0)
    assert codes(r.outcome("points").reasons) == ["points_capped"]
    assert [e["special_sale"] for e in r.earn_lines()] == [False, True]
    assert line_reasons(r, "s") == [
        ("tier", "special_sale"),
        ("coupons", "special_sale"),
        ("payment", "special_sale"),
    ]
    assert dict(s.reasons[1][1].params) == {"benefit": "c10"}


def test_member_special_price_members_only_and_then_a_special_sale_line():
    cart = Cart((CartLine("m", 5000, 2, member_price_fen=3900),))
    r = quote(Order(cart, MEMBER95))
    (ln,) = r.lines
    assert ln.discounts == {"member_price": 2200}  # (50 − 39) × 2; no tier on a 会员特价 line
    assert ln.special_sale and not ln.earns_points
    assert r.total_fen == 7800


def test_group_purchase_gets_no_member_benefits():
    cart = Cart((CartLine("a", 10000, 1, member_price_fen=8000),), group_purchase=True)
    member_coupon = Benefit("vip", Kind.AMOUNT_OFF, amount_fen=500, member_only=True)
    shop_coupon = Benefit("all", Kind.AMOUNT_OFF, amount_fen=300)
    pay = PaymentRequest(
        points_available=5000, points_asked=5000, wallet_available_fen=2000, wallet_asked_fen=2000
    )
    r = quote(Order(cart, MEMBER95, (member_coupon, shop_coupon), payment=pay))
    assert r.total_fen == 9700  # only the shop coupon
    assert ("member_price", "group_purchase") in line_reasons(r, "a")
    assert codes(r.outcome("tier").reasons) == ["group_purchase"]
    assert codes(r.outcome("vip").reasons) == ["group_purchase"]
    assert codes(r.outcome("points").reasons) == ["group_purchase"]
    assert r.points_used == 0 and r.wallet_fen == 2000  # stored value is money, not a benefit
    assert r.earn_lines() == [] and r.points_multiplier_bp == 0


def test_flash_price_first_then_tier_on_the_flash_price():
    cart = Cart((CartLine("f", 10000, 1, flash_price_fen=9000), CartLine("g", 5000, 1, flash_price_fen=6000)))
    r = quote(Order(cart, MEMBER95))
    f, g = r.lines
    assert f.discounts == {"flash": 1000, "tier": 450}  # 90 × 5%
    assert g.discounts == {"tier": 250}
    assert ("flash", "not_lower") in line_reasons(r, "g")


def test_non_stackable_coupon_competes_with_the_stackable_sum():
    cart = Cart((CartLine("a", 20000, 1),))
    a = Benefit("a5", Kind.AMOUNT_OFF, amount_fen=500)
    b = Benefit("b10", Kind.AMOUNT_OFF, amount_fen=1000)
    solo = Benefit("solo20", Kind.AMOUNT_OFF, amount_fen=2000, stackable=False)
    r = quote(Order(cart, NON_MEMBER, (a, b, solo)))
    assert r.stage("coupons").discount_fen == 2000
    assert codes(r.outcome("a5").reasons) == ["not_stackable"]
    solo_small = Benefit("solo12", Kind.AMOUNT_OFF, amount_fen=1200, stackable=False)
    r = quote(Order(cart, NON_MEMBER, (a, b, solo_small)))
    assert r.stage("coupons").discount_fen == 1500
    assert codes(r.outcome("solo12").reasons) == ["not_stackable"]


def test_towel_every_full_150_only_if_in_cart():
    goods = CartLine("coat", 31000, 1)
    towel = CartLine("towel", 500, 3)
    gift = Benefit(
        "towel150", Kind.GIFT, stage=Stage.GIFTS, threshold_fen=15000, repeat=True, gift_ref="towel"
    )
    r = quote(Order(Cart((goods, towel)), NON_MEMBER, (gift,)))
    o = r.outcome("towel150")
    assert (o.granted, o.amount_fen) == (2, 1000)  # 310元 = 2 full 150元: two of the three towels
    assert r.total_fen == 31000 + 1500 - 1000
    # 不拍不送: not in the cart → not given
    r = quote(Order(Cart((goods,)), NON_MEMBER, (gift,)))
    assert codes(r.outcome("towel150").reasons) == ["gift_not_in_cart"]
    # once per order; and a grant outside the cart (gift box for a unit price ≥ 300元)
    once = Benefit("towel-once", Kind.GIFT, stage=Stage.GIFTS, threshold_fen=15000, gift_ref="towel")
    box = Benefit("box", Kind.GIFT, stage=Stage.GIFTS, eligible_refs=frozenset({"coat"}))
    r = quote(Order(Cart((goods, towel)), NON_MEMBER, (once, box)))
    assert (r.outcome("towel-once").granted, r.outcome("towel-once").amount_fen) == (1, 500)
    assert (r.outcome("box").granted, r.outcome("box").amount_fen) == (1, 0)


def test_free_shipping_normal_courier_sf_pays_the_difference():
    cart = Cart((CartLine("a", 8000, 1),))
    card = Benefit("free-normal", Kind.FREE_SHIPPING, stage=Stage.SHIPPING, cap_fen=800)
    new150 = Benefit("new150", Kind.FREE_SHIPPING, stage=Stage.SHIPPING, threshold_fen=15000)
    r = quote(Order(cart, MEMBER95, (card, new150), ShippingQuote(postage_fen=2300, courier="SF")))
    assert r.shipping.discounts == {"free-normal": 800}
    assert r.shipping.net_fen == 1500
    assert codes(r.outcome("new150").reasons) == ["threshold_not_met"]
    assert r.total_fen == 7600 + 1500


def test_stage_total_is_capped_at_the_eligible_subtotal():
    cart = Cart((CartLine("a", 1000, 1),))
    bs = tuple(Benefit(f"c{i}", Kind.AMOUNT_OFF, amount_fen=700) for i in range(3))
    r = quote(Order(cart, NON_MEMBER, bs))
    assert r.total_fen == 0
    assert [r.outcome(f"c{i}").amount_fen for i in range(3)] == [334, 333, 333]
    assert all("capped_by_subtotal" in codes(r.outcome(f"c{i}").reasons) for i in range(3))


def test_points_then_wallet_payment():
    cart = Cart((CartLine("a", 2550, 1),))
    pay = PaymentRequest(
        points_available=1050, points_asked=1050, wallet_available_fen=10_000, wallet_asked_fen=10_000
    )
    r = quote(Order(cart, MEMBER95, payment=pay, shipping=ShippingQuote(postage_fen=600)))
    # 25.50 × 0.95 = 24.225 → discount 1.275 → 128 fen → 2422; points in whole 1元 units: 10
    assert r.goods_net_fen == 2422
    assert (r.points_used, r.points_fen) == (1000, 1000)
    assert r.wallet_fen == 2422 - 1000 + 600
    assert r.cash_fen == 0
    assert codes(r.outcome("wallet").reasons) == ["wallet_capped"]
    assert r.shipping.wallet_fen == 600


def test_partial_refunds_telescope_to_the_full_amounts():
    cart = Cart((CartLine("a", 999, 3), CartLine("b", 500, 1)))
    coupon = Benefit("c", Kind.AMOUNT_OFF, amount_fen=1000)
    pay = PaymentRequest(
        points_available=500, points_asked=500, wallet_available_fen=700, wallet_asked_fen=700
    )
    r = quote(Order(cart, MEMBER95, (coupon,), ShippingQuote(postage_fen=300), payment=pay))
    # By hand: tier a 2997 × 5% = 149.85 → 150, b 25; coupon 10元 over 2847 : 475 → 857 : 143;
    # points 5元 over 1990 : 332 → 429 : 71; wallet 7元 over 1561 : 261 : 300 (postage) → 515 : 86 : 99.
    a = r.lines[0]
    assert (a.discounts, a.points_fen, a.wallet_fen, a.cash_fen) == ({"tier": 150, "c": 857}, 429, 515, 1046)
    assert r.shipping.wallet_fen == 99
    # One unit of a returns 999 fen split over what is left of the parts, each a third
    # (285.67, 50, 143, 171.67, 348.67): the two spare fen to the earliest equal remainders.
    first = refund_split(r, {"a": 1})
    (fa,) = first.lines
    assert (fa.discounts, fa.points_fen, fa.wallet_fen, fa.cash_fen) == (
        {"c": 286, "tier": 50},
        143,
        172,
        348,
    )
    assert fa.points_used == 143
    assert not first.shipping_included
    second = refund_split(r, {"a": 2, "b": 1}, already={"a": 1})
    assert second.shipping_included
    total = {k: first.benefits.get(k, 0) + second.benefits.get(k, 0) for k in r.benefit_totals()}
    assert total == r.benefit_totals()
    assert first.net_fen + second.net_fen == r.total_fen
    assert first.wallet_fen + second.wallet_fen == r.wallet_fen == 700
    assert first.points_used + second.points_used == r.points_used == 500
    with pytest.raises(ValueError):
        refund_split(r, {"a": 3}, already={"a": 1})
    with pytest.raises(ValueError):
        refund_split(r, {"zz": 1})


def test_reasons_are_structured_with_text():
    cart = Cart((CartLine("a", 5000, 1),))
    b = Benefit("c", Kind.AMOUNT_OFF, amount_fen=1000, threshold_fen=10000)
    (why,) = quote(Order(cart, NON_MEMBER, (b,))).outcome("c").reasons
    with translation.override("en"):
        d = why.as_dict()
    assert d["code"] == "threshold_not_met"
    assert d["params"] == {"threshold": 10000, "base": 5000}
    assert d["text"] == "needs ¥100.00 on eligible goods, has ¥50.00"
    stored = quote(Order(cart, NON_MEMBER, (b,))).as_dict()
    assert stored["total_fen"] == 5000
    assert json.loads(json.dumps(stored, ensure_ascii=False)) == stored  # stored on the order as JSON


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        CartLine("a", 100, 0)
    with pytest.raises(ValueError):
        Cart((CartLine("a", 1, 1), CartLine("a", 1, 1)))
    with pytest.raises(ValueError):
        Benefit("tier", Kind.AMOUNT_OFF, amount_fen=1)
    with pytest.raises(ValueError):
        Benefit("x", Kind.GIFT)  # gifts belong to the gifts stage
    with pytest.raises(ValueError):
        MemberContext(is_member=True, price_rate_bp=0)
    cart = Cart((CartLine("a", 1, 1),))
    b = Benefit("x", Kind.AMOUNT_OFF, amount_fen=1)
    with pytest.raises(ValueError):
        quote(Order(cart, NON_MEMBER, (b, b)))
    with pytest.raises(ValueError):
        quote(Order(cart, stages=(Stage.PAYMENT, Stage.FLASH)))
    assert SHIPPING_REF == "__shipping__"


def test_a_line_outside_the_benefit_says_so():
    cart = Cart((CartLine("a", 5000, 1), CartLine("b", 5000, 1)))
    b = Benefit("only-a", Kind.RATE_OFF, off_bp=1000, eligible_refs=frozenset({"a"}))
    r = quote(Order(cart, NON_MEMBER, (b,)))
    assert r.outcome("only-a").allocations == {"a": 500}
    assert line_reasons(r, "b") == [("coupons", "not_eligible")]


def test_the_stage_order_is_configurable_and_changes_the_threshold_base():
    # coupons before the tier discount: the 满100减10 threshold sees 102元, then 95折 on 92元.
    cart = Cart((CartLine("a", 10200, 1),))
    coupon = Benefit("c100-10", Kind.AMOUNT_OFF, amount_fen=1000, threshold_fen=10000)
    order = (
        Stage.FLASH,
        Stage.MEMBER_PRICE,
        Stage.COUPONS,
        Stage.TIER,
        Stage.GIFTS,
        Stage.SHIPPING,
        Stage.PAYMENT,
    )
    r = quote(Order(cart, MEMBER95, (coupon,), stages=order))
    assert r.lines[0].discounts == {"c100-10": 1000, "tier": 460}  # 9200 × 5%
    assert r.total_fen == 8740


def test_a_non_stackable_grant_wins_over_stackable_benefits_that_do_not_apply():
    cart = Cart((CartLine("coat", 31000, 1),))
    box = Benefit("box", Kind.GIFT, stage=Stage.GIFTS, stackable=False)
    unmet = Benefit("big", Kind.AMOUNT_OFF, stage=Stage.GIFTS, amount_fen=100, threshold_fen=10**6)
    r = quote(Order(cart, NON_MEMBER, (box, unmet)))
    assert r.outcome("box").granted == 1 and r.outcome("box").reasons == []


def test_a_unit_by_unit_refund_never_returns_negative_cash(monkeypatch):
    """1 fen × 3 with 1 fen off and 1 fen from the wallet: parts c 1, wallet 1, cash 1."""
    from laoke.orders.engine import refund

    cart = Cart((CartLine("a", 1, 3),))
    pay = PaymentRequest(wallet_available_fen=1, wallet_asked_fen=1)
    r = quote(
        Order(
            cart, MemberContext(is_member=True), (Benefit("c", Kind.AMOUNT_OFF, amount_fen=1),), payment=pay
        )
    )
    a = r.lines[0]
    assert (a.discounts, a.wallet_fen, a.cash_fen) == ({"c": 1}, 1, 1)

    def cash_per_unit():
        return [refund_split(r, {"a": 1}, already={"a": k}).cash_fen for k in range(3)]

    # unit 1: 1 fen over c 1 : points 0 : wallet 1 : cash 1, equal remainders → c (earliest);
    # unit 2: over 0 : 0 : 1 : 1 → wallet; unit 3 (the last): what is left, the cash.
    assert cash_per_unit() == [0, 0, 1]
    assert [refund_split(r, {"a": 1}, already={"a": k}).wallet_fen for k in range(3)] == [0, 1, 0]

    # Negative control: each part returned as its own cumulative floor (the naive split) gives
    # the last unit −1 fen of cash back.
    def naive(ln, units):
        parts = [ln.discounts[c] for c in sorted(ln.discounts)] + [ln.points_fen, ln.wallet_fen]
        done = [p * units // ln.quantity for p in parts]
        return [*done, ln.unit_price_fen * units - sum(done)]

    monkeypatch.setattr(refund, "_returned", naive)
    assert cash_per_unit() == [1, 1, -1]
