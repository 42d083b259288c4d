"""The demo hook: the seed 000 campaign with applications in each state, one draw game."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from laoke.core import clock
from laoke.holidays.demo import demo_load
from laoke.holidays.models import DrawEntry, GiftApplication
from laoke.holidays.selectors import budget
from laoke.members.services import member_create

pytestmark = pytest.mark.django_db


def test_demo_load(roles):
    for i in range(3):
        member_create(name=f"会员{i}", mobile=f"1370000000{i}")
    now = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    with clock.frozen(now):
        out = demo_load(rng=random.Random(3), now=now)
    assert out == {"gift_campaigns": 1, "gift_applications": 6, "draw_games": 1, "draws": 3}
    states = sorted(GiftApplication.objects.values_list("state", flat=True))
    assert states == ["approved"] * 3 + ["pending", "rejected", "reviewed"]
    b = budget(GiftApplication.objects.first().campaign)
    # approved: 陈志强 high, 黄伟明 high, 李秀英 normal → 2 × 168 + 88 + 3 cards × 3
    assert b.total_fen == 2 * 16_800 + 8_800 + 3 * 300
    assert DrawEntry.objects.count() == 3
