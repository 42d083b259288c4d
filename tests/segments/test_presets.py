"""The SPEC 8 presets on a small shop whose members were worked out by hand (settled through the
real checkout at chosen times), and the installer's idempotency."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from laoke.cards.wallet import wallet_credit
from laoke.catalog.models import Category
from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.members.services import member_create
from laoke.promotions.services import coupon_issue
from laoke.segments.models import Segment
from laoke.segments.presets import recent_event_day, segments_presets_install
from laoke.segments.selectors import segment_queryset
from tests.orders.conftest import Shop

from .conftest import settle

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 20, 2, tzinfo=UTC)


def at(month, day, year=2026):
    return datetime(year, month, day, 2, tzinfo=UTC)  # 10:00 in Shanghai


def test_presets_on_a_small_shop():
    with clock.frozen(at(9, 1)):
        shop = Shop()
        ids = segments_presets_install(now=NOW)
        wipes = category_create(
            code="mb-daily-wipes", name="湿巾", parent=Category.objects.get(code="mb-daily")
        )
        product_create(
            sku="MBF", title="米粉", list_price_fen=5_000, category=Category.objects.get(code="mb-food")
        )
        product_create(sku="WIPE", title="湿巾", list_price_fen=2_000, category=wipes)
        m = {k: member_create(name=k, mobile=f"1370000000{i}") for i, k in enumerate("ABCDEFG")}
        wallet_credit(member=m["F"], amount_fen=1_500, key="wf", reason="test.seed")
        wallet_credit(member=m["G"], amount_fen=30_000, key="wg", reason="test.seed")
    settle(m["B"], ("TEE", 1), at=at(10, 1))
    settle(m["G"], ("TEE", 1), at=at(10, 20))
    settle(m["F"], ("TEE", 1), at=at(11, 1))
    settle(m["C"], ("COAT", 1), at=at(11, 11))  # 350元 × 95折 = 332.50元 ≥ 299元
    settle(m["D"], ("TEE", 1), at=at(11, 11))  # 114元
    with clock.frozen(at(11, 30)):
        big = coupon_issue(template=shop.big, member=m["E"])
    settle(m["E"], ("TEE", 1), coupon=big, at=at(12, 1))  # paid 14元 of 120元: share 106/120
    settle(m["A"], ("TEE", 1), ("MBF", 1), at=at(12, 12))
    settle(m["B"], ("WIPE", 1), at=at(12, 12, 2026))

    def members(preset):
        seg = Segment.objects.get(pk=ids[preset])
        return {x.name for x in segment_queryset(seg.rule, now=NOW)}

    assert members("s1_1212_new") == {"A"}
    assert members("s1_1212_returning") == {"B"}
    assert members("s1_double11_new_299") == {"C"}
    assert members("mother_baby_food") == {"A"}
    assert members("mother_baby_daily") == {"B"}  # bought in a sub-category of 母婴日用品
    assert members("mother_baby_durable") == set()
    assert members("one_time_price_sensitive") == {"E"}
    # Dormant on 12-20: last orders C, D 11-11 (39 days), F 11-01, G 10-20; wallets F 15元, G 300元.
    assert members("dormant_1m") == {"C", "D", "F", "G"}
    assert members("dormant_low_balance") == {"C", "D", "F"}

    # Idempotent: a second install adds nothing and keeps an operator's change.
    Segment.objects.filter(pk=ids["dormant_1m"]).update(description="mine")
    assert segments_presets_install(now=NOW) == ids
    assert Segment.objects.count() == len(ids) == 9
    assert Segment.objects.get(pk=ids["dormant_1m"]).description == "mine"


def test_event_windows_are_the_most_recent_ones():
    from datetime import date

    assert recent_event_day(12, 12, today=date(2026, 12, 12)) == date(2026, 12, 12)
    assert recent_event_day(12, 12, today=date(2026, 12, 11)) == date(2025, 12, 12)
    assert recent_event_day(11, 11, today=date(2027, 1, 5)) == date(2026, 11, 11)
