from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laoke.core.money import (
    MoneyFormatError,
    apply_bp,
    fen_to_yuan,
    format_yuan,
    split_largest_remainder,
    yuan_to_fen,
)


@given(st.integers(min_value=0, max_value=10**10), st.integers(min_value=0, max_value=10_000))
def test_apply_bp_matches_decimal_half_up(amount, bp):
    expected = int((Decimal(amount) * bp / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert apply_bp(amount, bp) == expected


def test_apply_bp_examples():
    assert apply_bp(1999, 9500) == 1899  # 18.9905 → 18.99
    assert apply_bp(10, 9500) == 10  # 9.5 → 10 (half up)
    assert apply_bp(30, 8800) == 26  # 26.4 → 26


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=30).filter(lambda w: sum(w) > 0),
)
def test_largest_remainder_sums_and_stays_within_a_fen(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    wsum = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        exact = Decimal(total) * w / wsum
        assert abs(Decimal(part) - exact) < 1
        if w == 0:
            assert part == 0


def test_largest_remainder_ties_go_to_the_earlier_line():
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert split_largest_remainder(2, [1, 1, 1]) == [1, 1, 0]


@pytest.mark.parametrize(
    ("text", "fen"), [("12.34", 1234), ("0.5", 50), ("1,000", 100000), (" 7 ", 700), (3, 300)]
)
def test_yuan_to_fen(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["1.234", "abc", "NaN", "", 1.5])
def test_yuan_to_fen_rejects(text):
    with pytest.raises(MoneyFormatError):
        yuan_to_fen(text)


def test_display():
    assert fen_to_yuan(1234) == Decimal("12.34")
    assert format_yuan(-505) == "-¥5.05"


def test_rate_label_speaks_as_a_shop_does():
    from django.utils import translation

    from laoke.core.money import rate_label

    with translation.override("zh-hans"):
        assert [rate_label(bp) for bp in (9500, 9250, 8800, 10_000)] == ["95折", "92.5折", "88折", "不打折"]
    with translation.override("en"):
        assert rate_label(9500) == "95% of the list price" and rate_label(10_000) == "no discount"
