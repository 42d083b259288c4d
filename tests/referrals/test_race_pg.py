"""PostgreSQL race (tests/race.py): one new member registered with N different referrers at once
gives exactly one referral and one pair of reward coupons.

Two guards stand behind that: both members' rows are locked in pk order before the pre-check
(so a late registration waits and then sees the winner), and the unique index on
``Referral.new_member`` (the insert of a loser fails and becomes REFERRAL_ALREADY_REFERRED).

- The normal path: exactly one.
- Locks off (``services._UNGUARDED_FOR_TESTS``, with a pause between the pre-check and the
  INSERT so every thread passes the pre-check): still exactly one — the constraint path alone
  holds.
- Negative control: locks off *and* the unique index dropped for the test — several referrals and
  several pairs of coupons, proof that the test can fail.
"""

from __future__ import annotations

import pytest
from django.db import connection

from laoke.core import clock
from laoke.members.services import member_create
from laoke.promotions.models import Coupon
from laoke.referrals import services
from laoke.referrals.models import Referral
from tests.race import pg_threads, race
from tests.referrals.helpers import NOW

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _register_race():
    with clock.frozen(NOW):
        services.referrals_presets_install()
        n = min(pg_threads(), 16)
        referrers = [member_create(name=f"老会员{i}", mobile=f"1380010{i:04d}") for i in range(n)]
        new = member_create(name="新会员", mobile="13900009999")
        results = race(
            n,
            lambda i: services.referral_register(new_member=new, referrer_ref=referrers[i].code).referrer_id,
        )
    return n, [r for r in results if isinstance(r, int)], results, new


def _assert_exactly_one(n, wins, results, new):
    assert len(wins) == 1, results
    assert results.count("REFERRAL_ALREADY_REFERRED") == n - 1, results
    r = Referral.objects.get(new_member=new)
    assert r.referrer_id == wins[0]
    assert sorted(Coupon.objects.values_list("member_id", flat=True)) == sorted([r.referrer_id, new.pk])


def test_one_member_registered_with_many_referrers_at_once_is_referred_once():
    _assert_exactly_one(*_register_race())


def test_without_the_locks_the_unique_index_still_decides(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.3)
    _assert_exactly_one(*_register_race())


@pytest.fixture
def no_unique_index():
    constraint = next(c for c in Referral._meta.constraints if c.name == "referral_new_member_uniq")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Referral, constraint)
    try:
        yield
    finally:
        Referral.objects.all().delete()  # the duplicates the control made, before the index returns
        with connection.schema_editor() as editor:
            editor.add_constraint(Referral, constraint)


def test_negative_control_without_locks_and_index_refers_a_member_several_times(monkeypatch, no_unique_index):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.3)
    _, wins, results, new = _register_race()
    assert len(wins) > 1, results
    assert Referral.objects.filter(new_member=new).count() > 1
    assert Coupon.objects.filter(member=new).count() > 1
