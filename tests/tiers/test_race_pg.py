"""Concurrent evaluations and grants of one member on PostgreSQL.

The guard is the row lock on the member's tier row (``select_for_update`` in ``_lock_row``):
whoever holds it re-reads the level before deciding, so N evaluations that all see a qualifying
figure write exactly one history row, and a mix of grants and evaluations leaves a history that
is one unbroken chain of real changes (each row starts where the previous one ended) ending at
the current level — no lost or doubled change. Each test has a negative control: the same race
with the lock removed (``services._UNGUARDED_FOR_TESTS``) must show the failure.
"""

import pytest
from django.db import connection, transaction

from laoke.members.services import member_create
from laoke.stats.services import _stats_add
from laoke.tiers import services
from laoke.tiers.models import MemberTier, TierHistory
from laoke.tiers.services import tier_evaluate, tier_grant, tier_presets_install
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _threads() -> int:
    return min(16, pg_threads())


def _member_ready_for_svip():
    """A member at 普通会员 (tier row exists) whose figures now reach 至尊VIP (≥ 20,000元)."""
    tier_presets_install(preset="online_shop")
    m = member_create(name="并发", mobile="13900004444")
    tier_evaluate(member=m)
    with transaction.atomic():
        _stats_add(member=m, spend_fen=20_000 * 100, orders=1)
    return m


def _evaluations(m, n):
    results = race(n, lambda i: tier_evaluate(member=m, reason=f"thread {i}"))
    return [r for r in results if r is not None]


def test_concurrent_evaluations_write_one_change():
    assert connection.vendor == "postgresql"
    m = _member_ready_for_svip()
    n = _threads()
    changes = _evaluations(m, n)
    assert len(changes) == 1
    rows = list(
        TierHistory.objects.filter(member=m).order_by("id").values_list("from_level__code", "to_level__code")
    )
    assert rows == [(None, "regular"), ("regular", "svip")]
    assert MemberTier.objects.get(member=m).level.code == "svip"


def test_concurrent_evaluations_without_the_lock_double_the_change(monkeypatch):
    """Negative control: without the row lock every thread sees 普通会员 and writes an upgrade."""
    m = _member_ready_for_svip()
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    changes = _evaluations(m, _threads())
    assert len(changes) > 1
    assert TierHistory.objects.filter(member=m, from_level__code="regular", to_level__code="svip").count() > 1


def _grants_and_evaluations(n):
    """Half the threads grant VIP by hand, half evaluate (the figures reach 高级会员 only)."""
    from laoke.core.services import roles_sync, staff_user_create

    roles_sync()
    managers = [
        staff_user_create(username=f"mgr{i}", password="x-test-pass-1", role="service_manager")
        for i in range(n)
    ]
    (p,) = tier_presets_install(preset="online_shop")
    vip = p.levels.get(code="vip")
    m = member_create(name="并发", mobile="13900004445")
    tier_evaluate(member=m)
    with transaction.atomic():
        _stats_add(member=m, spend_fen=2_000 * 100, orders=1)

    def work(i):
        if i % 2:
            return tier_grant(member=m, level=vip, reason=f"特批 {i}", actor=managers[i])
        return tier_evaluate(member=m, reason=f"order {i}")

    results = race(n, work)
    rows = list(TierHistory.objects.filter(member=m).order_by("id"))
    return m, results, rows


def _chain_ok(m, rows) -> bool:
    ends = [None] + [r.to_level_id for r in rows]
    return all(r.from_level_id == ends[k] for k, r in enumerate(rows)) and (
        MemberTier.objects.get(member=m).level_id == ends[-1]
    )


def test_grants_and_evaluations_leave_one_unbroken_chain():
    n = _threads()
    m, results, rows = _grants_and_evaluations(n)
    assert _chain_ok(m, rows)
    granted = [r for r in results if isinstance(r, services.TierChange) and r.how == "manual"]
    assert len(granted) == 1  # the other grants found the member at VIP already
    assert results.count("TIER_ALREADY_AT_LEVEL") == n // 2 - 1
    assert MemberTier.objects.get(member=m).level.code == "vip"
    assert len(rows) in (2, 3)  # →普通会员, then →VIP, with →高级会员 between if an evaluation came first


def test_grants_and_evaluations_without_the_lock_break_the_chain(monkeypatch):
    """Negative control: without the lock several grants each see 普通会员 and write a change."""
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    m, results, rows = _grants_and_evaluations(_threads())
    granted = [r for r in results if isinstance(r, services.TierChange) and r.how == "manual"]
    assert len(granted) > 1 or not _chain_ok(m, rows)


def _activate_all(n):
    from django.db import IntegrityError

    from laoke.tiers.models import TierProgramme
    from laoke.tiers.services import tier_programme_create, tier_programme_update

    ps = [
        tier_programme_create(code=f"p{i}", name=f"方案{i}", audience="individual", basis="cumulative_spend")
        for i in range(n)
    ]

    def work(i):
        try:
            return tier_programme_update(programme_id=ps[i].pk, data={"is_active": True}).pk
        except IntegrityError:
            return "integrity"

    results = race(n, work)
    return results, TierProgramme.objects.filter(is_active=True).count()


def test_concurrent_activations_leave_one_active_programme():
    n = min(8, pg_threads())
    results, active = _activate_all(n)
    assert "integrity" not in results and active == 1


def test_concurrent_activations_without_the_lock_collide(monkeypatch):
    """Negative control: without the audience lock the one-active index refuses activations."""
    from laoke.tiers import programmes

    monkeypatch.setattr(programmes, "_UNGUARDED_FOR_TESTS", True)
    results, active = _activate_all(min(8, pg_threads()))
    assert "integrity" in results and active == 1
