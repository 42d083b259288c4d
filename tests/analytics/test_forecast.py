"""The event forecast calculator against figures computed by hand (written out in each test)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from laoke.analytics import forecast
from laoke.analytics.forecast import Inputs
from laoke.analytics.models import EventForecast
from laoke.core.errors import DomainError

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
ROUND = Inputs(
    reachable=200_000,
    income_share_bp=4_000,
    area_share_bp=5_000,
    brand_share_bp=3_000,
    response_bp=110,
    aov_fen=25_000,
)


def test_round_figures_and_presets():
    # 200,000 × 40% × 50% × 30% = 12,000 in the target; × 1.1% = 132 visitors; ÷ 3 = 44 households
    # = 44 orders × ¥250 = ¥11,000. Presets: 0.2% → 24 → 8 → ¥2,000; 2% → 240 → 80 → ¥20,000;
    # mid 1.1% is the forecast's own rate here.
    s = forecast.scenarios(ROUND)
    assert s["forecast"] == {
        "response_bp": 110,
        "target": 12_000,
        "visitors": 132,
        "households": 44,
        "orders": 44,
        "revenue_fen": 1_100_000,
    }
    assert (s["low"]["visitors"], s["low"]["households"], s["low"]["revenue_fen"]) == (24, 8, 200_000)
    assert (s["high"]["visitors"], s["high"]["households"], s["high"]["revenue_fen"]) == (240, 80, 2_000_000)
    assert s["mid"] == s["forecast"]


def test_rounding_half_up_at_visitors_and_households():
    # 123,457 × 33.33% × 66.67% × 25% = 6,858.379… → target 6,858; × 0.75% = 51.4378… → 51 visitors;
    # 51 ÷ 3.2 people = 15.9375 → 16 households; 16 × ¥199.99 = ¥3,199.84.
    got = forecast.compute(
        Inputs(
            reachable=123_457,
            income_share_bp=3_333,
            area_share_bp=6_667,
            brand_share_bp=2_500,
            response_bp=75,
            aov_fen=19_999,
            household_size_x100=320,
        )
    )
    assert (got["target"], got["visitors"], got["households"], got["revenue_fen"]) == (6_858, 51, 16, 319_984)
    # exactly half: 1,000 × 100% × 100% × 100% × 0.25% = 2.5 → 3 (half up, not to even);
    # 3 ÷ 2 people = 1.5 → 2 households
    half = forecast.compute(Inputs(1_000, 10_000, 10_000, 10_000, 25, 100, household_size_x100=200))
    assert (half["visitors"], half["households"], half["revenue_fen"]) == (3, 2, 200)
    # 1,000 × 0.2% = 2 visitors; 2 ÷ 3 = 0.667 → 1 household
    assert forecast.compute(Inputs(1_000, 10_000, 10_000, 10_000, 20, 100))["households"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reachable": -1}, "reachable"),
        ({"income_share_bp": 10_001}, "income_share_bp"),
        ({"response_bp": 0}, "response_bp"),
        ({"household_size_x100": 0}, "household_size_x100"),
        ({"aov_fen": -5}, "aov_fen"),
    ],
)
def test_bad_inputs_named(db, change, field):
    bad = Inputs(**{**ROUND.__dict__, **change})
    with pytest.raises(DomainError) as exc:
        forecast.forecast_create(name="x", event_date=date(2026, 4, 1), inputs=bad, now=NOW)
    assert exc.value.code == "ANALYTICS_FORECAST_INVALID" and exc.value.field == field
    assert EventForecast.objects.count() == 0


def test_save_record_actuals_and_compare(db):
    f = forecast.forecast_create(name=" 店庆 ", event_date=date(2026, 4, 1), inputs=ROUND, now=NOW)
    assert f.name == "店庆" and f.household_size_x100 == 300
    report = forecast.forecast_report(f)
    assert [r["actual"] for r in report["comparison"]] == [None, None, None]
    later = datetime(2026, 4, 2, tzinfo=UTC)
    f = forecast.forecast_record_actuals(forecast_id=f.pk, actual_visitors=150, actual_orders=33, now=later)
    f = forecast.forecast_record_actuals(forecast_id=f.pk, actual_revenue_fen=990_000, now=later)
    f.refresh_from_db()
    assert (f.actual_visitors, f.actual_orders, f.actual_revenue_fen, f.updated_at) == (
        150,
        33,
        990_000,
        later,
    )
    # visitors 150 vs 132: +18, +13.64%; orders 33 vs 44: −11, −25%; revenue ¥9,900 vs ¥11,000: −10%
    rows = {r["measure"]: r for r in forecast.comparison(f)}
    assert rows["visitors"]["difference"] == 18 and rows["visitors"]["error"] == pytest.approx(18 / 132)
    assert rows["orders"]["difference"] == -11 and rows["orders"]["error"] == pytest.approx(-0.25)
    assert rows["revenue_fen"]["difference"] == -110_000 and rows["revenue_fen"]["error"] == pytest.approx(
        -0.1
    )
    with pytest.raises(DomainError) as exc:
        forecast.forecast_record_actuals(forecast_id=f.pk + 99, actual_orders=1, now=later)
    assert exc.value.code == "ANALYTICS_FORECAST_NOT_FOUND"
    with pytest.raises(DomainError):
        forecast.forecast_record_actuals(forecast_id=f.pk, actual_orders=-1, now=later)


def test_zero_forecast_gives_no_error_ratio(db):
    f = forecast.forecast_create(
        name="小活动", event_date=date(2026, 4, 1), inputs=Inputs(10, 100, 100, 100, 20, 100), now=NOW
    )
    f = forecast.forecast_record_actuals(forecast_id=f.pk, actual_visitors=4, now=NOW)
    visitors = forecast.comparison(f)[0]
    assert (visitors["forecast"], visitors["difference"], visitors["error"]) == (0, 4, None)
