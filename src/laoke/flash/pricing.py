"""The flash price (pure: no database, no clock).

Seed 001: 每小时减一折 — every full hour after the day's opening the price drops by ``step_bp`` of
the *list* price (1000 bp = 10% of list, not 10% of the current price), never below the floor the
operator set. The drop is rounded half-up to the fen once, on the total (list × step × hours), so
hour h is exactly "list − h × 10% of list" whatever h is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from laoke.core.errors import DomainError
from laoke.core.money import BP_ONE, half_up_div

from .error_codes import NOT_ON_SALE

HOUR = timedelta(hours=1)


def hours_elapsed(opened_at: datetime, now: datetime) -> int:
    """Full hours since the opening (0 in the first hour)."""
    return int((now - opened_at) // HOUR)


def flash_price(list_price_fen: int, floor_fen: int, opened_at: datetime, now: datetime, step_bp: int) -> int:
    """The unit price at ``now``: list − step × list × full hours elapsed, half-up to the fen, never
    below ``floor_fen``. Before the opening the item is not on sale (FLASH_NOT_ON_SALE)."""
    if list_price_fen < 0 or floor_fen < 0 or not 0 < step_bp <= BP_ONE:
        raise ValueError("prices must be >= 0 and step_bp in 1..10000")
    if now < opened_at:
        raise DomainError(NOT_ON_SALE)
    drop = half_up_div(list_price_fen * step_bp * hours_elapsed(opened_at, now), BP_ONE)
    return max(list_price_fen - drop, min(floor_fen, list_price_fen))


def next_drop_at(*, list_price_fen: int, floor_fen: int, opened_at: datetime, now: datetime, step_bp: int):
    """When the price drops next (``None`` once the floor is reached). Before the opening: the
    opening itself is the next change."""
    if now < opened_at:
        return opened_at
    if flash_price(
        list_price_fen=list_price_fen, floor_fen=floor_fen, opened_at=opened_at, now=now, step_bp=step_bp
    ) <= min(floor_fen, list_price_fen):
        return None
    return opened_at + HOUR * (hours_elapsed(opened_at, now) + 1)
