"""SPEC 18 story 3 (seed 002), the points part: 1 point per 元 (not on member special sales), a
600-point gift redeemed on the 2nd of the month, the member-day lottery at ≥ 5,000 points, and a
return within 15 days that reverses the points."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from laoke.catalog.models import GiftStock
from laoke.core import clock
from laoke.ledger.models import Account
from laoke.ledger.services import ledger_check
from laoke.points import selectors
from laoke.points.rules import EarnLine
from laoke.points.services import _points_earn, gift_redeem, points_reverse

from .conftest import make_member, make_offer


def test_supermarket_card_story(programme, store):
    member = make_member()
    other = make_member()
    offer = make_offer(store, 600, stock=10)
    with clock.frozen(datetime(2026, 6, 20, 3, 0, tzinfo=UTC)):  # 20 June, 11:00 Shanghai
        with transaction.atomic():  # settlement's own transaction
            e = _points_earn(
                member=member,
                key="order-1",
                reference="order-1",
                lines=[
                    EarnLine(ref="rice", paid_fen=52_880),
                    EarnLine(ref="oil", paid_fen=9_990, special_sale=True),  # 会员特价: no points
                ],
            )
        assert e.points == 528
        with transaction.atomic():
            _points_earn(
                member=member,
                key="order-2",
                reference="order-2",
                lines=[EarnLine(ref="tv", paid_fen=499_900)],
            )
        with transaction.atomic():
            _points_earn(
                member=other, key="order-3", reference="order-3", lines=[EarnLine(ref="x", paid_fen=100_000)]
            )
    balance = Account.objects.get(member=member, kind="points").balance
    assert balance == 528 + 4_999
    # The member-day lottery: ≥ 5,000 points.
    assert list(selectors.members_with_points(5_000)) == [member]
    # 2 July, 10:00 Shanghai: inside the 1–4 window.
    with clock.frozen(datetime(2026, 7, 2, 2, 0, tzinfo=UTC)):
        gift_redeem(member=member, offer=offer, key="gift-1")
    assert Account.objects.get(member=member, kind="points").balance == 5_527 - 600
    assert GiftStock.objects.get(gift=offer.gift, store=store).quantity == 9
    # The rice comes back within 15 days of the sale: its 528 points are taken back.
    with clock.frozen(datetime(2026, 7, 3, 2, 0, tzinfo=UTC)):
        r = points_reverse(key="return-1", reference="order-1", refunds={"rice": 52_880})
    assert (r.points_reversed, r.points_unrecovered) == (528, 0)
    assert Account.objects.get(member=member, kind="points").balance == 4_927 - 528
    assert not selectors.members_with_points(5_000).exists()
    assert ledger_check().ok and selectors.points_lots_check() == []
