from __future__ import annotations

from datetime import datetime

from .models import AuditEntry, Store


def store_list(*, active_only: bool = False):
    qs = Store.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def audit_list(
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    qs = AuditEntry.objects.all()
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs
