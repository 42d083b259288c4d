"""Personal information: the masked/unmasked member view (with an audit row for every unmasked
view), duplicate merge keeping history, PIPL export (art. 45) and deletion (art. 47).

Deletion anonymises: the member row, its id and every aggregate that refers to it (orders,
ledger, statistics in later apps) stay, so totals do not change; what identifies the person is
erased. The audit row of a deletion records that it happened, not the erased values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction
from openpyxl import Workbook

from laoke.core import clock, context
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import AuditEntry

from .error_codes import MERGE_CONFLICT, MERGE_SAME_MEMBER
from .models import (
    AgreementAcceptance,
    AttributeValue,
    Channel,
    Consent,
    ConsentEvent,
    LifecycleEvent,
    Member,
    MemberRef,
    MembershipCard,
    MemberTag,
    MergeRecord,
)
from .selectors import can_see_pii, can_see_sensitive_tags, member_visible_queryset
from .services import _lock_member, _require_active, attribute_value_of, member_snapshot
from .validation import mask_address, mask_email, mask_id_number, mask_mobile, mobile_national


def _iso(dt) -> str | None:
    return clock.to_local(dt).isoformat() if dt else None


def member_view(*, viewer, member_id: int) -> dict[str, Any]:
    """Everything the console's member 360 page and the API detail show. PII is masked unless the
    viewer holds ``members.view_pii``; an unmasked view writes one 'pii.view' audit row."""
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
        {"name": mt.tag.name, "kind": mt.tag.kind}
        for mt in member.member_tags.select_related("tag").order_by("tag__name")
        if show_sensitive or not mt.tag.is_sensitive
    ]
    address = (
        member.address_raw if unmasked else mask_address(member.province, member.city, member.address_detail)
    )
    out = {
        "id": member.pk,
        "code": member.code,
        "name": member.name,
        "mobile": mobile_national(member.mobile) if unmasked else mask_mobile(member.mobile),
        "email": (member.email or "") if unmasked else mask_email(member.email),
        "gender": member.gender,
        "birthday": member.birthday.isoformat()
        if member.birthday and unmasked
        else (f"****-{member.birthday:%m-%d}" if member.birthday else None),
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
        "tags": [t["name"] for t in tags],
        "attributes": [
            {"key": av.definition.key, "label": av.definition.label, "value": attribute_value_of(av)}
            for av in member.attribute_values.select_related("definition").order_by("definition__key")
            if unmasked or not av.definition.is_sensitive
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
            for c in member.membership_cards.order_by("-issued_at")
        ],
        "refs": [{"source": r.source, "external_id": r.external_id} for r in member.refs.order_by("source")],
        "lifecycle_history": [
            {"from": e.from_state, "to": e.to_state, "at": _iso(e.at), "reason": e.reason}
            for e in member.lifecycle_events.order_by("-at", "-id")[:20]
        ],
        "merged_into": member.merged_into_id,
        "pii_masked": not unmasked,
    }
    if unmasked:
        with transaction.atomic():
            audit_write(
                action="pii.view",
                obj=member,
                after={"fields": ["mobile", "email", "address", "id_number"]},
                actor=getattr(viewer, "user", viewer),
            )  # the API passes a scope-narrowed viewer
    return out


# --- merge ----------------------------------------------------------------------------------------


def member_merge(*, source_id: int, target_id: int, actor=None) -> MergeRecord:
    """Merge the duplicate ``source`` into ``target``, keeping all history on the target.

    Rows keyed by member move (refs, tags, attribute values unless the target has the attribute,
    consent history, lifecycle history, agreement acceptances, cards); for each channel the more
    recent consent decision wins; the source's active card is voided (one active card per
    member); mobile and email move when the target has none, and two different values are a
    MERGE_CONFLICT the operator resolves first. Later apps (orders, ledger) re-point their rows in
    their own merge step, called by their services.
    """
    if source_id == target_id:
        raise DomainError(MERGE_SAME_MEMBER, field="source_id")
    with transaction.atomic(durable=True):
        first, second = sorted([source_id, target_id])
        locked = {first: _lock_member(first), second: _lock_member(second)}  # pk order: no deadlock
        source, target = locked[source_id], locked[target_id]
        _require_active(source)
        _require_active(target)
        for fld in ("mobile", "email"):
            a, b = getattr(source, fld), getattr(target, fld)
            if a and b and a != b:
                raise DomainError(MERGE_CONFLICT, field=fld)
        snapshot = member_snapshot(source)
        moved: dict[str, Any] = {}
        now = clock.now()

        moved["refs"] = MemberRef.objects.filter(member=source).update(member=target)
        target_tags = set(MemberTag.objects.filter(member=target).values_list("tag_id", flat=True))
        moved["tags"] = (
            MemberTag.objects.filter(member=source).exclude(tag_id__in=target_tags).update(member=target)
        )
        MemberTag.objects.filter(member=source).delete()
        target_defs = set(
            AttributeValue.objects.filter(member=target).values_list("definition_id", flat=True)
        )
        moved["attributes"] = (
            AttributeValue.objects.filter(member=source)
            .exclude(definition_id__in=target_defs)
            .update(member=target)
        )
        AttributeValue.objects.filter(member=source).delete()
        for consent in Consent.objects.filter(member=source):
            theirs = Consent.objects.filter(member=target, channel=consent.channel).first()
            if theirs is None:
                consent.member = target
                consent.save(update_fields=["member"])
            else:
                if consent.changed_at > theirs.changed_at:
                    theirs.state, theirs.changed_at, theirs.source = (
                        consent.state,
                        consent.changed_at,
                        consent.source,
                    )
                    theirs.save(update_fields=["state", "changed_at", "source"])
                consent.delete()
        moved["consent_events"] = ConsentEvent.objects.filter(member=source).update(member=target)
        moved["lifecycle_events"] = LifecycleEvent.objects.filter(member=source).update(member=target)
        target_agreements = set(
            AgreementAcceptance.objects.filter(member=target).values_list("agreement_id", flat=True)
        )
        moved["agreements"] = (
            AgreementAcceptance.objects.filter(member=source)
            .exclude(agreement_id__in=target_agreements)
            .update(member=target)
        )
        AgreementAcceptance.objects.filter(member=source).delete()
        MembershipCard.objects.filter(member=source, state=MembershipCard.State.ACTIVE).update(
            state=MembershipCard.State.VOID, voided_at=now, void_reason="merged"
        )
        moved["cards"] = MembershipCard.objects.filter(member=source).update(member=target)

        changed = []
        for fld in ("mobile", "email"):
            if getattr(source, fld) and not getattr(target, fld):
                setattr(target, fld, getattr(source, fld))
                setattr(source, fld, None)
                changed.append(fld)
        for fld in ("name", "birthday", "gender", "id_number"):
            if getattr(source, fld) and not getattr(target, fld):
                setattr(target, fld, getattr(source, fld))
                changed.append(fld)
        if source.registered_at < target.registered_at:
            target.registered_at = source.registered_at
            changed.append("registered_at")
        target.is_permanent = target.is_permanent or source.is_permanent
        source.status = Member.Status.MERGED
        source.merged_into = target
        source.updated_at = target.updated_at = now
        source.save()  # first: frees the unique mobile/email for the target
        target.save()
        moved["fields"] = changed
        record = MergeRecord.objects.create(
            source=source,
            target=target,
            at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            source_snapshot=snapshot,
            moved=moved,
        )
        audit_write(
            action="member.merge",
            obj=target,
            before={"source": source.pk, "source_snapshot": snapshot},
            after={"moved": moved},
            actor=actor,
        )
    return record


# --- PIPL export and deletion ---------------------------------------------------------------------


def member_pi_document(member: Member) -> dict[str, Any]:
    """Everything held about the person, unmasked (the export is for the person themselves)."""
    doc = {
        "member": {
            **member_snapshot(member),
            "id": member.pk,
            "registered_at": _iso(member.registered_at),
            "city": member.city,
            "district": member.district,
            "address_detail": member.address_detail,
        },
        "external_ids": [{"source": r.source, "external_id": r.external_id} for r in member.refs.all()],
        "tags": [mt.tag.name for mt in member.member_tags.select_related("tag")],
        "attributes": [
            {"key": av.definition.key, "label": av.definition.label, "value": attribute_value_of(av)}
            for av in member.attribute_values.select_related("definition")
        ],
        "consents": [
            {"channel": c.channel, "state": c.state, "changed_at": _iso(c.changed_at), "source": c.source}
            for c in member.consents.all()
        ],
        "consent_history": [
            {"channel": e.channel, "state": e.state, "at": _iso(e.at), "source": e.source, "note": e.note}
            for e in member.consent_events.all()
        ],
        "agreements": [
            {"version": a.agreement.version, "title": a.agreement.title, "accepted_at": _iso(a.accepted_at)}
            for a in member.agreement_acceptances.select_related("agreement")
        ],
        "membership_cards": [
            {
                "number": c.number,
                "state": c.state,
                "issued_at": _iso(c.issued_at),
                "valid_until": c.valid_until.isoformat() if c.valid_until else None,
                "fee_fen": c.fee_fen,
            }
            for c in member.membership_cards.all()
        ],
        "lifecycle_history": [
            {"from": e.from_state, "to": e.to_state, "at": _iso(e.at), "reason": e.reason}
            for e in member.lifecycle_events.all()
        ],
        "group_account": member.group_account.name if member.group_account else None,
        "exported_at": _iso(clock.now()),
    }
    return doc


def _write_xlsx(doc: dict[str, Any], path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "member"
    for key, value in doc["member"].items():
        ws.append([key, "" if value is None else str(value)])
    for section in (
        "external_ids",
        "attributes",
        "consents",
        "consent_history",
        "agreements",
        "membership_cards",
        "lifecycle_history",
    ):
        rows = doc[section]
        sheet = wb.create_sheet(section[:31])
        if rows:
            headers = list(rows[0].keys())
            sheet.append(headers)
            for row in rows:
                sheet.append(["" if row[h] is None else str(row[h]) for h in headers])
    tags = wb.create_sheet("tags")
    for tag in doc["tags"]:
        tags.append([tag])
    wb.save(path)


def member_pi_export(*, member_id: int, out_dir: Path, actor=None) -> dict[str, Path]:
    """Write <code>.json and <code>.xlsx with everything held about the member (PIPL art. 45)."""
    member = Member.objects.select_related("group_account").filter(pk=member_id).first()
    if member is None:
        raise DomainError(NOT_FOUND, field="member_id")
    doc = member_pi_document(member)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"member-{member.code}.json"
    xlsx_path = out_dir / f"member-{member.code}.xlsx"
    json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    _write_xlsx(doc, xlsx_path)
    with transaction.atomic(durable=True):
        audit_write(
            action="member.pi_export",
            obj=member,
            after={"files": [json_path.name, xlsx_path.name]},
            actor=actor if actor is not None else context.get().user,
        )
    return {"json": json_path, "xlsx": xlsx_path}


def member_forget(*, member_id: int, reason: str, actor=None) -> Member:
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        if member.status == Member.Status.ANONYMISED:
            return member
        now = clock.now()
        member.name = "已注销"
        member.mobile = None
        member.email = None
        member.id_number = ""
        member.birthday = None
        member.gender = ""
        member.address_raw = member.address_detail = member.district = ""
        member.notes = ""
        # Province and city stay: they are aggregate dimensions, not identifying on their own.
        member.status = Member.Status.ANONYMISED
        member.exclude_personalised = True
        member.updated_at = now
        member.save()
        MemberRef.objects.filter(member=member).delete()
        AttributeValue.objects.filter(member=member).delete()
        MemberTag.objects.filter(member=member).delete()
        ConsentEvent.objects.filter(member=member).delete()
        for channel in Channel.values:
            Consent.objects.update_or_create(
                member=member,
                channel=channel,
                defaults={"state": Consent.State.WITHDRAWN, "changed_at": now, "source": "pipl_deletion"},
            )
        # Earlier audit rows held this person's PII in before/after: blank those values.
        AuditEntry.objects.filter(object_type="members.member", object_id=str(member.pk)).update(
            before=None, after=None
        )
        audit_write(action="member.forget", obj=member, after={"reason": reason[:200]}, actor=actor)
    return member
