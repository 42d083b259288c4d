"""Merge of duplicate members (same person from different sources: a store registration and a
Taobao import, say), keeping all history.

The source's rows move to the target: external ids, tags, attribute values (the target's value
wins when both have one), consent (per channel the more recent decision wins; both histories are
kept), lifecycle history, agreement acceptances and cards (the source's active card is voided:
one active card per member). Empty profile fields of the target are filled from the source;
mobile and email move when the target has none, and two different values are a MERGE_CONFLICT
the operator resolves first (an automatic choice could text the wrong person). An opt-out of
personalised marketing on either record holds for the merged one. Members merged earlier into
the source are re-pointed to the target, so ``merged_into`` is always one hop.

The source stays as a row with status 'merged' and ``merged_into`` set; a MergeRecord keeps its
snapshot and what moved; the audit row is written in the same transaction. Apps above members
(points, stored value, statistics, tiers …) take part through their AppConfig's
``member_merge_hook``: a dotted path to ``fn(*, source, target) -> dict`` called inside the merge's
transaction, with both members locked, before the source is marked merged; what it returns is
kept in the MergeRecord under the app's label (docs/decisions/0011-app-extension-points.md).

Re-exported by services.py: call it as ``laoke.members.services.member_merge``.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils.module_loading import import_string

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError

from ._core import (
    _has_sensitive_consent,
    _lock_member,
    _purge_sensitive,
    _require_active,
    actor_of,
    db_actor,
    member_snapshot,
)
from .error_codes import MERGE_CONFLICT, MERGE_SAME_MEMBER
from .models import (
    AgreementAcceptance,
    AttributeValue,
    Consent,
    ConsentEvent,
    LifecycleEvent,
    Member,
    MemberRef,
    MembershipCard,
    MemberTag,
    MergeRecord,
)

_ADDRESS = ("address_raw", "province", "city", "district", "address_detail", "adcode")


def _move_consents(source: Member, target: Member) -> dict[str, str]:
    decided = {}
    for consent in Consent.objects.filter(member=source):
        theirs = Consent.objects.filter(member=target, channel=consent.channel).first()
        if theirs is None:
            consent.member = target
            consent.save(update_fields=["member"])
            decided[consent.channel] = "source"
        else:
            if consent.changed_at > theirs.changed_at:
                theirs.state, theirs.changed_at, theirs.source = (
                    consent.state,
                    consent.changed_at,
                    consent.source,
                )
                theirs.save(update_fields=["state", "changed_at", "source"])
                decided[consent.channel] = "source"
            else:
                decided[consent.channel] = "target"
            consent.delete()
    return decided


def _fill_profile(source: Member, target: Member) -> list[str]:
    changed = []
    for fld in ("mobile", "email"):
        if getattr(source, fld) and not getattr(target, fld):
            setattr(target, fld, getattr(source, fld))
            setattr(source, fld, None)  # frees the unique value (the source is saved first)
            changed.append(fld)
    for fld in ("name", "gender", "birthday", "id_number", "home_store_id", "group_account_id"):
        if getattr(source, fld) and not getattr(target, fld):
            setattr(target, fld, getattr(source, fld))
            changed.append(fld)
    if source.province and not target.province and not target.address_raw:
        for fld in _ADDRESS:
            setattr(target, fld, getattr(source, fld))
        changed.append("address")
    if source.notes:
        sep = "\n" if target.notes else ""
        target.notes = f"{target.notes}{sep}[{source.code}] {source.notes}"[:2000]
        changed.append("notes")
    if source.registered_at < target.registered_at:
        target.registered_at = source.registered_at
        changed.append("registered_at")
    if source.exclude_personalised and not target.exclude_personalised:
        target.exclude_personalised = True
        changed.append("exclude_personalised")
    if source.is_permanent and not target.is_permanent:
        target.is_permanent, target.permanent_since = True, source.permanent_since
        changed.append("is_permanent")
    return changed


def merge_hooks() -> list[tuple[str, Any]]:
    """(app label, hook) of every installed app declaring ``member_merge_hook``, in
    INSTALLED_APPS order (lower apps first: statistics before the tiers that read them)."""
    return [
        (cfg.label, import_string(cfg.member_merge_hook))
        for cfg in apps.get_app_configs()
        if getattr(cfg, "member_merge_hook", None)
    ]


def member_merge(*, source_id: int, target_id: int, actor=None) -> MergeRecord:
    """Merge the duplicate ``source`` into ``target`` (see the module docstring)."""
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
            if a and b and a.lower() != b.lower():
                raise DomainError(MERGE_CONFLICT, field=fld)
        snapshot = member_snapshot(source)
        now = clock.now()
        moved: dict[str, Any] = {}

        moved["refs"] = MemberRef.objects.filter(member=source).update(member=target)
        target_tags = MemberTag.objects.filter(member=target).values_list("tag_id", flat=True)
        moved["tags"] = (
            MemberTag.objects.filter(member=source)
            .exclude(tag_id__in=list(target_tags))
            .update(member=target)
        )
        MemberTag.objects.filter(member=source).delete()
        target_defs = AttributeValue.objects.filter(member=target).values_list("definition_id", flat=True)
        moved["attributes"] = (
            AttributeValue.objects.filter(member=source)
            .exclude(definition_id__in=list(target_defs))
            .update(member=target)
        )
        AttributeValue.objects.filter(member=source).delete()
        moved["consents"] = _move_consents(source, target)
        moved["consent_events"] = ConsentEvent.objects.filter(member=source).update(member=target)
        moved["lifecycle_events"] = LifecycleEvent.objects.filter(member=source).update(member=target)
        target_agreements = AgreementAcceptance.objects.filter(member=target).values_list(
            "agreement_id", flat=True
        )
        moved["agreements"] = (
            AgreementAcceptance.objects.filter(member=source)
            .exclude(agreement_id__in=list(target_agreements))
            .update(member=target)
        )
        AgreementAcceptance.objects.filter(member=source).delete()
        moved["cards_voided"] = MembershipCard.objects.filter(
            member=source, state=MembershipCard.State.ACTIVE
        ).update(state=MembershipCard.State.VOID, voided_at=now, void_reason="merged")
        moved["cards"] = MembershipCard.objects.filter(member=source).update(member=target)
        moved["earlier_merges"] = Member.objects.filter(merged_into=source).update(merged_into=target)
        for label, hook in merge_hooks():
            moved[label] = hook(source=source, target=target)
        if not _has_sensitive_consent(target):
            moved["sensitive_deleted"] = _purge_sensitive(target)  # moved without a consent to keep it

        moved["fields"] = _fill_profile(source, target)
        source.status = Member.Status.MERGED
        source.merged_into = target
        source.updated_at = target.updated_at = now
        source.save()  # first: frees the unique mobile/email for the target
        target.save()
        record = MergeRecord.objects.create(
            source=source,
            target=target,
            at=now,
            actor=db_actor(actor_of(actor)),
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
