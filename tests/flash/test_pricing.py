"""The flash price table: list − 10% of list per full hour since the opening, half-up to the fen,
never below the floor. Expected figures are written out by hand (and checked against an
independent Decimal computation), not taken from project helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laoke.core.errors import DomainError
from laoke.flash.pricing import flash_price, next_drop_at

OPEN = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 Shanghai

# list 123.45元, floor 30元, 1000 bp (10% of list) per hour. Hour 5: 12345 × 0.5 = 6172.5 → 6173 off;
# hour 7: 8641.5 → 8642 off; hour 8 would be 2469 < floor.
TABLE = [
    (0, 12_345),
    (1, 11_110),
    (2, 9_876),
    (3, 8_641),
    (4, 7_407),
    (5, 6_172),
    (6, 4_938),
    (7, 3_703),
    (8, 3_000),
    (9, 3_000),
    (10, 3_000),
    (11, 3_000),
    (12, 3_000),
]


def decimal_price(list_fen, floor_fen, hours, step_bp):
    drop = (Decimal(list_fen) * Decimal(step_bp) / Decimal(10_000) * hours).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return max(int(Decimal(list_fen) - drop), floor_fen)


@pytest.mark.parametrize(("hour", "expected"), TABLE)
def test_price_table_hour_0_to_12(hour, expected):
    now = OPEN + timedelta(hours=hour, minutes=30)
    assert flash_price(12_345, 3_000, OPEN, now, 1_000) == expected
    assert expected == decimal_price(12_345, 3_000, hour, 1_000)


def test_the_price_drops_on_the_full_hour_not_before():
    assert flash_price(19_900, 5_000, OPEN, OPEN + timedelta(minutes=59, seconds=59), 1_000) == 19_900
    assert flash_price(19_900, 5_000, OPEN, OPEN + timedelta(hours=1), 1_000) == 17_910
    assert flash_price(19_900, 5_000, OPEN, OPEN + timedelta(hours=2, seconds=-1), 1_000) == 17_910


def test_the_floor_is_reached_and_kept():
    # 199元, floor 99元: hour 5 = 99.50元, hour 6 = 79.60元 < floor → 99元 for the rest of the day.
    assert flash_price(19_900, 9_900, OPEN, OPEN + timedelta(hours=5), 1_000) == 9_950
    assert flash_price(19_900, 9_900, OPEN, OPEN + timedelta(hours=6), 1_000) == 9_900
    assert flash_price(19_900, 9_900, OPEN, OPEN + timedelta(hours=13, minutes=59), 1_000) == 9_900
    assert (
        next_drop_at(
            list_price_fen=19_900,
            floor_fen=9_900,
            opened_at=OPEN,
            now=OPEN + timedelta(hours=6),
            step_bp=1_000,
        )
        is None
    )


def test_next_drop_is_the_next_full_hour():
    assert next_drop_at(
        list_price_fen=19_900, floor_fen=9_900, opened_at=OPEN, now=OPEN + timedelta(minutes=5), step_bp=1_000
    ) == OPEN + timedelta(hours=1)
    before = OPEN - timedelta(minutes=1)
    assert (
        next_drop_at(list_price_fen=19_900, floor_fen=9_900, opened_at=OPEN, now=before, step_bp=1_000)
        == OPEN
    )


def test_before_the_opening_it_is_not_on_sale():
    with pytest.raises(DomainError) as exc:
        flash_price(19_900, 5_000, OPEN, OPEN - timedelta(seconds=1), 1_000)
    assert exc.value.code == "FLASH_NOT_ON_SALE"


def test_a_different_step():
    # 5% of list per hour (500 bp): 199元 → hour 3 = 199 − 29.85 = 169.15元.
    assert flash_price(19_900, 1, OPEN, OPEN + timedelta(hours=3), 500) == 16_915


@given(
    list_fen=st.integers(1, 10**8),
    floor_share=st.integers(1, 10_000),
    step_bp=st.integers(1, 10_000),
    hours=st.integers(0, 30),
)
def test_property_matches_decimal_never_below_floor_and_never_rises(list_fen, floor_share, step_bp, hours):
    floor_fen = max(1, list_fen * floor_share // 10_000)
    now = OPEN + timedelta(hours=hours)
    price = flash_price(list_fen, floor_fen, OPEN, now, step_bp)
    assert price == decimal_price(list_fen, floor_fen, hours, step_bp)
    assert floor_fen <= price <= list_fen
    assert flash_price(list_fen, floor_fen, OPEN, now + timedelta(hours=1), step_bp) <= price
