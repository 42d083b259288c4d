"""Settlement and refunds through the services, against figures computed by hand in each test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.cards.selectors import wallet_summary
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.orders import services
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.models import Order, OrderStatus, PaymentMethod
from laoke.points.selectors import points_balance
from laoke.promotions.models import Coupon, CouponState
from laoke.stats.models import MemberCategoryStats
from laoke.stats.selectors import member_stats

pytestmark = pytest.mark.django_db


def checkout(member=None, *lines, **kw) -> CheckoutIn:
    return CheckoutIn(
        lines=tuple(LineIn(sku=s, quantity=q) for s, q in lines),
        member_id=member.pk if member else None,
        **kw,
    )


def wallet(m) -> int:
    return wallet_summary(member=m)["balance_fen"]


def points(m) -> int:
    return points_balance(member=m).balance


def test_settle_books_every_part_in_one_transaction(shop):
    m = shop.member()
    c = shop.coupon(m)
    order = services.order_settle(
        request=checkout(
            m,
            ("TEE", 2),
            ("SALE", 1),
            coupon_codes=(c.code,),
            courier="normal",
            province="浙江省",
            wallet_fen=5_000,
            points=300,
        )
    )
    # By hand: TEE 2 × 120元 = 240元, 95折 → −12元 = 228元; 满100减10 on the non-sale line → 218元;
    # SALE 50元 (special sale: no tier, no coupon); goods 268元 ≥ 150元 → a new customer's free
    # shipping (normal courier); points 300 = 3元 on TEE; wallet 50元; the rest 215元 in cash.
    assert (order.goods_gross_fen, order.goods_net_fen, order.postage_net_fen) == (29_000, 26_800, 0)
    assert (order.points_used, order.points_fen, order.wallet_fen, order.cash_fen) == (
        300,
        300,
        5_000,
        21_500,
    )
    assert order.status == OrderStatus.PAID and order.member_kind == "new" and order.tier_code == "regular"
    lines = {ln.sku: ln for ln in order.lines.all()}
    assert lines["TEE"].discounts == {"tier": 1_200, c.code: 1_000}
    assert lines["SALE"].discounts == {} and lines["SALE"].net_fen == 5_000
    c.refresh_from_db()
    assert (c.state, c.order_ref) == (CouponState.REDEEMED, order.number)
    assert wallet(m) == 15_000
    # 500 − 300 spent + 215 earned (1 point per yuan paid on TEE: 218 − 3; SALE earns nothing).
    assert points(m) == 415
    s = member_stats(m)
    assert (s.spend_total_fen, s.order_count, s.discount_total_fen) == (26_800, 1, 2_200)
    cat = MemberCategoryStats.objects.get(member=m, category=shop.apparel)
    assert (cat.spend_fen, cat.quantity) == (26_800, 3)
    assert AuditEntry.objects.filter(action="order.settle", object_id=str(order.pk)).count() == 1
    # The explanation says why the coupon left the special-sale line alone.
    expl = order.explanation
    assert expl["total_fen"] == 26_800
    sale_line = next(ln for ln in expl["lines"] if ln["ref"] == "2")
    assert any(r["code"] == "special_sale" for r in sale_line["reasons"])


def test_refunding_every_line_in_steps_restores_points_wallet_coupon_and_stats(shop):
    m = shop.member()
    c = shop.coupon(m)
    before = (points(m), wallet(m))
    order = services.order_settle(
        request=checkout(
            m,
            ("TEE", 3),
            ("COAT", 1),
            coupon_codes=(c.code,),
            wallet_fen=7_777,
            points=250,
            courier="normal",
            province="浙江省",
        )
    )
    services.order_refund(order_id=order.pk, key="r1", quantities={"1": 1})
    mid = Order.objects.get(pk=order.pk)
    assert mid.status == OrderStatus.PARTIALLY_REFUNDED
    c.refresh_from_db()
    assert c.state == CouponState.REDEEMED  # a partial refund keeps the coupon used
    services.order_refund(order_id=order.pk, key="r2", quantities={"1": 2})
    last = services.order_refund(order_id=order.pk, key="r3")  # the rest: the coat
    assert last.completes_order
    done = Order.objects.get(pk=order.pk)
    assert done.status == OrderStatus.CANCELLED and done.refunded_fen == done.total_fen
    assert (points(m), wallet(m)) == before
    c.refresh_from_db()
    assert c.state == CouponState.ISSUED and c.order_ref == ""
    s = member_stats(m)
    assert (s.spend_total_fen, s.order_count, s.discount_total_fen) == (0, 0, 0)
    assert MemberCategoryStats.objects.get(member=m, category=shop.apparel).spend_fen == 0
    # The three refunds add up to exactly what was paid, part by part.
    refunds = list(done.refunds.all())
    assert sum(r.wallet_fen for r in refunds) == order.wallet_fen
    assert sum(r.points_returned for r in refunds) == order.points_used
    assert sum(r.cash_fen for r in refunds) == order.cash_fen


def test_refund_is_idempotent_by_key(shop):
    m = shop.member()
    order = services.order_settle(request=checkout(m, ("TEE", 2), wallet_fen=10_000))
    a = services.order_refund(order_id=order.pk, key="same", quantities={"1": 1})
    b = services.order_refund(order_id=order.pk, key="same", quantities={"1": 1})
    assert a.pk == b.pk
    assert Order.objects.get(pk=order.pk).lines.get().refunded_quantity == 1


def test_return_window_15_days_for_members_7_for_others_on_designated_goods(shop):
    m = shop.member()
    at_till = services.order_settle(request=checkout(m, ("TEE", 1), ("TEA", 1)))
    assert at_till.status == OrderStatus.DELIVERED  # handed over at the till
    with clock.frozen(at_till.delivered_at + timedelta(days=15, minutes=1)):
        with pytest.raises(DomainError) as e:
            services.order_refund(order_id=at_till.pk, key="late", quantities={"1": 1})
        assert e.value.error.code == "ORDER_RETURN_WINDOW_CLOSED"
    with clock.frozen(at_till.delivered_at + timedelta(days=14)):
        with pytest.raises(DomainError) as e:
            services.order_refund(order_id=at_till.pk, key="tea", quantities={"2": 1})
        assert e.value.error.code == "ORDER_NOT_RETURNABLE"
        r = services.order_refund(order_id=at_till.pk, key="ok", quantities={"1": 1})
        assert r.kind == "return"
    walk_in = services.order_settle(request=checkout(None, ("TEE", 1)))
    with clock.frozen(walk_in.delivered_at + timedelta(days=8)):
        with pytest.raises(DomainError) as e:
            services.order_refund(order_id=walk_in.pk, key="late2")
        assert e.value.error.code == "ORDER_RETURN_WINDOW_CLOSED"
        # A manager may take it back anyway (the API checks the permission).
        assert services.order_refund(order_id=walk_in.pk, key="mgr", override_window=True).completes_order


def test_group_purchase_gets_no_member_benefits(shop):
    m = shop.member()
    c = shop.coupon(m)
    order = services.order_settle(
        request=checkout(m, ("TEE", 2), coupon_codes=(c.code,), group_purchase=True)
    )
    assert order.goods_net_fen == 24_000  # no 95折, no coupon
    c.refresh_from_db()
    assert c.state == CouponState.ISSUED  # presented, did not apply: the member keeps it
    assert points(m) == 500  # no points earned
    assert member_stats(m).order_count == 1  # still a purchase in the archive


def test_a_failure_late_in_settlement_leaves_nothing_behind(shop, monkeypatch):
    m = shop.member()
    c = shop.coupon(m)

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_stats_add", broken)
    with pytest.raises(RuntimeError):
        services.order_settle(
            request=checkout(m, ("TEE", 2), coupon_codes=(c.code,), wallet_fen=1_000, points=100)
        )
    assert not Order.objects.exists()
    c.refresh_from_db()
    assert c.state == CouponState.ISSUED
    assert (points(m), wallet(m)) == (500, 20_000)


def test_wallet_or_points_short_is_a_clear_error(shop):
    m = shop.member(wallet_fen=1_000, points=10)
    with pytest.raises(DomainError) as e:
        services.order_settle(request=checkout(m, ("TEE", 1), wallet_fen=2_000))
    assert e.value.error.code == "ORDER_WALLET_SHORT"
    with pytest.raises(DomainError) as e:
        services.order_settle(request=checkout(m, ("TEE", 1), points=11))
    assert e.value.error.code == "ORDER_POINTS_SHORT"
    with pytest.raises(DomainError) as e:
        services.order_settle(request=checkout(m, ("NOPE", 1)))
    assert e.value.error.code == "ORDER_PRODUCT_UNKNOWN"
    assert not Order.objects.exists()


def test_cod_default_positive_review_48_hours_after_delivery(shop):
    m = shop.member()
    cod = services.order_settle(
        request=checkout(
            m, ("COAT", 1), courier="normal", province="浙江省", payment_method=PaymentMethod.COD
        )
    )
    reviewed = services.order_settle(
        request=checkout(m, ("TEE", 1), courier="normal", province="浙江省", payment_method=PaymentMethod.COD)
    )
    for o in (cod, reviewed):
        services.order_ship(order_id=o.pk)
        services.order_deliver(order_id=o.pk)
    services.order_review(order_id=reviewed.pk, level="dissatisfied", text="颜色不对")
    now = clock.now()
    assert services.reviews_tick(now + timedelta(hours=47, minutes=59)) == 0
    assert services.reviews_tick(now + timedelta(hours=48)) == 1
    assert services.reviews_tick(now + timedelta(hours=49)) == 0
    cod.refresh_from_db()
    assert (cod.review.level, cod.review.is_default) == ("praise", True)
    reviewed.refresh_from_db()
    assert (reviewed.review.level, reviewed.review.is_default) == ("dissatisfied", False)


def test_big_order_extra_discount_needs_a_managers_approval(shop, django_user_model):
    cashier = django_user_model.objects.create_user("cashier1")
    manager = django_user_model.objects.create_user("manager1")
    m = shop.member()
    with pytest.raises(DomainError) as e:
        services.discount_request(
            member_id=m.pk, order_total_fen=100_000, amount_fen=5_000, reason="老客", actor=cashier
        )
    assert e.value.error.code == "ORDER_APPROVAL_NOT_NEEDED"  # below the 5,000元 preset
    a = services.discount_request(
        member_id=m.pk, order_total_fen=700_000, amount_fen=20_000, reason="老客大单", actor=cashier
    )
    with pytest.raises(DomainError) as e:
        services.discount_decide(approval_id=a.pk, approve=True, actor=cashier)
    assert e.value.error.code == "ORDER_APPROVAL_SELF"
    with pytest.raises(DomainError) as e:  # not approved yet
        services.order_settle(request=checkout(m, ("COAT", 20), approval_id=a.pk))
    assert e.value.error.code == "ORDER_APPROVAL_INVALID"
    services.discount_decide(approval_id=a.pk, approve=True, actor=manager)
    order = services.order_settle(request=checkout(m, ("COAT", 20), approval_id=a.pk))
    # 20 × 350元 = 7,000元, 95折 → 6,650元, approved extra 200元 → 6,450元.
    assert order.goods_net_fen == 645_000
    a.refresh_from_db()
    assert (a.state, a.order_id) == ("used", order.pk)
    with pytest.raises(DomainError) as e:
        services.order_settle(request=checkout(m, ("COAT", 20), approval_id=a.pk))
    assert e.value.error.code == "ORDER_APPROVAL_INVALID"


# --- regressions named after peers' failures --------------------------------------------------------


def test_odoo_257854_points_earned_on_an_order_are_taken_back_when_it_is_refunded(shop):
    m = shop.member(points=0)
    order = services.order_settle(request=checkout(m, ("COAT", 1)))
    assert points(m) == 332  # 350元 × 95折 = 332.50元 → 332 points
    services.order_refund(order_id=order.pk, key="back")
    assert points(m) == 0


def test_saleor_13640_paying_with_two_stored_values_takes_only_what_is_due(shop):
    """Two value sources (points worth 20元 and a 50元 wallet) on a 30元 order: the points pay 20元,
    the wallet only the 10元 left — nothing is zeroed beyond what the order needs."""
    m = shop.member(wallet_fen=5_000, points=2_000)
    cheap = shop.tee  # 120元 × 95折 = 114元; ask far more than that from both
    order = services.order_settle(request=checkout(m, (cheap.sku, 1), points=2_000, wallet_fen=5_000))
    assert (order.points_used, order.points_fen) == (2_000, 2_000)
    assert (order.wallet_fen, order.cash_fen) == (5_000, 11_400 - 2_000 - 5_000)
    small = services.order_settle(
        request=checkout(
            shop.member("13800002222", wallet_fen=5_000, points=2_000),
            ("SALE", 1),
            points=0,
            wallet_fen=5_000,
        )
    )
    assert small.wallet_fen == 5_000 and small.cash_fen == 0


def test_odoo_63106_stacked_coupons_never_drive_a_total_below_zero(shop):
    m = shop.member(wallet_fen=0, points=0)
    coupons = [shop.coupon(m, shop.big) for _ in range(3)]  # 3 × 100元 off, stackable
    order = services.order_settle(
        request=checkout(m, ("TEE", 1), coupon_codes=tuple(c.code for c in coupons))
    )
    assert order.goods_net_fen == 0 and order.total_fen == 0 and order.cash_fen == 0
    assert sum(oc.discount_fen for oc in order.coupons.all()) == 11_400  # capped at the stage input
    assert Coupon.objects.filter(state=CouponState.REDEEMED).count() == 3


def test_orders_tick_completes_orders_after_the_return_window(shop):
    m = shop.member()
    member_order = services.order_settle(request=checkout(m, ("TEE", 1)))
    walk_in = services.order_settle(request=checkout(None, ("TEE", 1)))
    now = clock.now()
    assert services.orders_tick(now + timedelta(days=7, minutes=1)).completed == 1  # the walk-in (7 days)
    walk_in.refresh_from_db()
    assert walk_in.status == OrderStatus.COMPLETED
    assert services.orders_tick(now + timedelta(days=15, minutes=1)).completed == 1  # the member's (15)
    member_order.refresh_from_db()
    assert member_order.status == OrderStatus.COMPLETED
    with clock.frozen(now + timedelta(days=15, minutes=1)), pytest.raises(DomainError) as e:
        services.order_refund(order_id=member_order.pk, key="too-late")
    assert e.value.error.code == "ORDER_RETURN_WINDOW_CLOSED"
