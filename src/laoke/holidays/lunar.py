"""The few Chinese-calendar dates the holiday presets need, as a documented table.

No lunar-calendar package is a dependency of Laoke; the presets need only the Gregorian date of
中秋 (lunar 8/15) and of 春节 (lunar 1/1) per year. The tables below were generated once with the
``lunardate`` package (``LunarDate(y, 8, 15).to_solar_date()``) and checked against the seed: the
seed 000 plan says 9月22日 is 农历8月9日, 9月26日 is 8月13日 and 9月21日 is 8月8日, which holds for
2004 (中秋 9月28日). Lunar month 8 runs from its day 1 without a gap, so lunar 8/n of a year is
中秋 − (15 − n) days.
"""

from __future__ import annotations

from datetime import date, timedelta

from laoke.core.errors import DomainError

from .error_codes import YEAR_UNSUPPORTED

# 中秋 (lunar 8/15) as (month, day), 1990–2050.
MID_AUTUMN: dict[int, tuple[int, int]] = {
    1990: (10, 3), 1991: (9, 22), 1992: (9, 11), 1993: (9, 30), 1994: (9, 20), 1995: (9, 9),
    1996: (9, 27), 1997: (9, 16), 1998: (10, 5), 1999: (9, 24), 2000: (9, 12), 2001: (10, 1),
    2002: (9, 21), 2003: (9, 11), 2004: (9, 28), 2005: (9, 18), 2006: (10, 6), 2007: (9, 25),
    2008: (9, 14), 2009: (10, 3), 2010: (9, 22), 2011: (9, 12), 2012: (9, 30), 2013: (9, 19),
    2014: (9, 8), 2015: (9, 27), 2016: (9, 15), 2017: (10, 4), 2018: (9, 24), 2019: (9, 13),
    2020: (10, 1), 2021: (9, 21), 2022: (9, 10), 2023: (9, 29), 2024: (9, 17), 2025: (10, 6),
    2026: (9, 25), 2027: (9, 15), 2028: (10, 3), 2029: (9, 22), 2030: (9, 12), 2031: (10, 1),
    2032: (9, 19), 2033: (9, 8), 2034: (9, 27), 2035: (9, 16), 2036: (10, 4), 2037: (9, 24),
    2038: (9, 13), 2039: (10, 2), 2040: (9, 20), 2041: (9, 10), 2042: (9, 28), 2043: (9, 17),
    2044: (10, 5), 2045: (9, 25), 2046: (9, 15), 2047: (10, 4), 2048: (9, 22), 2049: (9, 11),
    2050: (9, 30),
}  # fmt: skip

# 春节 (lunar 1/1) as (month, day), 2020–2040.
SPRING_FESTIVAL: dict[int, tuple[int, int]] = {
    2020: (1, 25), 2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29),
    2026: (2, 17), 2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23),
    2032: (2, 11), 2033: (1, 31), 2034: (2, 19), 2035: (2, 8), 2036: (1, 28), 2037: (2, 15),
    2038: (2, 4), 2039: (1, 24), 2040: (2, 12),
}  # fmt: skip


def _lookup(table: dict[int, tuple[int, int]], year: int) -> date:
    if year not in table:
        raise DomainError(YEAR_UNSUPPORTED, field="year", year=year, first=min(table), last=max(table))
    return date(year, *table[year])


def mid_autumn(year: int) -> date:
    return _lookup(MID_AUTUMN, year)


def spring_festival(year: int) -> date:
    return _lookup(SPRING_FESTIVAL, year)


def lunar_august(year: int, day: int) -> date:
    """The Gregorian date of lunar 8/``day`` (1 ≤ day ≤ 29) of ``year``."""
    if not 1 <= day <= 29:
        raise ValueError(day)
    return mid_autumn(year) - timedelta(days=15 - day)
