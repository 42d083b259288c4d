"""evaluate(): each kind, with its explanation; expected figures computed by hand in the comments."""

from __future__ import annotations

from types import SimpleNamespace

from laoke.promotions.evaluate import Line, evaluate


def tpl(**kw):
    base = dict(
        kind="fixed",
        threshold_fen=0,
        amount_off_fen=0,
        rate_off_bp=0,
        cap_fen=None,
        gift_id=None,
        gift=None,
        product_skus=[],
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_fixed_over_threshold_split_by_largest_remainder():
    t = tpl(threshold_fen=10_000, amount_off_fen=1_000)
    ev = evaluate(t, [Line("A", 6_000), Line("B", 4_000)])
    assert ev.applicable and ev.amount_fen == 1_000
    assert ev.line_discounts == [600, 400]  # 1000 × 6/10, 1000 × 4/10
    assert "满 ¥100.00 减 ¥10.00" in ev.explanation["zh-hans"]
    assert "¥10.00 off over ¥100.00" in ev.explanation["en"]


def test_fixed_threshold_is_on_the_given_amounts_and_says_how_much_is_missing():
    t = tpl(threshold_fen=10_000, amount_off_fen=1_000)
    ev = evaluate(t, [Line("A", 9_999)])
    assert not ev.applicable and ev.amount_fen == 0 and ev.line_discounts == [0]
    assert "还差 ¥0.01" in ev.explanation["zh-hans"] and "¥0.01 short" in ev.explanation["en"]


def test_fixed_never_more_than_the_eligible_subtotal():
    t = tpl(threshold_fen=0, amount_off_fen=5_000)
    ev = evaluate(t, [Line("A", 3_000), Line("S", 9_000, eligible=False)])
    assert ev.amount_fen == 3_000 and ev.line_discounts == [3_000, 0]
    assert "不超过可用金额" in ev.explanation["zh-hans"]


def test_fixed_split_remainder_goes_to_the_largest_remainder():
    t = tpl(amount_off_fen=100)
    ev = evaluate(t, [Line("A", 1_000), Line("B", 1_000), Line("C", 1_000)])
    # 100/3 = 33 r1 each: the one fen left goes to the first (ties to the earlier line)
    assert ev.line_discounts == [34, 33, 33] and sum(ev.line_discounts) == 100


def test_percent_half_up_per_line():
    t = tpl(kind="percent", rate_off_bp=1_500)  # 15% off
    ev = evaluate(t, [Line("A", 1_003), Line("B", 999)])
    # 1003 × 0.15 = 150.45 → 150; 999 × 0.15 = 149.85 → 150
    assert ev.line_discounts == [150, 150] and ev.amount_fen == 300
    assert "15%" in ev.explanation["en"]


def test_percent_half_up_at_exactly_half():
    t = tpl(kind="percent", rate_off_bp=5_000)
    ev = evaluate(t, [Line("A", 1)])
    assert ev.line_discounts == [1]  # 0.5 → 1 (half-up)


def test_percent_cap_split_over_lines():
    t = tpl(kind="percent", rate_off_bp=2_000, cap_fen=1_000, threshold_fen=5_000)
    ev = evaluate(t, [Line("A", 6_000), Line("B", 3_000)])
    # 20% of 9000 = 1800 > cap 1000 → 1000 split 6:3 → 666.67/333.33 → 667/333
    assert ev.amount_fen == 1_000 and ev.line_discounts == [667, 333]
    assert "封顶 ¥10.00" in ev.explanation["zh-hans"] and "capped at ¥10.00" in ev.explanation["en"]


def test_free_shipping_card():
    ev = evaluate(tpl(kind="free_shipping"), [Line("A", 100)])
    assert ev.applicable and ev.free_shipping and ev.amount_fen == 0
    assert "包邮" in ev.explanation["zh-hans"]


def test_gift():
    gift = SimpleNamespace(name="小方巾")
    ev = evaluate(tpl(kind="gift", gift_id=7, gift=gift, threshold_fen=15_000), [Line("A", 15_000)])
    assert ev.applicable and ev.gift_id == 7 and ev.explanation["zh-hans"] == "赠品：小方巾"
    assert not evaluate(
        tpl(kind="gift", gift_id=7, gift=gift, threshold_fen=15_000), [Line("A", 14_999)]
    ).applicable


def test_combo_only_named_skus():
    t = tpl(kind="combo", amount_off_fen=5_000, product_skus=["SCARF", "CLIP"])
    ev = evaluate(t, [Line("SCARF", 8_000), Line("SOCK", 2_000), Line("CLIP", 2_000)])
    assert ev.amount_fen == 5_000 and ev.line_discounts == [4_000, 0, 1_000]  # 5000 × 8/10, × 2/10
    assert "组合抵价券" in ev.explanation["zh-hans"]
    none = evaluate(t, [Line("SOCK", 9_000)])
    assert not none.applicable and "没有该券指定的商品" in none.explanation["zh-hans"]
