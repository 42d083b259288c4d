"""Real activity through the services for the restore drill: members, points earned and spent,
wallets topped up and spent, a prepaid card sold and recharged, coupons issued and redeemed,
orders settled, one refunded (the small shop of tests/orders, the cards' batch helper)."""

from __future__ import annotations

from django.test import TestCase

from laoke.cards.services import card_recharge
from laoke.core import clock
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_refund, order_settle
from laoke.promotions.services import coupon_issue
from tests.cards.helpers import issue
from tests.orders.conftest import NOW, Shop


def populate(members: int = 4) -> dict:
    with clock.frozen(NOW), TestCase.captureOnCommitCallbacks(execute=True):
        shop = Shop()
        people = [
            shop.member(mobile=f"1380000{i:04d}", wallet_fen=20_000, points=500) for i in range(members)
        ]
        _, pins = issue(face_value_fen=10_000, count=2)
        number, pin = next(iter(pins.items()))
        card_recharge(number=number, pin=pin, member=people[0])
        orders = []
        for m in people:
            coupon = coupon_issue(template=shop.fixed, member=m)
            orders.append(
                order_settle(
                    request=CheckoutIn(
                        lines=(LineIn(sku="TEE", quantity=2), LineIn(sku="SALE", quantity=1)),
                        member_id=m.pk,
                        coupon_codes=(coupon.code,),
                        courier="normal",
                        province="浙江省",
                        wallet_fen=5_000,
                        points=300,
                    )
                )
            )
        orders.append(order_settle(request=CheckoutIn(lines=(LineIn(sku="TEA", quantity=1),))))  # a guest
        coupon_issue(template=shop.big, member=people[-1])  # issued, not yet used
        order_refund(order_id=orders[0].pk, key="drill-refund-0", reason="drill", override_window=True)
    return {"members": len(people), "orders": len(orders)}
