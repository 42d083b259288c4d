"""Preset recharge packages (decision 0031). SPEC section 4: "pay 500元, get 550元"; the other two
follow the same ladder (a bigger package, a bigger share): 200→210 (5 %), 500→550 (10 %),
1000→1150 (15 %)."""

from __future__ import annotations

PRESETS: list[dict] = [
    {"name": "充200送10", "price_fen": 20_000, "bonus_fen": 1_000, "sort": 10},
    {"name": "充500送50", "price_fen": 50_000, "bonus_fen": 5_000, "sort": 20},
    {"name": "充1000送150", "price_fen": 100_000, "bonus_fen": 15_000, "sort": 30},
]
