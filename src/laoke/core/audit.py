"""Audit rows are written in the same transaction as the change they record (rule 6)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from . import clock, context
from .models import AuditEntry


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("audit_write must run inside the transaction of the change it records")


def actor_label(user) -> str:
    if user is None:
        return "system"
    return getattr(user, "get_username", lambda: str(user))()


def audit_write(
    *,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
    actor=None,
) -> AuditEntry:
    _require_transaction()
    ctx = context.get()
    user = actor if actor is not None else ctx.user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    user_obj = user if getattr(user, "pk", None) else None
    return AuditEntry.objects.create(
        at=clock.now(),
        actor=user_obj,
        actor_label=actor_label(user),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        ip=ctx.ip,
        request_id=ctx.request_id,
    )


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Keep only the keys that changed, for compact before/after."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
