"""Test helpers: templates through the real service."""

from __future__ import annotations

from datetime import UTC, datetime

from laoke.promotions.services import coupon_template_create

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
END = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def template(**overrides):
    data = {
        "name": "满100减10",
        "kind": "fixed",
        "threshold_fen": 10_000,
        "amount_off_fen": 1_000,
        "valid_to": END,
    }
    data.update(overrides)
    return coupon_template_create(data=data)
