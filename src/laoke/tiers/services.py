"""Writes of the tiers app: evaluation (immediate upgrade) and manual grants here; programmes and
levels (``programmes.py``), the scheduled review (``review.py``) and presets (``presets.py``)
re-exported, so callers import every tier service from ``laoke.tiers.services``.

Design (SPEC 2, docs/decisions/0012-tiers.md):

- One ``MemberTier`` row per member (individual programme) and per group account (group
  programme). Every change locks that row first (``select_for_update``; SQLite serialises write
  transactions anyway), re-reads the level, then decides — so N concurrent evaluations of one
  member write one history row.
- ``_tiers_evaluate`` only ever moves up: it places the owner at the highest level whose entry
  rule its figures meet, if that is above the current one. Points (after earning), cards (after a
  recharge) and settlement call it inside their own transaction.
- Figures: lifetime totals for a programme that never downgrades; for a reviewing programme the
  window of ``WINDOW_MONTHS`` monthly buckets (the current calendar month and the 12 before it,
  so a purchase counts for at least 12 full months) — the same window for the upgrade and for
  the review that may undo it, otherwise a reviewed member would be re-upgraded at once.
- ``tiers_tick(now)`` (``review.py``, re-exported here) applies the downgrade policies.
- Presets of seeds 001 and 003 are installed by ``tier_presets_install`` (``presets.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from laoke.core import clock, idempotency
from laoke.core.audit import actor_label, audit_write
from laoke.core.errors import PERMISSION_DENIED, DomainError
from laoke.core.validation import check_length, require
from laoke.ledger.models import Account
from laoke.members.models import GroupAccount, Member
from laoke.stats.models import GroupStats, MemberStats

from .error_codes import TIER_ALREADY_AT_LEVEL, TIER_LEVEL_WRONG_AUDIENCE
from .models import Audience, How, MemberTier, TierHistory, TierLevel, TierProgramme
from .presets import PRESETS, tier_presets_install
from .programmes import (
    LEVEL_CHANGEABLE,
    LEVEL_FIELDS,
    PROGRAMME_CHANGEABLE,
    _need_transaction,
    _programme_create,
    check_level,
    check_programme,
    tier_level_create,
    tier_level_delete,
    tier_level_update,
    tier_programme_create,
    tier_programme_delete,
    tier_programme_update,
)
from .review import CHUNK, WINDOW_MONTHS, TickReport, review_due, tiers_tick
from .rules import best_level, figures_for

__all__ = [
    "CHUNK",
    "LEVEL_CHANGEABLE",
    "LEVEL_FIELDS",
    "PRESETS",
    "PROGRAMME_CHANGEABLE",
    "WINDOW_MONTHS",
    "TickReport",
    "_programme_create",
    "check_level",
    "check_programme",
    "review_due",
    "tier_level_create",
    "tier_level_delete",
    "tier_level_update",
    "tier_presets_install",
    "tier_programme_create",
    "tier_programme_delete",
    "tier_programme_update",
    "tiers_tick",
]


# Test-only switch for the negative control of the concurrency test: read the tier row without
# locking it (two evaluations then both see the old level and both write an upgrade).
_UNGUARDED_FOR_TESTS = False


# --- placing members -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TierChange:
    member_id: int | None
    group_account_id: int | None
    from_level: TierLevel | None
    to_level: TierLevel | None
    how: str
    reason: str
    history_id: int


def _owner(member: Member | None, group_account: GroupAccount | None) -> tuple[dict[str, Any], str]:
    if (member is None) == (group_account is None):
        raise ValueError("exactly one of member, group_account")
    if member is not None:
        return {"member": member}, Audience.INDIVIDUAL
    return {"group_account": group_account}, Audience.GROUP


def _lock_row(owner: dict[str, Any], at: datetime) -> MemberTier:
    """The owner's tier row, created (level-less) if missing, then locked.

    The locking query joins nothing: on PostgreSQL a waiter re-checks the row it waited for
    against its *old* copy of any joined row, so a ``select_related("level")`` would come back
    with the new ``level_id`` and the level itself missing (NULL from the outer join) — the
    evaluation would then believe the owner had no level and upgrade it a second time. The
    level is read after the lock (``row.level`` loads it by id)."""
    qs = MemberTier.objects.filter(**owner)
    if not _UNGUARDED_FOR_TESTS:
        qs = qs.select_for_update()
    row = qs.first()
    if row is not None:
        return row
    MemberTier.objects.bulk_create(
        [MemberTier(**owner, level=None, since=at, how=How.RULE, updated_at=at)], ignore_conflicts=True
    )
    qs = MemberTier.objects.filter(**owner)
    if not _UNGUARDED_FOR_TESTS:
        qs = qs.select_for_update()
    return qs.get()


def _active_programme(audience: str) -> TierProgramme | None:
    return TierProgramme.objects.filter(audience=audience, is_active=True).first()


def _move(
    row: MemberTier,
    *,
    owner: dict[str, Any],
    to: TierLevel | None,
    how: str,
    reason: str,
    at: datetime,
    actor=None,
) -> TierChange:
    from_level = row.level
    MemberTier.objects.filter(pk=row.pk).update(level=to, since=at, how=how, updated_at=at)
    user = actor if getattr(actor, "pk", None) else None
    history = TierHistory.objects.create(
        **owner,
        from_level=from_level,
        to_level=to,
        at=at,
        how=how,
        reason=reason[:200],
        actor=user,
        actor_label=actor_label(actor),
    )
    audit_write(
        action="tier.change",
        obj=next(iter(owner.values())),
        before={"level": from_level.code if from_level else None},
        after={"level": to.code if to else None, "how": how, "reason": reason[:200]},
        actor=actor,
    )
    row.level, row.since, row.how = to, at, how
    return TierChange(
        member_id=getattr(owner.get("member"), "pk", None),
        group_account_id=getattr(owner.get("group_account"), "pk", None),
        from_level=from_level,
        to_level=to,
        how=how,
        reason=reason,
        history_id=history.pk,
    )


def _tiers_evaluate(
    *,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    reason: str,
    at: datetime | None = None,
) -> TierChange | None:
    """Upgrade at once when a higher level's rule is met; never downgrade. Needs the caller's
    transaction (points after earning, cards after a recharge, settlement after an order).
    Returns the change, or None when the owner stays where it is (or no programme is active)."""
    _need_transaction("_tiers_evaluate")
    owner, audience = _owner(member, group_account)
    at = at or clock.now()
    programme = _active_programme(audience)
    if programme is None:
        return None
    levels = list(programme.levels.all())
    row = _lock_row(owner, at)
    today = clock.to_local(at).date()
    figures = figures_for(programme=programme, **owner, today=today, months=WINDOW_MONTHS, levels=levels)
    target = best_level(levels, figures)
    current = next((lv for lv in levels if lv.pk == row.level_id), None)  # another programme's: none
    if target is None or (current is not None and target.rank <= current.rank):
        return None
    return _move(row, owner=owner, to=target, how=How.RULE, reason=reason or "evaluate", at=at)


def tier_evaluate(
    *, member: Member | None = None, group_account: GroupAccount | None = None, reason: str = "evaluate"
) -> TierChange | None:
    """``_tiers_evaluate`` in its own transaction (console button, API, backfills)."""
    with transaction.atomic(durable=True):
        return _tiers_evaluate(member=member, group_account=group_account, reason=reason)


@dataclass
class PlacementReport:
    looked_at: int = 0
    placed: int = 0


def tiers_place_all(*, audience: str, chunk: int = 200) -> PlacementReport:
    """Evaluate every owner of ``audience`` that has figures (statistics or a points account),
    reading ``chunk`` owners at a time, each evaluated in its own short transaction — after
    activating a programme or installing a preset over existing members, so nobody waits for a
    next purchase to be placed.
    Upgrades only, like every evaluation; safe to re-run (a placed owner is not moved again)."""
    report = PlacementReport()
    if audience == Audience.INDIVIDUAL:
        stats, owner_field, model = MemberStats, "member", Member
    else:
        stats, owner_field, model = GroupStats, "group_account", GroupAccount
    after = 0
    while True:
        id_field = f"{owner_field}_id"
        a = (
            stats.objects.filter(**{f"{id_field}__gt": after})
            .order_by(id_field)
            .values_list(id_field, flat=True)
        )
        b = (
            Account.objects.filter(kind=Account.Kind.POINTS, **{f"{id_field}__gt": after})
            .order_by(id_field)
            .values_list(id_field, flat=True)
        )
        ids = sorted(set(a[:chunk]) | set(b[:chunk]))[:chunk]
        if not ids:
            return report
        owners = model.objects.filter(pk__in=ids)
        if model is Member:
            owners = owners.exclude(status=Member.Status.MERGED)
        for owner in owners.order_by("pk"):
            # One owner per transaction: never two tier rows locked at once, so a placement cannot
            # deadlock with the review (which locks its chunk in tier-row order).
            with transaction.atomic(durable=True):
                placed = _tiers_evaluate(**{owner_field: owner}, reason="placement")
            report.looked_at += 1
            report.placed += placed is not None
        after = ids[-1]


def tier_grant(
    *,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    level: TierLevel,
    reason: str,
    actor,
    idem: idempotency.Claim | None = None,
) -> TierChange:
    """Put the owner at ``level`` by hand (up or down). The level must belong to the audience's
    active programme. Kept by reviews until another grant or an upgrade by rule."""
    owner, audience = _owner(member, group_account)
    require("reason", reason)
    reason = reason.strip()
    check_length("reason", reason, 200)
    if actor is None or not actor.has_perm("tiers.grant_tier"):
        raise DomainError(PERMISSION_DENIED)
    now = clock.now()
    with transaction.atomic(durable=True):
        programme = _active_programme(audience)
        if programme is None or level.programme_id != programme.pk:
            raise DomainError(TIER_LEVEL_WRONG_AUDIENCE, field="level_id", audience=Audience(audience).label)
        row = _lock_row(owner, now)
        if row.level_id == level.pk:
            raise DomainError(TIER_ALREADY_AT_LEVEL, field="level_id")
        change = _move(row, owner=owner, to=level, how=How.MANUAL, reason=reason, at=now, actor=actor)
        idempotency.complete(idem, change)
    return change


def merge_hook(*, source: Member, target: Member) -> dict[str, Any]:
    """``member_merge_hook`` of tiers (see members.merge): after stats has added the merged
    member's figures to the survivor's, the survivor is evaluated (upgrade only) on them."""
    change = _tiers_evaluate(member=target, reason="member merge")
    return {"upgraded_to": change.to_level.code if change and change.to_level else None}
