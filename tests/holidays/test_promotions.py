"""Seed 002 supermarket holiday promotion presets, created through the promotions services."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from laoke.catalog.services import product_create
from laoke.core.errors import DomainError
from laoke.holidays.holiday_promotions import holiday_promotions_apply
from laoke.holidays.models import DrawGame
from laoke.promotions.models import CouponTemplate, MemberPrice

pytestmark = pytest.mark.django_db


SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "preset,year,day1",
    [
        ("mid_autumn", 2026, date(2026, 9, 25)),
        ("national_day", 2026, date(2026, 10, 1)),
        ("spring_festival", 2027, date(2027, 2, 6)),
    ],
)
def test_holiday_preset(preset, year, day1):
    product = product_create(sku=f"MOON-{preset}", title="广式月饼礼盒", list_price_fen=12_999)
    out = holiday_promotions_apply(preset=preset, year=year, skus=[product.sku])
    start = datetime(day1.year, day1.month, day1.day, tzinfo=SHANGHAI)  # local midnight
    end = start + timedelta(days=3)
    # 1. the first 50 each day: a gift or 8折 for the whole event — 3 days × 2 templates
    tpls = CouponTemplate.objects.filter(pk__in=out["early_bird_templates"]).order_by("valid_from", "kind")
    assert len(tpls) == 6
    assert all(t.total_limit == 50 and t.valid_to == end for t in tpls)
    assert sorted({t.valid_from for t in tpls}) == [start + timedelta(days=i) for i in range(3)]
    assert sorted(t.rate_off_bp for t in tpls if t.kind == "percent") == [2_000] * 3
    gifts = {t.gift.name for t in tpls if t.kind == "gift"}
    assert gifts == ({"超值月饼"} if preset == "mid_autumn" else {"节日礼品"})
    # 2. day 1 at 60%, days 2–3 at 70% of 129.99元 (half-up to the fen), nothing after
    prices = list(MemberPrice.objects.filter(pk__in=out["member_prices"]).order_by("valid_from"))
    assert [p.price_fen for p in prices] == [7_799, 9_099, 9_099]  # 12999×0.6=7799.4, ×0.7=9099.3
    assert prices[0].valid_from == start and prices[-1].valid_to == end
    # 3. the pre-purchase draw: set probabilities, the rest is "try again"
    pre, receipt = (DrawGame.objects.get(pk=pk) for pk in out["draw_games"])
    assert [(p.name, p.probability_bp) for p in pre.prizes.order_by("pk")] == [
        ("购物袋", 2_000),
        ("一楼指定商品9折券", 500),
        ("二楼指定商品9折券", 500),
        ("小礼品", 1_000),
    ]
    assert pre.no_prize_label == "购物愉快，下次再来！" and pre.daily_limit == 1
    assert (pre.starts_at, pre.ends_at) == (start, end)
    floor = pre.prizes.get(name="一楼指定商品9折券").coupon_template
    assert floor.kind == "percent" and floor.rate_off_bp == 1_000
    # 4. 人人有奖: receipts ≥ 100元, every draw wins
    assert receipt.min_receipt_fen == 10_000
    assert sum(p.probability_bp for p in receipt.prizes.all()) == 10_000
    # applied once per year
    with pytest.raises(DomainError) as e:
        holiday_promotions_apply(preset=preset, year=year)
    assert e.value.code == "HOLIDAY_PROMOTION_EXISTS"


def test_unknown_preset():
    with pytest.raises(DomainError) as e:
        holiday_promotions_apply(preset="christmas", year=2026)
    assert e.value.code == "HOLIDAY_PRESET_UNKNOWN"


def test_per_store_and_through_the_api(api):
    from laoke.core.services import store_create

    store = store_create(code="SG-01", name="苏果新街口店")
    out = holiday_promotions_apply(preset="national_day", year=2026, store=store)
    assert DrawGame.objects.get(pk=out["draw_games"][0]).code == "national_day-2026-SG-01-pre"
    r = api("marketer").post(
        "/api/v1/holidays/promotions",
        {"preset": "national_day", "year": 2026},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert DrawGame.objects.get(pk=r.json()["draw_games"][1]).code == "national_day-2026-receipt"
    r = api("cashier").post(
        "/api/v1/holidays/promotions",
        {"preset": "national_day", "year": 2026},
        content_type="application/json",
    )
    assert r.status_code == 403
