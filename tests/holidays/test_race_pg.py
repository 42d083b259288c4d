"""Many members drawing the last units of a prize at once (PostgreSQL, tests/race.py): never more
winners than the stock. Negative control: with the stock taken by read-check-write
(``draws._UNGUARDED_STOCK``), the same race over-awards — proof the test can fail."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from laoke.core import clock
from laoke.holidays import draws
from laoke.holidays.models import DrawEntry, DrawPrize
from laoke.members.services import member_create
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
NOW = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)
STOCK = 3


def _setup(n: int):
    game = draws.draw_game_create(
        data={
            "code": "race",
            "name": "race",
            "starts_at": NOW - timedelta(hours=1),
            "ends_at": NOW + timedelta(days=1),
            "prizes": [{"name": "最后的月饼", "probability_bp": 10_000, "stock": STOCK}],
        }
    )
    members = [member_create(name=f"m{i}", mobile=f"1390000{i:04d}") for i in range(n)]
    return game, members


def _run(game, members):
    def one(i):
        e = draws.draw(game_id=game.pk, member_id=members[i].pk, rng=random.Random(i))
        return e.prize_id is not None

    # Frozen once for every thread (the frozen clock is process-wide; freezing it in each thread
    # would let the last thread to thaw restore another's freeze and leak it into later tests).
    with clock.frozen(NOW):
        return race(len(members), one)


def test_the_last_prizes_are_never_over_awarded():
    game, members = _setup(pg_threads())
    results = _run(game, members)
    assert sum(1 for r in results if r is True) == STOCK
    assert DrawEntry.objects.filter(game=game, prize__isnull=False).count() == STOCK
    assert DrawPrize.objects.get(game=game).awarded == STOCK


def test_negative_control_without_the_guard_over_awards(monkeypatch):
    monkeypatch.setattr(draws, "_UNGUARDED_STOCK", True)
    game, members = _setup(pg_threads())
    _run(game, members)
    assert DrawEntry.objects.filter(game=game, prize__isnull=False).count() > STOCK
