"""Writes of segments: create, update, archive (validated, audited) and snapshots.

Snapshots (ARCHITECTURE rule 3): the member list of a large segment is written in chunks of at
most 2,000 rows, each in its own short transaction that also advances the snapshot's
``last_member_id`` and ``member_count`` (so a chunk and its progress commit together). The
snapshot row is created first (``building``, with a ``job_id`` and the rule frozen at that time);
the last transaction flips it to ``complete`` and writes the audit row. Members are read in pk
order above ``last_member_id``, with the clock frozen at ``evaluated_at``: a crash leaves a
``building`` snapshot that the next call with the same key resumes from where it stopped — never
a second snapshot, never a duplicated member (the pair is unique).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, FIELD_REQUIRED, FIELD_TOO_LONG, DomainError
from laoke.members._core import actor_of, db_actor

from . import error_codes as E
from .models import Segment, SegmentSnapshot, SnapshotMember
from .rules import rule_queryset, validate
from .selectors import CHUNK

EDITABLE = ("name", "description", "rule", "kind")

# Test hook: raise after this many chunks to simulate a crash mid-snapshot.
_CRASH_AFTER_CHUNKS: int | None = None


def _snap(seg: Segment) -> dict[str, Any]:
    return {
        "name": seg.name,
        "description": seg.description,
        "rule": seg.rule,
        "kind": seg.kind,
        "archived": seg.archived,
    }


def _clean(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DomainError(FIELD_REQUIRED, field="name")
        if len(name.strip()) > 100:
            raise DomainError(FIELD_TOO_LONG, field="name", max=100)
        out["name"] = name.strip()
    if "description" in data:
        desc = data["description"] or ""
        if not isinstance(desc, str):
            raise DomainError(FIELD_INVALID, field="description")
        if len(desc) > 2000:
            raise DomainError(FIELD_TOO_LONG, field="description", max=2000)
        out["description"] = desc
    if "kind" in data:
        if data["kind"] not in Segment.Kind.values:
            raise DomainError(FIELD_INVALID, field="kind")
        out["kind"] = data["kind"]
    if "rule" in data or not partial:
        if "rule" not in data:
            raise DomainError(FIELD_REQUIRED, field="rule")
        validate(data["rule"])
        out["rule"] = data["rule"]
    return out


def _name_free(name: str, exclude_pk: int | None = None) -> None:
    qs = Segment.objects.filter(name=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise DomainError(E.SEGMENT_NAME_TAKEN, field="name", name=name)


def _segment_create(*, values: dict[str, Any], preset: str | None = None, actor=None) -> Segment:
    now = clock.now()
    _name_free(values["name"])
    try:
        with transaction.atomic():
            seg = Segment.objects.create(
                **values, preset=preset, created_at=now, updated_at=now, created_by=db_actor(actor_of(actor))
            )
    except IntegrityError as exc:  # the same name committed concurrently
        raise DomainError(E.SEGMENT_NAME_TAKEN, field="name", name=values["name"]) from exc
    audit_write(action="segment.create", obj=seg, after=_snap(seg), actor=actor)
    return seg


def segment_create(
    *,
    name: str,
    rule: dict,
    description: str = "",
    kind: str = Segment.Kind.DYNAMIC,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Segment:
    """A new segment; the rule is validated first (SEGMENT_* errors name the bad node)."""
    values = _clean({"name": name, "rule": rule, "description": description, "kind": kind}, partial=False)
    with transaction.atomic(durable=True):
        seg = _segment_create(values=values, actor=actor)
        idempotency.complete(idem, seg)
    return seg


def _lock(segment_id: int) -> Segment:
    seg = Segment.objects.select_for_update().filter(pk=segment_id).first()
    if seg is None:
        from laoke.core.errors import NOT_FOUND

        raise DomainError(NOT_FOUND, field="segment_id")
    return seg


def segment_update(
    *, segment_id: int, data: dict[str, Any], actor=None, idem: idempotency.Claim | None = None
) -> Segment:
    """Change name, description, rule or kind (an archived segment cannot change); audited as a
    diff. Snapshots already taken keep the rule they were taken with."""
    values = _clean(data, partial=True)
    with transaction.atomic(durable=True):
        seg = _lock(segment_id)
        if seg.archived:
            raise DomainError(E.SEGMENT_ARCHIVED)
        if "name" in values:
            _name_free(values["name"], exclude_pk=seg.pk)
        before = _snap(seg)
        for k, v in values.items():
            setattr(seg, k, v)
        seg.updated_at = clock.now()
        try:
            with transaction.atomic():
                seg.save()
        except IntegrityError as exc:
            raise DomainError(E.SEGMENT_NAME_TAKEN, field="name", name=values.get("name", "")) from exc
        b, a = diff(before, _snap(seg))
        if a:
            audit_write(action="segment.update", obj=seg, before=b, after=a, actor=actor)
        idempotency.complete(idem, seg)
    return seg


def segment_archive(*, segment_id: int, actor=None, idem: idempotency.Claim | None = None) -> Segment:
    """Archive (hide from lists and pickers); its snapshots are kept. Safe to call twice."""
    with transaction.atomic(durable=True):
        seg = _lock(segment_id)
        if not seg.archived:
            seg.archived = True
            seg.updated_at = clock.now()
            seg.save(update_fields=["archived", "updated_at"])
            audit_write(
                action="segment.archive",
                obj=seg,
                before={"archived": False},
                after={"archived": True},
                actor=actor,
            )
        idempotency.complete(idem, seg)
    return seg


# --- snapshots -----------------------------------------------------------------------------------


def _snapshot_start(*, seg: Segment, key: str | None, now: datetime, actor) -> SegmentSnapshot:
    return SegmentSnapshot.objects.create(
        segment=seg,
        key=key,
        job_id=f"segsnap-{uuid.uuid4().hex}",
        rule=seg.rule,
        evaluated_at=now,
        taken_at=clock.now(),
        taken_by=db_actor(actor_of(actor)),
    )


def _snapshot_chunk(snap: SegmentSnapshot, *, chunk: int) -> int:
    """Write the next ≤ ``chunk`` members above ``last_member_id``; needs the caller's transaction.
    Returns how many were written."""
    ids = list(
        rule_queryset(snap.rule, now=snap.evaluated_at)
        .filter(pk__gt=snap.last_member_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:chunk]
    )
    if not ids:
        return 0
    SnapshotMember.objects.bulk_create(
        [SnapshotMember(snapshot_id=snap.pk, member_id=mid) for mid in ids], ignore_conflicts=True
    )
    SegmentSnapshot.objects.filter(pk=snap.pk, state=SegmentSnapshot.State.BUILDING).update(
        last_member_id=ids[-1], member_count=F("member_count") + len(ids)
    )
    snap.last_member_id = ids[-1]
    return len(ids)


def segment_snapshot_take(
    *, segment_id: int, now: datetime, key: str | None = None, actor=None, chunk: int = CHUNK
) -> SegmentSnapshot:
    """Freeze the members of a segment as of ``now``. Idempotent by ``key``: a complete snapshot
    with that key is returned as is; a ``building`` one (a crash) is finished from where it
    stopped. Each chunk of ≤ 2,000 members is its own short transaction tagged with the job id.
    Must not run inside a transaction."""
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 120):
        raise DomainError(FIELD_INVALID, field="key")
    chunk = max(1, min(chunk, CHUNK))
    with transaction.atomic(durable=True):
        seg = _lock(segment_id)
        snap = None
        if key is not None:
            snap = SegmentSnapshot.objects.select_for_update().filter(key=key).first()
            if snap is not None and snap.segment_id != seg.pk:
                raise DomainError(E.SEGMENT_SNAPSHOT_KEY_OTHER_SEGMENT, field="key", key=key)
        if snap is None:
            if seg.archived:
                raise DomainError(E.SEGMENT_ARCHIVED)
            validate(seg.rule)
            try:
                with transaction.atomic():
                    snap = _snapshot_start(seg=seg, key=key, now=now, actor=actor)
            except IntegrityError:  # the same key started concurrently: use that one
                snap = SegmentSnapshot.objects.select_for_update().get(key=key)
    if snap.state == SegmentSnapshot.State.COMPLETE:
        return snap
    done = 0
    while True:
        with transaction.atomic(durable=True):
            # Lock the snapshot row: two workers resuming the same key write chunks in turn.
            snap = SegmentSnapshot.objects.select_for_update().get(pk=snap.pk)
            if snap.state == SegmentSnapshot.State.COMPLETE:
                return snap
            written = _snapshot_chunk(snap, chunk=chunk)
            if written < chunk:
                SegmentSnapshot.objects.filter(pk=snap.pk).update(
                    state=SegmentSnapshot.State.COMPLETE, completed_at=clock.now()
                )
                snap.refresh_from_db()
                audit_write(
                    action="segment.snapshot",
                    obj=snap,
                    after={
                        "segment_id": snap.segment_id,
                        "key": snap.key,
                        "job_id": snap.job_id,
                        "member_count": snap.member_count,
                        "evaluated_at": snap.evaluated_at.isoformat(),
                    },
                    actor=actor,
                )
                return snap
        done += 1
        if _CRASH_AFTER_CHUNKS is not None and done >= _CRASH_AFTER_CHUNKS:
            raise RuntimeError("simulated crash (test hook)")


# --- export --------------------------------------------------------------------------------------

EXPORT_MAX = 200_000


def segment_export_xlsx(*, segment_id: int, now: datetime, actor=None) -> tuple[bytes, int]:
    """The members of a segment as of ``now`` in an xlsx workbook (member number, name, masked
    mobile, province, city, registered — shop time), at most ``EXPORT_MAX`` rows; the export is
    audited (who, which segment, how many). Returns (workbook bytes, rows)."""
    import io

    from openpyxl import Workbook

    from laoke.members.validation import mask_mobile

    seg = Segment.objects.filter(pk=segment_id).first()
    if seg is None:
        from laoke.core.errors import NOT_FOUND

        raise DomainError(NOT_FOUND, field="segment_id")
    qs = rule_queryset(seg.rule, now=now)
    count = qs.count()
    if count > EXPORT_MAX:
        raise DomainError(E.SEGMENT_EXPORT_TOO_LARGE, count=count, max=EXPORT_MAX)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(seg.name[:31] or "segment")
    ws.append(["member number", "name", "mobile", "province", "city", "registered"])
    rows = 0
    cols = ("code", "name", "mobile", "province", "city", "registered_at")
    for r in qs.order_by("pk").values_list(*cols).iterator(chunk_size=CHUNK):
        reg = clock.to_local(r[5]).strftime("%Y-%m-%d %H:%M")
        ws.append([r[0], r[1], mask_mobile(r[2]), r[3], r[4], reg])
        rows += 1
    buf = io.BytesIO()
    wb.save(buf)
    with transaction.atomic(durable=True):
        audit_write(
            action="segment.export",
            obj=seg,
            after={"rows": rows, "evaluated_at": now.isoformat(), "rule": seg.rule},
            actor=actor,
        )
    return buf.getvalue(), rows
