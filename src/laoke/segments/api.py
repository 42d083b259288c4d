"""/api/v1/segments: segments (list, create, get, change, archive), the count preview with sample
members (masked mobiles), the field catalogue for builders, snapshots and their members.

Marketers design segments; analysts read and preview; the admin everything. A bad rule is 400
with a SEGMENT_* code and ``details.path`` naming the node. Writes accept an Idempotency-Key
(nothing of value moves).
"""

from datetime import datetime
from typing import Any

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from laoke.core import clock
from laoke.core.api import idempotent_write, lang_of, paginate, require

from . import selectors, services
from .models import Segment, SegmentSnapshot

router = Router(tags=["segments"])

READ, WRITE = "members:read", "members:write"


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class SegmentIn(In):
    name: str = Field(..., max_length=200)
    rule: dict[str, Any]
    description: str = Field("", max_length=4000)
    kind: str = Field("dynamic", max_length=20)


class SegmentPatch(In):
    name: str | None = Field(None, max_length=200)
    rule: dict[str, Any] | None = None
    description: str | None = Field(None, max_length=4000)
    kind: str | None = Field(None, max_length=20)


class PreviewIn(In):
    rule: dict[str, Any]
    sample: int = Field(20, ge=0, le=100)


class SnapshotIn(In):
    key: str | None = Field(None, max_length=120)


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    rule: dict[str, Any]
    kind: str
    preset: str | None
    archived: bool
    created_at: datetime
    updated_at: datetime


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class SampleOut(Schema):
    id: int
    code: str
    name: str
    mobile: str


class PreviewOut(Schema):
    count: int
    sample: list[SampleOut]


class FieldOut(Schema):
    key: str
    label: str
    type: str
    group: str
    ops: list[str]
    choices: list[dict[str, str]] | None
    minimum: float | None
    maximum: float | None


class SnapshotOut(Schema):
    id: int
    segment_id: int
    key: str | None
    job_id: str
    state: str
    member_count: int
    rule: dict[str, Any]
    evaluated_at: datetime
    taken_at: datetime
    completed_at: datetime | None


class SnapshotPage(Schema):
    items: list[SnapshotOut]
    next_cursor: str | None


class MemberPage(Schema):
    items: list[SampleOut]
    next_cursor: str | None


def _out(seg: Segment) -> dict:
    return {
        "id": seg.pk,
        "name": seg.name,
        "description": seg.description,
        "rule": seg.rule,
        "kind": seg.kind,
        "preset": seg.preset,
        "archived": seg.archived,
        "created_at": seg.created_at,
        "updated_at": seg.updated_at,
    }


def _snap_out(s: SegmentSnapshot) -> dict:
    return {
        "id": s.pk,
        "segment_id": s.segment_id,
        "key": s.key,
        "job_id": s.job_id,
        "state": s.state,
        "member_count": s.member_count,
        "rule": s.rule,
        "evaluated_at": s.evaluated_at,
        "taken_at": s.taken_at,
        "completed_at": s.completed_at,
    }


@router.get("", response=SegmentPage)
@require("segments.view_segment", READ)
def segments_list(
    request, archived: bool = False, cursor: str | None = None, limit: int | None = Query(None, ge=1, le=500)
):
    rows, next_cursor = paginate(selectors.segment_list(archived=archived), cursor=cursor, limit=limit)
    return {"items": [_out(s) for s in rows], "next_cursor": next_cursor}


@router.post("", response={201: SegmentOut})
@require("segments.add_segment", WRITE)
def segments_create(request, payload: SegmentIn):
    data = payload.model_dump()
    return idempotent_write(
        request,
        scope="segments.create",
        payload=data,
        call=lambda claim: services.segment_create(**data, actor=request.user, idem=claim),
        render=lambda seg: (201, _out(seg)),
    )


@router.get("/fields", response=list[FieldOut])
@require("segments.view_segment", READ)
def segments_fields(request):
    return selectors.field_catalog(lang_of(request))


@router.post("/preview", response=PreviewOut)
@require("segments.preview_segment", READ)
def segments_preview(request, payload: PreviewIn):
    now = clock.now()
    count = selectors.segment_count(payload.rule, now=now)
    return {"count": count, "sample": selectors.segment_sample(payload.rule, now=now, n=payload.sample)}


@router.get("/{int:segment_id}", response=SegmentOut)
@require("segments.view_segment", READ)
def segments_get(request, segment_id: int):
    return _out(selectors.segment_get(segment_id))


@router.patch("/{int:segment_id}", response=SegmentOut)
@require("segments.change_segment", WRITE)
def segments_update(request, segment_id: int, payload: SegmentPatch):
    data = payload.model_dump(exclude_unset=True)
    return idempotent_write(
        request,
        scope=f"segments.update:{segment_id}",
        payload=data,
        call=lambda claim: services.segment_update(
            segment_id=segment_id, data=data, actor=request.user, idem=claim
        ),
        render=lambda seg: (200, _out(seg)),
    )


@router.post("/{int:segment_id}/archive", response=SegmentOut)
@require("segments.change_segment", WRITE)
def segments_archive(request, segment_id: int):
    return idempotent_write(
        request,
        scope=f"segments.archive:{segment_id}",
        payload={},
        call=lambda claim: services.segment_archive(segment_id=segment_id, actor=request.user, idem=claim),
        render=lambda seg: (200, _out(seg)),
    )


@router.get("/{int:segment_id}/export.xlsx")
@require("segments.export_segment", READ)
def segments_export(request, segment_id: int):
    """The segment's members now, as xlsx (mobiles masked; at most 200,000 rows; audited)."""
    body, rows = services.segment_export_xlsx(segment_id=segment_id, now=clock.now(), actor=request.user)
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="segment-{segment_id}.xlsx"'
    response["X-Rows"] = str(rows)
    return response


@router.get("/{int:segment_id}/snapshots", response=SnapshotPage)
@require("segments.view_segmentsnapshot", READ)
def snapshots_list(
    request, segment_id: int, cursor: str | None = None, limit: int | None = Query(None, ge=1, le=500)
):
    selectors.segment_get(segment_id)
    qs = SegmentSnapshot.objects.filter(segment_id=segment_id)
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_snap_out(s) for s in rows], "next_cursor": next_cursor}


@router.post("/{int:segment_id}/snapshots", response={201: SnapshotOut})
@require("segments.add_segmentsnapshot", WRITE)
def snapshots_create(request, segment_id: int, payload: SnapshotIn):
    """Freeze the segment's members now (written in chunks; with a ``key``, idempotent)."""
    snap = services.segment_snapshot_take(
        segment_id=segment_id, now=clock.now(), key=payload.key, actor=request.user
    )
    return Status(201, _snap_out(snap))


@router.get("/{int:segment_id}/snapshots/{int:snapshot_id}", response=SnapshotOut)
@require("segments.view_segmentsnapshot", READ)
def snapshots_get(request, segment_id: int, snapshot_id: int):
    return _snap_out(selectors.snapshot_get(snapshot_id, segment_id=segment_id))


@router.get("/{int:segment_id}/snapshots/{int:snapshot_id}/members", response=MemberPage)
@require("segments.view_segmentsnapshot", READ)
def snapshots_members(
    request,
    segment_id: int,
    snapshot_id: int,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1, le=500),
):
    """Members of a snapshot (masked mobiles), newest member first."""
    from laoke.members.validation import mask_mobile

    selectors.snapshot_get(snapshot_id, segment_id=segment_id)
    rows, next_cursor = paginate(
        selectors.snapshot_members(snapshot_id).only("id", "code", "name", "mobile"),
        cursor=cursor,
        limit=limit,
    )
    items = [{"id": m.pk, "code": m.code, "name": m.name, "mobile": mask_mobile(m.mobile)} for m in rows]
    return {"items": items, "next_cursor": next_cursor}
