"""PostgreSQL races of the flash zone (tests/race.py), each with its negative control.

- Stock: 30 old customers claim one item-day of 10 units at once: exactly 10 claims and
  ``sold == 10`` (the guarded UPDATE). Negative control: with the read-check-write switch
  (``services._UNGUARDED_FOR_TESTS``) and a pause between the read and the write, more than 10
  members believe they bought one.
- Per member: one member sends 8 claims (8 orders) at once: exactly one claim and one unit sold
  (the partial unique index). Negative control: the index dropped for the test and the
  read-check-write path on — several claims for the one member.

The negative controls set ``_UNGUARDED_PAUSE`` so the interleaving the guard prevents happens
every run.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from laoke.core import clock
from laoke.flash import services
from laoke.flash.models import FlashClaim, FlashDay
from tests.flash.helpers import NOW, at, item, member, product
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
UNITS = 10
BUYERS = 30
ONE_MEMBER_TRIES = 8
INDEX = "flash_claim_one_active"


def _setup():
    services.flash_presets_install(now=NOW)
    p = product(19_900)
    item(p, floor_fen=9_900)
    services.flash_tick(NOW)
    return p


def _attempt(p, m, order_ref):
    with transaction.atomic():
        return services._flash_claim(
            product_id=p.pk, member=m, quantity=1, order_ref=order_ref, now=at(11, 30)
        ).order_ref


def _stock_race():
    with clock.frozen(NOW):
        p = _setup()
        buyers = [member() for _ in range(BUYERS)]
        assert pg_threads() >= 8
        results = race(BUYERS, lambda i: _attempt(p, buyers[i], f"O{i}"))
    return [r for r in results if isinstance(r, str) and r.startswith("O")], results


def test_30_members_claim_10_units_concurrently_exactly_10_win():
    wins, results = _stock_race()
    assert len(wins) == UNITS, results
    assert results.count("FLASH_SOLD_OUT") == BUYERS - UNITS
    day = FlashDay.objects.get()
    assert (day.units, day.sold) == (UNITS, UNITS)
    assert FlashClaim.objects.filter(state="claimed").count() == UNITS
    assert set(FlashClaim.objects.values_list("unit_price_fen", flat=True)) == {17_910}


def test_negative_control_read_check_write_oversells(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.2)
    wins, results = _stock_race()
    assert len(wins) > UNITS, results
    assert FlashClaim.objects.count() > FlashDay.objects.get().units  # oversold: more claims than units


def _one_member_race():
    with clock.frozen(NOW):
        p = _setup()
        m = member()
        results = race(ONE_MEMBER_TRIES, lambda i: _attempt(p, m, f"M{i}"))
    return [r for r in results if isinstance(r, str) and r.startswith("M")], results, m


def test_one_member_claiming_8_times_concurrently_gets_exactly_one():
    wins, results, m = _one_member_race()
    assert len(wins) == 1, results
    assert results.count("FLASH_LIMIT_REACHED") == ONE_MEMBER_TRIES - 1
    assert FlashClaim.objects.filter(member=m, state="claimed").count() == 1
    assert FlashDay.objects.get().sold == 1


def test_the_unique_index_alone_holds_when_the_check_is_read_check_write(monkeypatch):
    """The switch on but the index kept: the read-check lets all 8 through to the INSERT and the
    index still refuses all but one — the index, not the pre-check, is the guard."""
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.2)
    wins, results, m = _one_member_race()
    assert len(wins) == 1, results
    assert FlashClaim.objects.filter(member=m).count() == 1


@pytest.fixture
def without_unique_index():
    """Drop the one-active-claim index for the negative control; put it back afterwards."""
    constraint = next(c for c in FlashClaim._meta.constraints if c.name == INDEX)
    with connection.schema_editor() as editor:
        editor.remove_constraint(FlashClaim, constraint)
    try:
        yield
    finally:
        FlashClaim.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(FlashClaim, constraint)


def test_negative_control_without_the_index_one_member_gets_several(monkeypatch, without_unique_index):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.2)
    wins, results, m = _one_member_race()
    assert len(wins) > 1, results
    assert FlashClaim.objects.filter(member=m, state="claimed").count() > 1
