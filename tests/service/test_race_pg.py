"""Several workers run ``service_tick`` at once over one overdue case (PostgreSQL, tests/race.py):
the case is locked and re-checked before it moves, so it goes up exactly one level with one audit
row. Negative control: without the lock (``_UNLOCKED_FOR_TESTS``) every worker read the case while
it was still due and each escalated it — one audit row and notice per worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from laoke.core import clock
from laoke.core.models import AuditEntry
from laoke.members.services import member_create
from laoke.service import services
from laoke.service.services import case_file, service_tick
from tests.race import race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
T0 = datetime(2027, 1, 11, 2, 0, tzinfo=UTC)
N = 8


def _race(staff):
    staff("service_agent")
    branch = staff("sales_manager")
    with clock.frozen(T0):
        case = case_file(member_id=member_create(name="顾客", mobile="13900009999").pk, level="dissatisfied")
    later = T0 + timedelta(hours=25)
    with clock.frozen(later):
        results = race(N, lambda i: service_tick(later)["escalated"])
    case.refresh_from_db()
    return case, branch, results


def test_concurrent_ticks_escalate_once(staff):
    case, branch, results = _race(staff)
    assert sorted(results) == [0] * (N - 1) + [1], results
    assert (case.escalation_level, case.assignee_id) == (1, branch.pk)
    assert AuditEntry.objects.filter(action="service.case.escalate", object_id=str(case.pk)).count() == 1


def test_negative_control_without_the_lock_the_case_is_escalated_by_every_worker(staff, monkeypatch):
    monkeypatch.setattr(services, "_UNLOCKED_FOR_TESTS", True)
    case, _branch, results = _race(staff)
    assert sum(results) > 1, results
    assert AuditEntry.objects.filter(action="service.case.escalate", object_id=str(case.pk)).count() > 1
