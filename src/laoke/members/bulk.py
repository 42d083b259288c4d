"""Registering many members at once (imports): plain-tuple inserts in chunks of 2,000.

Each helper needs the caller's transaction and writes one audit row per call (the batch, by job
id), not one per member. Member numbers are drawn at random like ``member_create``'s; a mobile
already taken by another member (registered concurrently) is not inserted twice: the unique
constraint skips the row and the caller gets the existing member's id instead.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from laoke.core.audit import audit_write
from laoke.core.bulk import insert_rows, model_rows, values_in

from .models import LifecycleEvent, Member, MemberRef

CHUNK = 2000


def _new_codes(n: int) -> list[str]:
    """``n`` member numbers no member has yet ('M' + 10 random digits, as ``_new_code``)."""
    codes: set[str] = set()
    while len(codes) < n:
        fresh = {f"M{secrets.randbelow(10**10):010d}" for _ in range(n - len(codes))}
        fresh -= {c for (c,) in values_in(Member, "code", list(fresh), ["code"])}
        codes |= fresh
    return sorted(codes)


def _members_insert(profiles: Sequence[dict], *, source: str, now: datetime, job_id: str) -> list[int]:
    """Insert one member per ``profiles`` item (``{attname: value}``: mobile, name, address
    fields, registered_at…; defaults for the rest) and its lifecycle event; returns the member ids
    in the same order. A profile whose mobile another member holds gets that member's id."""
    if not profiles:
        return []
    codes = _new_codes(len(profiles))
    base = {"source": source, "registered_at": now, "created_at": now, "updated_at": now}
    ids: list[int] = []
    for i in range(0, len(profiles), CHUNK):
        part = [
            {**base, **p, "code": c}
            for p, c in zip(profiles[i : i + CHUNK], codes[i : i + CHUNK], strict=True)
        ]
        columns, rows = model_rows(Member, part)
        insert_rows(Member._meta.db_table, columns, rows)
        by_code = dict(values_in(Member, "code", [p["code"] for p in part], ["code", "id"]))
        lost = [p["mobile"] for p in part if p["code"] not in by_code and p.get("mobile")]
        by_mobile = dict(Member.objects.filter(mobile__in=lost).values_list("mobile", "pk")) if lost else {}
        new_ids = []
        for p in part:
            pk = by_code.get(p["code"]) or by_mobile.get(p.get("mobile"))
            if pk is None:  # pragma: no cover - a NOT NULL/CHECK failure raises instead
                raise RuntimeError(f"member {p['code']} was not inserted")
            ids.append(pk)
            if p["code"] in by_code:
                new_ids.append(pk)
        insert_rows(
            LifecycleEvent._meta.db_table,
            ("member_id", "from_state", "to_state", "at", "reason"),
            [(pk, "", Member.Lifecycle.REGISTERED, now, f"import {job_id}"[:255]) for pk in new_ids],
        )
    audit_write(
        action="member.create_bulk",
        object_type="import",
        object_id=job_id,
        after={"source": source, "created": len(set(ids)), "first_id": min(ids), "last_id": max(ids)},
    )
    return ids


def _refs_insert(pairs: Sequence[tuple[int, str, str]], *, now: datetime) -> int:
    """``MemberRef`` rows (member id, source, external id); a reference already held (by anyone)
    is left as it is. Returns the rows offered."""
    for i in range(0, len(pairs), CHUNK):
        insert_rows(
            MemberRef._meta.db_table,
            ("member_id", "source", "external_id", "created_at"),
            [(pk, src, ext[:128], now) for pk, src, ext in pairs[i : i + CHUNK]],
        )
    return len(pairs)
