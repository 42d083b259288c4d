"""The engine prices a coupon exactly as ``promotions.evaluate`` does when that coupon is alone in
its stage (``orders.checkout.coupon_benefit`` turns a coupon into an engine ``Benefit``; both must
agree on rounding and splits). Unsaved templates, no database."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from laoke.orders.checkout import coupon_benefit
from laoke.orders.engine import Cart, CartLine, MemberContext, Order, quote
from laoke.promotions.evaluate import Line, evaluate
from laoke.promotions.models import Coupon, CouponKind, CouponTemplate


@settings(derandomize=True, max_examples=150, deadline=None, database=None)
@given(
    lines=st.lists(
        st.tuples(st.integers(0, 40_000), st.integers(1, 4), st.booleans()), min_size=1, max_size=5
    ),
    kind=st.sampled_from([CouponKind.FIXED, CouponKind.PERCENT, CouponKind.COMBO]),
    amount=st.integers(0, 50_000),
    rate=st.integers(0, 10_000),
    threshold=st.sampled_from([0, 1, 5_000, 20_000]),
    cap=st.none() | st.integers(0, 20_000),
    skus=st.frozensets(st.sampled_from(["l0", "l1", "l2", "l3", "l4"]), max_size=3),
)
def test_engine_agrees_with_promotions_evaluate(lines, kind, amount, rate, threshold, cap, skus):
    cart = Cart(tuple(CartLine(f"l{i}", p, q, special_sale=s) for i, (p, q, s) in enumerate(lines)))
    tpl = CouponTemplate(
        kind=kind,
        threshold_fen=threshold,
        amount_off_fen=amount,
        rate_off_bp=rate,
        cap_fen=cap,
        product_skus=sorted(skus),
    )
    ev = evaluate(
        tpl,
        [
            Line(ln.ref, ln.unit_price_fen * ln.quantity, ln.quantity, not ln.special_sale)
            for ln in cart.lines
        ],
    )
    coupon = Coupon(code="tpl", template=tpl)
    benefit = coupon_benefit(coupon, {ln.ref: [ln.ref] for ln in cart.lines})  # refs named like SKUs here
    r = quote(Order(cart, MemberContext(is_member=True), (benefit,)))
    got = r.outcome("tpl")
    assert got.amount_fen == (ev.amount_fen if ev.applicable else 0)
    assert [got.allocations.get(ln.ref, 0) for ln in cart.lines] == (
        ev.line_discounts if ev.applicable else [0] * len(lines)
    )
