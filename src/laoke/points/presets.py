"""Presets of the points programme (SPEC 3, seeds 001/002/003), installed by
``points_presets_install()`` — idempotent: a second run changes nothing, and an operator's later
changes to the programme are never overwritten.

- 1 point per 元 paid, rounded down per line; member special-sale lines earn nothing;
- expiry off (an operator may set months), reminders 30 days before expiry;
- no negative balances; redemption window days 1–4 of each month (shop time);
- gift budget 0.6 % of sales (60 bp); permanent member at the 8,000-point gift;
- gift levels 一级好礼 80 … 八级好礼 8,000 points (seed 002; the seed names the value of levels
  1, 7 and 8: 5元, 250元, 800元);
- receipt claims (补积分) for 30 days; daily sign-in 5 points, +20 every 7th day, +100 every 30th.
"""

from __future__ import annotations

from django.db import transaction

from laoke.core import clock
from laoke.core.audit import audit_write

from .models import GiftLevel, PointsProgramme

PROGRAMME = {
    "code": "default",
    "name": "会员积分",
    "points_per_yuan": 1,
    "rounding": PointsProgramme.Rounding.DOWN,
    "expiry_months": None,
    "reminder_days": 30,
    "allow_negative": False,
    "window_start_day": 1,
    "window_end_day": 4,
    "gift_budget_bp": 60,
    "permanent_points": 8000,
    "claim_days": 30,
    "signin_points": 5,
    "signin_streak_bonus": {"7": 20, "30": 100},
}

GIFT_LEVELS = [
    (80, "一级好礼", 500),
    (100, "二级好礼", None),
    (200, "三级好礼", None),
    (600, "四级好礼", None),
    (800, "五级好礼", None),
    (1200, "六级好礼", None),
    (2500, "七级好礼", 25_000),
    (8000, "八级好礼", 80_000),
]


def points_presets_install(*, actor=None) -> PointsProgramme:
    """Create the preset programme (active unless another programme is) and its gift levels."""
    with transaction.atomic(durable=True):
        now = clock.now()
        programme = PointsProgramme.objects.select_for_update().filter(code=PROGRAMME["code"]).first()
        if programme is None:
            active_exists = PointsProgramme.objects.filter(is_active=True).exists()
            programme = PointsProgramme.objects.create(
                **PROGRAMME, is_active=not active_exists, created_at=now, updated_at=now
            )
            audit_write(
                action="points.presets.install", obj=programme, after={"code": programme.code}, actor=actor
            )
        for points, name, value_fen in GIFT_LEVELS:
            GiftLevel.objects.get_or_create(
                programme=programme, points=points, defaults={"name": name, "value_fen": value_fen}
            )
    return programme
