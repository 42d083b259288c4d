"""Property (SPEC 5, issue 4): refunding every line — in any number of partial refunds, in any
order — returns the member to the exact prior points, wallet and coupon state, and the refunds add
up to exactly what the order took, part by part. Settled through the real services on a real
database; hypothesis draws the cart, the payment and the refund sequence."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from laoke.cards.selectors import wallet_summary
from laoke.orders import services
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.models import Order
from laoke.points.selectors import points_balance
from laoke.promotions.models import Coupon
from laoke.stats.selectors import member_stats

pytestmark = pytest.mark.django_db
_mobiles = itertools.count(13_900_000_000)

carts = st.lists(
    st.tuples(st.sampled_from(["TEE", "COAT", "SALE", "TEA"]), st.integers(1, 4)),
    min_size=1,
    max_size=4,
    unique_by=lambda t: t[0],
)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cart=carts,
    use_coupon=st.booleans(),
    wallet_share=st.integers(0, 100),
    points=st.integers(0, 600),
    delivery=st.booleans(),
    order_seed=st.randoms(use_true_random=False),
)
def test_refunding_everything_restores_the_member_exactly(
    shop, cart, use_coupon, wallet_share, points, delivery, order_seed
):
    m = shop.member(str(next(_mobiles)), wallet_fen=50_000, points=600)
    coupon = shop.coupon(m) if use_coupon else None
    before = (points_balance(member=m).balance, wallet_summary(member=m)["balance_fen"])
    req = CheckoutIn(
        lines=tuple(LineIn(sku=s, quantity=q) for s, q in cart),
        member_id=m.pk,
        coupon_codes=(coupon.code,) if coupon else (),
        courier="normal" if delivery else "",
        province="新疆" if delivery else "",
        points=points,
    )
    total = services.order_quote(request=req).result.total_fen
    wallet = min(50_000, total * wallet_share // 100)
    order = services.order_settle(request=CheckoutIn(**{**req.__dict__, "wallet_fen": wallet}))
    # Refund unit by unit in a random order, grouped into random-sized refunds.
    units = [ln.ref for ln in order.lines.all() for _ in range(ln.quantity)]
    order_seed.shuffle(units)
    step = 0
    while units:
        take_n = order_seed.randint(1, len(units))
        take, units = units[:take_n], units[take_n:]
        q: dict[str, int] = {}
        for ref in take:
            q[ref] = q.get(ref, 0) + 1
        services.order_refund(
            order_id=order.pk, key=f"{order.number}:{step}", quantities=q, override_window=True
        )
        step += 1
    after = (points_balance(member=m).balance, wallet_summary(member=m)["balance_fen"])
    assert after == before
    if coupon:
        assert Coupon.objects.get(pk=coupon.pk).state == "issued"
    s = member_stats(m)
    assert (s.spend_total_fen, s.order_count, s.discount_total_fen) == (0, 0, 0)
    done = Order.objects.get(pk=order.pk)
    refunds = list(done.refunds.all())
    assert done.refunded_fen == done.total_fen
    assert sum(r.wallet_fen for r in refunds) == done.wallet_fen
    assert sum(r.cash_fen for r in refunds) == done.cash_fen
    assert sum(r.points_fen for r in refunds) == done.points_fen
    assert sum(r.points_returned for r in refunds) == done.points_used
