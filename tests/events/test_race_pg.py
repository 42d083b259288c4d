"""Concurrent sign-ins of the same guest and concurrent draws of the same lottery (PostgreSQL,
tests/race.py) give one result: one voucher and one ticket, one set of winners. Negative controls:
without the row lock (and, for the draw, the "already drawn" check) the same races fail — errors
from the unique constraints the second writer hits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError

from laoke.core import clock
from laoke.events import event_services as ev
from laoke.events import services
from laoke.events.models import Entry, Lottery, Win
from laoke.promotions.models import Coupon
from tests.race import pg_threads, race

from .conftest import EVENT_AT, NOW, World

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tworld(transactional_db):
    with clock.frozen(NOW):
        yield World()


def _guarded(fn):
    def run(i):
        try:
            return fn(i)
        except IntegrityError:
            return "integrity"

    return run


def _signed_in_race(tworld, n):
    # Only this role's permission (roles_sync would need every app's migrations).
    group = Group.objects.create(name="general_manager")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="events", codename="approve_invitees")
    )
    gm = get_user_model().objects.create_user(username="gm", password="x-password-123", is_staff=True)
    gm.groups.add(group)
    e = ev.event_create(
        name="答谢会", starts_at=EVENT_AT, venue_store=tworld.store, voucher_template=tworld.voucher
    )
    inv = ev.invitee_add(event_id=e.pk, member=tworld.members["A"], department="市场部")
    ev.invitee_list_submit(event_id=e.pk)
    ev.invitee_list_decide(event_id=e.pk, approve=True, actor=gm)
    with clock.frozen(EVENT_AT):
        return e, race(n, _guarded(lambda i: ev.invitee_sign_in(invitee_id=inv.pk).voucher_id))


def test_concurrent_sign_ins_give_one_voucher_and_one_ticket(tworld):
    n = min(pg_threads(), 16)
    e, results = _signed_in_race(tworld, n)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert Coupon.objects.filter(template=tworld.voucher).count() == 1
    assert Entry.objects.filter(lottery__event=e).count() == 1


def test_negative_control_sign_ins_without_the_lock_collide(tworld, monkeypatch):
    monkeypatch.setattr(ev, "_UNLOCKED_FOR_TESTS", True)
    monkeypatch.setattr(ev, "_UNLOCKED_PAUSE", 0.3)
    _, results = _signed_in_race(tworld, 4)
    assert "integrity" in results, results


def _draw_race(tworld, n):
    lot = services.lottery_create(
        name="会员日抽奖",
        kind="member_day",
        entry_opens_at=NOW - timedelta(days=1),
        entry_closes_at=NOW + timedelta(days=1),
    )
    services.prize_add(
        lottery_id=lot.pk, tier=1, name="券", stock=2, kind="coupon", coupon_template=tworld.prize_coupon
    )
    services.prize_add(lottery_id=lot.pk, tier=2, name="积分", stock=1, kind="points", points=300)
    services.lottery_open(lottery_id=lot.pk)
    services.lottery_commit(lottery_id=lot.pk)

    def draw(i):
        out = services.lottery_draw(lottery_id=lot.pk)
        return (out.seed, tuple(Win.objects.filter(lottery=lot).values_list("slot", "entry_id")))

    return lot, race(n, _guarded(draw))


def test_concurrent_draws_give_one_result(tworld):
    n = min(pg_threads(), 16)
    lot, results = _draw_race(tworld, n)
    assert len(set(results)) == 1 and results[0] != "integrity", results
    assert Win.objects.filter(lottery=lot).count() == 3
    assert Coupon.objects.filter(template=tworld.prize_coupon).count() == 2
    assert Lottery.objects.get(pk=lot.pk).state == "drawn"


def test_negative_control_draws_without_the_lock_collide(tworld, monkeypatch):
    monkeypatch.setattr(services, "_UNLOCKED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNLOCKED_PAUSE", 0.3)
    _, results = _draw_race(tworld, 4)
    assert "integrity" in results, results
