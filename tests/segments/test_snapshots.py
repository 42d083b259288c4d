"""Segments through the services: create/update/archive with audit rows; snapshots written in
chunks, idempotent by key, resumed after a crash; member ids read back in ascending chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.models import Member
from laoke.segments import services
from laoke.segments.models import SegmentSnapshot, SnapshotMember
from laoke.segments.selectors import segment_count, snapshot_member_ids

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 2, tzinfo=UTC)
RULE = {"all": [{"field": "profile.registered_at", "op": "before", "value": "2026-03-01"}]}


def _members(n: int, *, start=0, days_ago=30) -> list[int]:
    """Bulk members (a bulk fixture: registration through the service is tested elsewhere)."""
    at = NOW - timedelta(days=days_ago)
    rows = [
        Member(code=f"T{start + i:08d}", name=f"m{i}", registered_at=at, created_at=at, updated_at=at)
        for i in range(n)
    ]
    return [m.pk for m in Member.objects.bulk_create(rows)]


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield NOW


def test_create_update_archive_are_validated_and_audited(frozen):
    seg = services.segment_create(name="老客", rule=RULE, description="d")
    with pytest.raises(DomainError) as e:
        services.segment_create(name="老客", rule=RULE)
    assert e.value.code == "SEGMENT_NAME_TAKEN"
    with pytest.raises(DomainError) as e:
        services.segment_update(segment_id=seg.pk, data={"rule": {"all": []}})
    assert e.value.code == "SEGMENT_GROUP_EMPTY"
    seg = services.segment_update(segment_id=seg.pk, data={"name": "老客2", "kind": "snapshot"})
    assert (seg.name, seg.kind) == ("老客2", "snapshot")
    services.segment_archive(segment_id=seg.pk)
    services.segment_archive(segment_id=seg.pk)  # twice: one audit row
    with pytest.raises(DomainError) as e:
        services.segment_update(segment_id=seg.pk, data={"name": "x"})
    assert e.value.code == "SEGMENT_ARCHIVED"
    actions = list(AuditEntry.objects.filter(object_type="segments.segment").values_list("action", flat=True))
    assert sorted(actions) == ["segment.archive", "segment.create", "segment.update"]
    after = AuditEntry.objects.get(action="segment.update").after
    assert after == {"name": "老客2", "kind": "snapshot"}


def test_snapshot_is_chunked_idempotent_by_key_and_frozen(frozen):
    ids = _members(25)
    _members(3, start=100, days_ago=1)  # registered after the cut-off: not in the segment
    seg = services.segment_create(name="s", rule=RULE)
    snap = services.segment_snapshot_take(segment_id=seg.pk, now=NOW, key="campaign:1", chunk=10)
    assert (snap.state, snap.member_count, snap.rule) == ("complete", 25, RULE)
    assert list(snapshot_member_ids(snap.pk, chunk=7)) == sorted(ids)
    again = services.segment_snapshot_take(segment_id=seg.pk, now=NOW + timedelta(days=1), key="campaign:1")
    assert again.pk == snap.pk and SegmentSnapshot.objects.count() == 1
    # The rule changes and more members arrive: the snapshot keeps its members and its rule.
    services.segment_update(segment_id=seg.pk, data={"rule": {"not": RULE}})
    _members(2, start=200)
    assert SnapshotMember.objects.filter(snapshot=snap).count() == 25
    assert SegmentSnapshot.objects.get(pk=snap.pk).rule == RULE
    other = services.segment_create(name="t", rule=RULE)
    with pytest.raises(DomainError) as e:
        services.segment_snapshot_take(segment_id=other.pk, now=NOW, key="campaign:1")
    assert e.value.code == "SEGMENT_SNAPSHOT_KEY_OTHER_SEGMENT"
    audit = AuditEntry.objects.get(action="segment.snapshot")
    assert audit.after["member_count"] == 25 and audit.after["job_id"] == snap.job_id


def test_a_crashed_snapshot_is_resumed_never_duplicated(frozen, monkeypatch):
    ids = _members(23)
    seg = services.segment_create(name="s", rule=RULE)
    monkeypatch.setattr(services, "_CRASH_AFTER_CHUNKS", 2)
    with pytest.raises(RuntimeError):
        services.segment_snapshot_take(segment_id=seg.pk, now=NOW, key="k", chunk=5)
    snap = SegmentSnapshot.objects.get(key="k")
    # Two committed chunks of five, each with its progress; the building snapshot has no audit row.
    assert (snap.state, snap.member_count, SnapshotMember.objects.filter(snapshot=snap).count()) == (
        "building",
        10,
        10,
    )
    assert snap.last_member_id == sorted(ids)[9]
    assert not AuditEntry.objects.filter(action="segment.snapshot").exists()
    monkeypatch.setattr(services, "_CRASH_AFTER_CHUNKS", None)
    done = services.segment_snapshot_take(segment_id=seg.pk, now=NOW + timedelta(hours=5), key="k", chunk=5)
    assert done.pk == snap.pk and done.state == "complete" and done.member_count == 23
    assert done.evaluated_at == NOW  # resumed with the clock it started with
    assert list(snapshot_member_ids(done.pk)) == sorted(ids)
    assert SegmentSnapshot.objects.count() == 1


def test_snapshot_without_key_and_the_2000_row_chunk_limit(frozen):
    ids = _members(2_100)
    seg = services.segment_create(name="big", rule=RULE)
    assert segment_count(RULE, now=NOW) == 2_100
    with CaptureQueriesContext(connection) as ctx:
        snap = services.segment_snapshot_take(segment_id=seg.pk, now=NOW, chunk=50_000)  # capped at 2,000
    progress = [
        q for q in ctx.captured_queries if '"last_member_id" =' in q["sql"] and q["sql"].startswith("UPDATE")
    ]
    assert len(progress) == 2  # chunks of 2,000 and 100, each with its progress
    assert snap.member_count == 2_100 and snap.key is None
    assert list(snapshot_member_ids(snap.pk)) == sorted(ids)
    second = services.segment_snapshot_take(segment_id=seg.pk, now=NOW)
    assert second.pk != snap.pk  # no key: a new snapshot each time
