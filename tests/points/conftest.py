"""Fixtures of the points tests: the preset programme, members, a store with gifts in stock.
State is made through the real services."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from laoke.core import clock

_n = itertools.count(1)

# A Tuesday, 2 June 2026, 10:00 in Shanghai: inside the 1–4 redemption window.
IN_WINDOW = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with clock.frozen(IN_WINDOW):
        yield clock


@pytest.fixture
def programme(db, frozen):
    from laoke.points.presets import points_presets_install

    return points_presets_install()


@pytest.fixture
def member(programme):
    return make_member()


def make_member(**kw):
    from laoke.members.services import member_create

    i = next(_n)
    return member_create(name=f"会员{i}", mobile=f"139{i:08d}", **kw)


@pytest.fixture
def store(db):
    from laoke.core.services import store_create

    return store_create(code=f"S{next(_n)}", name="一店")


@pytest.fixture
def gift_offer(programme, store):
    """An 80-point gift with 5 in stock at the store."""
    return make_offer(store, 80, stock=5)


def make_offer(store, level_points: int, *, stock: int):
    from laoke.catalog.services import gift_item_create, gift_stock_adjust
    from laoke.points.models import GiftLevel
    from laoke.points.services import gift_offer_add

    gift = gift_item_create(code=f"G{next(_n)}", name="毛巾")
    if stock:
        gift_stock_adjust(gift=gift, store=store, delta=stock, reason="到货")
    level = GiftLevel.objects.get(points=level_points)
    return gift_offer_add(store=store, level=level, gift=gift)


def earn(member, fen: int, key: str | None = None, **kw):
    from laoke.points.rules import EarnLine
    from laoke.points.services import points_earn

    key = key or f"order-{next(_n)}"
    return points_earn(member=member, key=key, reference=key, lines=[EarnLine(ref="1", paid_fen=fen)], **kw)


def give(member, points: int):
    from laoke.points.services import points_adjust

    return points_adjust(member=member, points=points, reason="test", key=f"k{next(_n)}")
