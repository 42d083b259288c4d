"""Personal information: the masked/unmasked member view (with an audit row for every unmasked
view), PIPL export (art. 45) and deletion (art. 47).

Masking: without ``members.view_pii`` mobile, email, address (region kept), ID number and the
birth year are masked; sensitive tags and sensitive attribute values are shown only with
``members.view_sensitive_tag``. Every view with PII unmasked writes one 'pii.view' audit row in
the same call, so who looked at whom is on record.

Deletion anonymises: the member row, its id, its registration date, region (province/city) and
gender — the dimensions of aggregate statistics — and every aggregate that refers to it (orders,
ledger, points in later apps) stay, so totals do not change; what identifies the person is
erased: name, mobile, email, ID number, birthday, address, notes, external ids, attribute
values, tags and consent history (one 'withdrawn' state per channel is kept, so nothing is ever
sent again); an active membership card is voided. Members merged into the person are the same
person and are erased with them; merge snapshots and earlier audit rows that held the person's
values are blanked. The deletion's own audit row says that it happened and why, not what was
erased.

Re-exported by services.py: call them as ``laoke.members.services.<name>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction
from openpyxl import Workbook

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import AuditEntry
from laoke.core.validation import check_length, require
from laoke.core.xlsx import xlsx_text

from ._core import _lock_member, attribute_value_of, member_snapshot
from .locks import locked_members
from .merge import member_merge
from .models import (
    AttributeValue,
    Channel,
    Consent,
    ConsentEvent,
    Member,
    MemberRef,
    MembershipCard,
    MemberTag,
    MergeRecord,
)
from .selectors import can_see_pii, can_see_sensitive_tags, member_visible_queryset
from .validation import mask_address, mask_email, mask_id_number, mask_mobile, mobile_national

__all__ = [
    "member_forget",
    "member_merge",
    "member_pi_document",
    "member_pi_export",
    "member_view",
    "pii_view_record",
]

ANONYMISED_NAME = "已注销"


def _iso(dt) -> str | None:
    return clock.to_local(dt).isoformat() if dt else None


def member_view(*, viewer, member_id: int) -> dict[str, Any]:
    """Everything the console's member 360 page and the API detail show. PII is masked unless the
    viewer holds ``members.view_pii``; an unmasked view writes one 'pii.view' audit row.
    NOT_FOUND when the object rule hides the member from the viewer."""
    member = (
        member_visible_queryset(viewer, include_inactive=True)
        .select_related("group_account", "home_store")
        .filter(pk=member_id)
        .first()
    )
    if member is None:
        raise DomainError(NOT_FOUND, field="member_id")
    unmasked = can_see_pii(viewer)
    show_sensitive = can_see_sensitive_tags(viewer)
    tags = [
        mt.tag.name
        for mt in member.member_tags.select_related("tag").order_by("tag__name")
        if show_sensitive or not mt.tag.is_sensitive
    ]
    if unmasked:
        address = member.address_raw
        birthday = member.birthday.isoformat() if member.birthday else None
    else:
        address = mask_address(member.province, member.city, member.address_detail)
        birthday = f"****-{member.birthday:%m-%d}" if member.birthday else None  # greetings need the day
    out = {
        "id": member.pk,
        "code": member.code,
        "name": member.name,
        "mobile": mobile_national(member.mobile) if unmasked else mask_mobile(member.mobile),
        "email": (member.email or "") if unmasked else mask_email(member.email),
        "gender": member.gender,
        "birthday": birthday,
        "province": member.province,
        "city": member.city,
        "district": member.district if unmasked else "",
        "address": address,
        "id_number": member.id_number if unmasked else mask_id_number(member.id_number),
        "source": member.source,
        "registered_at": _iso(member.registered_at),
        "lifecycle": member.lifecycle,
        "status": member.status,
        "group_account": member.group_account.name if member.group_account else None,
        "home_store": member.home_store.name if member.home_store else None,
        "is_permanent": member.is_permanent,
        "exclude_personalised": member.exclude_personalised,
        "notes": member.notes,
        "tags": tags,
        "attributes": [
            {"key": av.definition.key, "label": av.definition.label, "value": attribute_value_of(av)}
            for av in member.attribute_values.select_related("definition").order_by("definition__key")
            if show_sensitive or not av.definition.is_sensitive
        ],
        "consents": [
            {"channel": c.channel, "state": c.state, "changed_at": _iso(c.changed_at), "source": c.source}
            for c in member.consents.order_by("channel")
        ],
        "consent_history": [
            {"channel": e.channel, "state": e.state, "at": _iso(e.at), "source": e.source, "note": e.note}
            for e in member.consent_events.all()[:50]
        ],
        "cards": [
            {
                "number": c.number,
                "state": c.state,
                "valid_until": c.valid_until.isoformat() if c.valid_until else None,
                "fee_fen": c.fee_fen,
                "issued_at": _iso(c.issued_at),
            }
            for c in member.membership_cards.order_by("-issued_at", "-id")
        ],
        "refs": [
            {"source": r.source, "external_id": r.external_id}
            for r in member.refs.order_by("source", "external_id")
        ],
        "lifecycle_history": [
            {"from": e.from_state, "to": e.to_state, "at": _iso(e.at), "reason": e.reason}
            for e in member.lifecycle_events.order_by("-at", "-id")[:20]
        ],
        "merged_into": member.merged_into_id,
        "pii_masked": not unmasked,
    }
    if unmasked:
        pii_view_record(viewer=viewer, member=member, where="member_view")
    return out


PII_FIELDS = ("mobile", "email", "address", "id_number", "birthday")


def pii_view_record(*, viewer, member: Member, where: str, fields=PII_FIELDS) -> None:
    """The audit row of one unmasked view of a member's PII (API detail, 360 page, admin form)."""
    with transaction.atomic():  # its own short transaction, or a savepoint in the caller's
        audit_write(
            action="pii.view",
            obj=member,
            after={"fields": list(fields), "where": where},
            actor=getattr(viewer, "user", viewer),  # the API passes a scope-narrowed viewer
        )


# --- PIPL export ----------------------------------------------------------------------------------


def member_pi_document(member: Member) -> dict[str, Any]:
    """Everything held about the person, unmasked (the export is for the person themselves)."""
    return {
        "member": {
            "id": member.pk,
            **member_snapshot(member),
            "address_detail": member.address_detail,
            "registered_at": _iso(member.registered_at),
            "permanent_since": _iso(member.permanent_since),
            "group_account": member.group_account.name if member.group_account else None,
            "home_store": member.home_store.name if member.home_store else None,
        },
        "external_ids": [
            {"source": r.source, "external_id": r.external_id, "added_at": _iso(r.created_at)}
            for r in member.refs.order_by("id")
        ],
        "tags": [
            {"tag": mt.tag.name, "kind": mt.tag.kind, "added_at": _iso(mt.added_at)}
            for mt in member.member_tags.select_related("tag").order_by("id")
        ],
        "attributes": [
            {"key": av.definition.key, "label": av.definition.label, "value": attribute_value_of(av)}
            for av in member.attribute_values.select_related("definition").order_by("definition__key")
        ],
        "consents": [
            {"channel": c.channel, "state": c.state, "changed_at": _iso(c.changed_at), "source": c.source}
            for c in member.consents.order_by("channel")
        ],
        "consent_history": [
            {"channel": e.channel, "state": e.state, "at": _iso(e.at), "source": e.source, "note": e.note}
            for e in member.consent_events.order_by("at", "id")
        ],
        "agreements": [
            {"version": a.agreement.version, "title": a.agreement.title, "accepted_at": _iso(a.accepted_at)}
            for a in member.agreement_acceptances.select_related("agreement").order_by("id")
        ],
        "membership_cards": [
            {
                "number": c.number,
                "state": c.state,
                "issued_at": _iso(c.issued_at),
                "valid_until": c.valid_until.isoformat() if c.valid_until else None,
                "fee_fen": c.fee_fen,
                "void_reason": c.void_reason,
            }
            for c in member.membership_cards.order_by("id")
        ],
        "lifecycle_history": [
            {"from": e.from_state, "to": e.to_state, "at": _iso(e.at), "reason": e.reason}
            for e in member.lifecycle_events.order_by("at", "id")
        ],
        "merged_records": [
            {
                "member_code": r.source_snapshot.get("code"),
                "merged_at": _iso(r.at),
                "record": r.source_snapshot,
            }
            for r in MergeRecord.objects.filter(target=member).order_by("id")
        ],
        "exported_at": _iso(clock.now()),
    }


_SHEETS = (
    "external_ids",
    "tags",
    "attributes",
    "consents",
    "consent_history",
    "agreements",
    "membership_cards",
    "lifecycle_history",
)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return xlsx_text(json.dumps(value, ensure_ascii=False))
    return value if isinstance(value, bool | int) else xlsx_text(str(value))


def write_pi_xlsx(doc: dict[str, Any], path: Path) -> None:
    """One sheet 'member' (field, value) and one sheet per list, with a header row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "member"
    ws.append(["field", "value"])
    for key, value in doc["member"].items():
        ws.append([key, _cell(value)])
    for section in (*_SHEETS, "merged_records"):
        rows = doc[section]
        sheet = wb.create_sheet(section[:31])
        headers = list(rows[0].keys()) if rows else ["(none)"]
        sheet.append(headers)
        for row in rows:
            sheet.append([_cell(row[h]) for h in headers])
    wb.save(path)


def member_pi_export(*, member_id: int, out_dir: Path, actor=None) -> dict[str, Path]:
    """Write member-<code>.json and member-<code>.xlsx into ``out_dir`` with everything held
    about the member (PIPL art. 45); the export is audited."""
    member = Member.objects.select_related("group_account", "home_store").filter(pk=member_id).first()
    if member is None:
        raise DomainError(NOT_FOUND, field="member_id")
    doc = member_pi_document(member)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"member-{member.code}.json"
    xlsx_path = out_dir / f"member-{member.code}.xlsx"
    json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    write_pi_xlsx(doc, xlsx_path)
    with transaction.atomic(durable=True):
        audit_write(
            action="member.pi_export",
            obj=member,
            after={"files": [json_path.name, xlsx_path.name]},
            actor=actor,
        )
    return {"json": json_path, "xlsx": xlsx_path}


# --- PIPL deletion --------------------------------------------------------------------------------


def _same_person(member: Member) -> list[Member]:
    """The member and every member merged into it (directly or through earlier merges)."""
    people, frontier = [member], [member.pk]
    while frontier:
        found = list(locked_members().filter(merged_into_id__in=frontier).order_by("pk"))
        people += found
        frontier = [m.pk for m in found]
    return people


def _anonymise(member: Member, now) -> None:
    member.name = ANONYMISED_NAME
    member.mobile = None
    member.email = None
    member.id_number = ""
    member.birthday = None
    member.address_raw = member.address_detail = member.district = member.adcode = ""
    member.notes = ""
    member.exclude_personalised = True
    if member.status != Member.Status.MERGED:
        member.status = Member.Status.ANONYMISED
    member.updated_at = now
    member.save()
    MemberRef.objects.filter(member=member).delete()
    AttributeValue.objects.filter(member=member).delete()
    MemberTag.objects.filter(member=member).delete()
    ConsentEvent.objects.filter(member=member).delete()
    # The card rows stay (fees paid are aggregates) but no longer identify anyone at a till.
    MembershipCard.objects.filter(member=member, state=MembershipCard.State.ACTIVE).update(
        state=MembershipCard.State.VOID, voided_at=now, void_reason="pipl_deletion"
    )
    if member.status == Member.Status.ANONYMISED:
        for channel in Channel.values:
            Consent.objects.update_or_create(
                member=member,
                channel=channel,
                defaults={"state": Consent.State.WITHDRAWN, "changed_at": now, "source": "pipl_deletion"},
            )


def member_forget(*, member_id: int, reason: str, actor=None) -> Member:
    """PIPL deletion (art. 47) of one person: anonymise, keep aggregates (see the module
    docstring). Safe to call twice."""
    require("reason", reason)
    check_length("reason", reason, 200)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        if member.status == Member.Status.ANONYMISED:
            return member
        now = clock.now()
        people = _same_person(member)
        ids = [p.pk for p in people]
        for person in people:
            _anonymise(person, now)
        MergeRecord.objects.filter(source_id__in=ids).update(source_snapshot={"anonymised": True})
        # Earlier audit rows held the person's values in before/after: blank them.
        AuditEntry.objects.filter(object_type="members.member", object_id__in=[str(i) for i in ids]).update(
            before=None, after=None
        )
        for pk in ids:  # a merge is audited on its target, with the source's snapshot
            AuditEntry.objects.filter(action="member.merge", before__source=pk).update(before=None)
        audit_write(
            action="member.forget",
            obj=member,
            after={"reason": reason, "members": len(ids)},
            actor=actor,
        )
    member.refresh_from_db()
    return member
