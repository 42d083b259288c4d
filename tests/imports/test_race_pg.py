"""Two imports of the same Taobao report at once (PostgreSQL, tests/race.py), with the negative
control: imports apply one at a time (``pipeline.one_at_a_time``); the second is refused with
IMPORT_BUSY and, confirmed again, writes nothing twice. Without the mutex, two imports of the same
buyers each register the people known only by a Taobao buyer name (neither has attached the
reference yet) — duplicate members with split histories.

The pause (``_UNGUARDED_PAUSE``) sits between registering the buyers and attaching their references,
so the interleaving happens every run."""

from __future__ import annotations

import pytest

from laoke.imports import pipeline
from laoke.imports.services import _check, import_job_apply, import_job_confirm, import_job_create
from laoke.members.models import Member, MemberRef
from laoke.orders.models import Order
from laoke.orders.rebuild import stats_rebuild
from tests.imports.fixtures import fixture_bytes
from tests.race import race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
PEOPLE = 8  # the buyers of the fixture report (README: 9 identified orders, one repeat buyer)


def _jobs(n: int) -> list[str]:
    ids = []
    for _ in range(n):
        job = import_job_create(
            kind="taobao",
            data=fixture_bytes("taobao_orders_gbk.csv"),
            file_name="orders.csv",
            items=fixture_bytes("taobao_items_gbk.csv"),
            items_name="items.csv",
        )
        _check(job.job_id, None)
        import_job_confirm(job_id=job.job_id)
        ids.append(job.job_id)
    return ids


def _race(monkeypatch):
    monkeypatch.setattr(pipeline, "_UNGUARDED_PAUSE", 0.5)
    jobs = _jobs(2)
    results = race(2, lambda i: import_job_apply(job_id=jobs[i]).state)
    return jobs, results


def test_two_imports_at_once_apply_one_after_the_other(monkeypatch):
    jobs, results = _race(monkeypatch)
    assert sorted(results) == ["IMPORT_BUSY", "done"], results
    refused = next(j for j in jobs if Order.objects.filter(import_job=j).count() == 0)
    import_job_confirm(job_id=refused)
    assert import_job_apply(job_id=refused).result["orders_created"] == 0
    assert Member.objects.count() == PEOPLE
    assert Order.objects.count() == 10
    refs = MemberRef.objects.filter(source="taobao")
    assert refs.count() == refs.values("external_id").distinct().count()
    assert stats_rebuild().differing == []


def test_negative_control_without_the_mutex_people_are_registered_twice(monkeypatch):
    monkeypatch.setattr(pipeline, "_UNGUARDED_FOR_TESTS", True)
    _, results = _race(monkeypatch)
    assert results == ["done", "done"], results
    assert Member.objects.count() > PEOPLE  # hk_mandy and sunny_lee (no usable mobile) twice
