"""Helpers for the tier tests: figures are set through the real stats helper, inside a
transaction, at a chosen moment (the monthly bucket follows ``at`` in shop time)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from laoke.stats.services import _stats_add
from laoke.tiers.services import tier_evaluate

YUAN = 100  # fen per yuan, written here independently of the app


def spend(member, yuan: int, *, at: datetime | None = None, orders: int = 1):
    with transaction.atomic():
        _stats_add(member=member, spend_fen=yuan * YUAN, orders=orders, at=at)


def recharge(owner, yuan: int, *, at: datetime | None = None):
    key = "group_account" if owner.__class__.__name__ == "GroupAccount" else "member"
    with transaction.atomic():
        _stats_add(**{key: owner}, recharge_fen=yuan * YUAN, at=at)


def spend_and_evaluate(member, yuan: int, *, at: datetime | None = None):
    spend(member, yuan, at=at)
    return tier_evaluate(member=member, reason="order")
