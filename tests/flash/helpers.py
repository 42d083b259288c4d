"""Test helpers: products, members with paid orders and flash items through the real services."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction

from laoke.catalog.services import product_create
from laoke.flash import services
from laoke.members.services import member_create
from laoke.stats.services import _stats_add

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai: the zone opens
TODAY = date(2026, 3, 10)
_seq = itertools.count(1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: date = TODAY, second: int = 0) -> datetime:
    """``hour:minute`` shop time (Asia/Shanghai) on ``day``, as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)


def product(price_fen: int = 19_900, **kw):
    n = next(_seq)
    return product_create(
        sku=kw.pop("sku", f"FL-{n}"), title=kw.pop("title", f"丝巾{n}"), list_price_fen=price_fen
    )


def member(*, orders: int = 1, when: datetime = datetime(2025, 12, 1, tzinfo=UTC), with_mobile: bool = True):
    """A member with ``orders`` paid orders booked into stats (0: a new customer)."""
    n = next(_seq)
    m = member_create(name=f"老客{n}", mobile=f"139{n:08d}" if with_mobile else None)
    if orders:
        with transaction.atomic():
            _stats_add(member=m, spend_fen=10_000 * orders, orders=orders, at=when)
    return m


def item(
    prod=None, *, floor_fen: int | None = 5_000, slot: int = 1, run_start: date | None = TODAY, now=NOW, **kw
):
    data = {"product": prod or product(), "floor_fen": floor_fen, "slot": slot, "run_start": run_start, **kw}
    return services.flash_item_create(data=data, now=now)
