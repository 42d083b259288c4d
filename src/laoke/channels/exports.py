"""Direct-mail (直邮) and gift-delivery lists for printers and couriers (SPEC 10).

It is personal data (names, mobiles, addresses), so the export is a service: permission-gated by
its adapters (``channels.export_directmail``) and recorded in the audit log with what was taken
(how many rows, which selection), in the same transaction as the read.
"""

from __future__ import annotations

import io

from django.db import transaction
from openpyxl import Workbook

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError
from laoke.core.validation import check_length
from laoke.members.models import Member

from .error_codes import EXPORT_EMPTY_SELECTION
from .models import StaffTask

HEADERS = (
    "task_id",
    "member_code",
    "name",
    "mobile",
    "province",
    "city",
    "district",
    "street_address",
    "full_address",
    "channel_code",
    "purpose",
    "state",
)
MAX_IDS = 50_000


def _full_address(m: Member) -> str:
    parts = [m.province, m.city if m.city != m.province else "", m.district, m.address_detail]
    joined = "".join(p for p in parts if p)
    return joined or m.address_raw


def _phone(mobile: str | None) -> str:
    """As a courier dials it: a mainland number without +86, others in full."""
    if not mobile:
        return ""
    return mobile[3:] if mobile.startswith("+86") else mobile


def mail_export(*, purpose_prefix: str = "", task_ids: list[int] | None = None, actor=None) -> bytes:
    """The open and done direct-mail tasks of a purpose prefix (e.g. ``campaign:12:``) or of the
    given ids, as xlsx bytes (one row per task, ordered by id). Cancelled tasks and members no
    longer active (merged, anonymised) are left out."""
    purpose_prefix = (purpose_prefix or "").strip()
    check_length("purpose_prefix", purpose_prefix, 120)
    if not purpose_prefix and not task_ids:
        raise DomainError(EXPORT_EMPTY_SELECTION, field="purpose_prefix")
    if task_ids and len(task_ids) > MAX_IDS:
        raise DomainError(EXPORT_EMPTY_SELECTION, field="task_ids")
    qs = StaffTask.objects.filter(kind=StaffTask.Kind.MAIL, member__status=Member.Status.ACTIVE).exclude(
        state=StaffTask.State.CANCELLED
    )
    if purpose_prefix:
        qs = qs.filter(purpose__startswith=purpose_prefix)
    if task_ids:
        qs = qs.filter(pk__in=task_ids)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("direct mail")
    ws.append(list(HEADERS))
    with transaction.atomic(durable=True):
        count = 0
        for t in qs.select_related("member").order_by("pk").iterator(chunk_size=2000):
            m = t.member
            ws.append(
                [
                    t.pk,
                    m.code,
                    m.name,
                    _phone(m.mobile),
                    m.province,
                    m.city,
                    m.district,
                    m.address_detail,
                    _full_address(m),
                    t.channel_code,
                    t.purpose,
                    t.state,
                ]
            )
            count += 1
        audit_write(
            action="channels.mail_export",
            object_type="channels.stafftask",
            after={
                "rows": count,
                "purpose_prefix": purpose_prefix,
                "task_ids": len(task_ids or []),
                "at": clock.now().isoformat(),
            },
            actor=actor,
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
