"""Concurrent additions to one member's totals and to one monthly bucket on PostgreSQL.

Every thread adds 1元 and one order in the same month, in its own transaction, while neither the
running totals nor the month's bucket exist yet: the guarded ``F()`` upsert (insert if missing, a
lost insert race retried as an UPDATE) must land every addition. Negative control: the same race
through a read-modify-save upsert loses additions.
"""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.expressions import CombinedExpression

from laoke.members.services import member_create
from laoke.stats import services
from laoke.stats.models import MemberMonthStats, MemberStats
from laoke.stats.services import _stats_add
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

AT = datetime(2026, 5, 20, 4, tzinfo=UTC)


def _add_all(m, n):
    def work(i):
        with transaction.atomic():
            _stats_add(member=m, spend_fen=100, orders=1, at=AT)

    race(n, work)


def test_concurrent_additions_all_land():
    n = min(16, pg_threads())
    m = member_create(name="并发统计", mobile="13900005555")
    _add_all(m, n)
    s = MemberStats.objects.get(member=m)
    b = MemberMonthStats.objects.get(member=m)
    assert (s.spend_total_fen, s.order_count) == (n * 100, n)
    assert (b.spend_fen, b.orders, b.month.isoformat()) == (n * 100, n, "2026-05-01")


def _read_modify_save(model, lookup, changes, create_defaults):
    """What the guarded upsert replaces: read the row, add in Python, save."""
    row = model.objects.filter(**lookup).first()
    if row is None:
        try:
            with transaction.atomic():
                row = model.objects.create(**lookup, **create_defaults)
        except IntegrityError:
            row = model.objects.get(**lookup)
    for field, change in changes.items():
        if isinstance(change, CombinedExpression) and isinstance(change.lhs, F) and change.lhs.name == field:
            setattr(row, field, getattr(row, field) + change.rhs.value)
    row.save()


def test_read_modify_save_loses_additions(monkeypatch):
    """Negative control: the same race through read-modify-save ends below n × 1元."""
    n = min(16, pg_threads())
    m = member_create(name="并发统计", mobile="13900005556")
    monkeypatch.setattr(services, "_upsert_add", _read_modify_save)
    _add_all(m, n)
    s = MemberStats.objects.get(member=m)
    b = MemberMonthStats.objects.get(member=m)
    assert s.spend_total_fen < n * 100 or b.spend_fen < n * 100
