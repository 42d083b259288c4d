"""Reads of segments: the members of a rule (one SQL statement), counts, samples, the field
catalogue for the builder, snapshots and their members."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import translation

from laoke.core.errors import NOT_FOUND, DomainError
from laoke.members.models import Member
from laoke.members.validation import mask_mobile

from .fields import all_fields
from .models import Segment, SegmentSnapshot, SnapshotMember
from .rules import rule_queryset

CHUNK = 2_000


def segment_queryset(rule: dict, *, now: datetime) -> QuerySet[Member]:
    """The members a rule selects at ``now``: validated (DomainError SEGMENT_* naming the path),
    compiled to one ``Q``; only active members, and not those excluded from personalisation unless
    the rule opts in."""
    return rule_queryset(rule, now=now)


def segment_count(rule: dict, *, now: datetime) -> int:
    """How many members the rule selects: ONE SQL statement over members and their statistics.
    Validation of tags, categories and attributes reads those small tables first (one look-up
    each), and a category leaf reads its subtree's ids (so the count is planned with real ids)."""
    return segment_queryset(rule, now=now).count()


def segment_sample(rule: dict, *, now: datetime, n: int = 20) -> list[dict[str, Any]]:
    """Up to ``n`` members (newest first) with a masked mobile, for the preview."""
    rows = segment_queryset(rule, now=now).order_by("-pk").values("id", "code", "name", "mobile")[: max(0, n)]
    return [
        {"id": r["id"], "code": r["code"], "name": r["name"], "mobile": mask_mobile(r["mobile"])}
        for r in rows
    ]


def field_catalog(lang: str = "zh-hans") -> list[dict[str, Any]]:
    """Every field the builder offers, labels in ``lang``: key, label, type, group, ops, choices."""
    out = []
    with translation.override(lang):
        for spec in all_fields():
            out.append(
                {
                    "key": spec.key,
                    "label": str(spec.label),
                    "type": spec.type,
                    "group": spec.group,
                    "ops": list(spec.ops),
                    "choices": [{"value": v, "label": str(lbl)} for v, lbl in spec.choices()]
                    if spec.choices
                    else None,
                    "minimum": spec.minimum,
                    "maximum": spec.maximum,
                }
            )
    return out


def segment_get(segment_id: int) -> Segment:
    seg = Segment.objects.filter(pk=segment_id).first()
    if seg is None:
        raise DomainError(NOT_FOUND, field="segment_id")
    return seg


def segment_list(*, archived: bool | None = False) -> QuerySet[Segment]:
    qs = Segment.objects.all()
    if archived is not None:
        qs = qs.filter(archived=archived)
    return qs


def snapshot_get(snapshot_id: int, *, segment_id: int | None = None) -> SegmentSnapshot:
    qs = SegmentSnapshot.objects.select_related("segment")
    if segment_id is not None:
        qs = qs.filter(segment_id=segment_id)
    snap = qs.filter(pk=snapshot_id).first()
    if snap is None:
        raise DomainError(NOT_FOUND, field="snapshot_id")
    return snap


def snapshot_member_ids(snapshot_id: int, *, chunk: int = CHUNK) -> Iterator[int]:
    """The member ids of a snapshot, ascending, read ``chunk`` at a time by keyset (no server-side
    cursor to hold open, so the caller may write between chunks)."""
    last = 0
    while True:
        ids = list(
            SnapshotMember.objects.filter(snapshot_id=snapshot_id, member_id__gt=last)
            .order_by("member_id")
            .values_list("member_id", flat=True)[:chunk]
        )
        yield from ids
        if len(ids) < chunk:
            return
        last = ids[-1]


def snapshot_members(snapshot_id: int) -> QuerySet[Member]:
    return Member.objects.filter(
        pk__in=SnapshotMember.objects.filter(snapshot_id=snapshot_id).values("member_id")
    )
