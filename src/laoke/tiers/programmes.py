"""Tier programmes and their levels: create, change, delete (validated, audited), and the same
checks without writing for console forms (``check_programme``, ``check_level``).

A programme's levels are changed with the programme row locked, so two concurrent edits cannot
leave two levels of one rank or a higher level with a lower threshold of the same kind.
Switching a programme's ``basis`` re-points its automatic levels to the new figure.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.core.validation import check_choice, check_length, require

from .error_codes import (
    TIER_ACTIVITY_UNKNOWN,
    TIER_LEVEL_CODE_TAKEN,
    TIER_LEVEL_IN_USE,
    TIER_LEVEL_RANK_TAKEN,
    TIER_PROGRAMME_ACTIVE,
    TIER_PROGRAMME_CODE_TAKEN,
    TIER_RATE_INVALID,
    TIER_REVIEW_DATE_INVALID,
    TIER_RULE_BASIS_MISMATCH,
    TIER_THRESHOLD_INVALID,
    TIER_THRESHOLD_ORDER,
)
from .models import (
    Activity,
    Audience,
    Basis,
    DowngradePolicy,
    MemberTier,
    RuleKind,
    ServiceOwner,
    TierHistory,
    TierLevel,
    TierProgramme,
)

THRESHOLD_MAX = 10**12
# Test-only switch for the negative control of the activation race: no locks, no retry.
_UNGUARDED_FOR_TESTS = False
CODE_RE = re.compile(r"^[-a-zA-Z0-9_]+$")


def _need_transaction(name: str) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError(f"{name} needs the caller's transaction")


# --- programmes ----------------------------------------------------------------------------------


def _check_code(field: str, code) -> str:
    require(field, code)
    if not isinstance(code, str):
        raise DomainError(FIELD_INVALID, field=field)
    code = code.strip()
    check_length(field, code, 40)
    if not CODE_RE.match(code):
        raise DomainError(FIELD_INVALID, field=field)
    return code


def _check_review(policy: str, month: int | None, day: int | None) -> None:
    if policy == DowngradePolicy.YEARLY_REVIEW:
        try:
            ok = (
                type(month) is int and type(day) is int and date(2025, month, day) is not None  # not 29 Feb
            )
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise DomainError(TIER_REVIEW_DATE_INVALID, field="review_day")
    elif month is not None or day is not None:
        raise DomainError(TIER_REVIEW_DATE_INVALID, field="review_day")


def _save_activating(save, *, audience: str, keep_pk: int | None, activating: bool, actor):
    """Run ``save`` (in a savepoint) after retiring the audience's active programme when
    ``activating``. Should a programme created active concurrently (a row our lock could not see)
    make the one-active index refuse the save, retire it too and save again."""
    for attempt in (1, 2, 3):
        if activating:
            _deactivate_others(audience, keep_pk, actor)
        try:
            with transaction.atomic():
                return save()
        except IntegrityError:
            others_active = (
                TierProgramme.objects.filter(audience=audience, is_active=True).exclude(pk=keep_pk).exists()
            )
            if attempt == 3 or not activating or not others_active or _UNGUARDED_FOR_TESTS:
                raise
    return None  # pragma: no cover


def _programme_snapshot(p: TierProgramme) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "audience": p.audience,
        "basis": p.basis,
        "downgrade_policy": p.downgrade_policy,
        "review_month": p.review_month,
        "review_day": p.review_day,
        "is_active": p.is_active,
    }


def _deactivate_others(audience: str, keep_pk: int | None, actor) -> None:
    """Activating a programme retires the audience's active one (there is one at a time). Every
    programme of the audience is locked, in pk order, whether active or not: two concurrent
    activations then queue on the same rows, and the second sees the first's result."""
    qs = TierProgramme.objects.filter(audience=audience).order_by("pk")
    rows = list(qs if _UNGUARDED_FOR_TESTS else qs.select_for_update())
    for other in rows:
        if other.pk == keep_pk or not other.is_active:
            continue
        TierProgramme.objects.filter(pk=other.pk).update(is_active=False, updated_at=clock.now())
        audit_write(
            action="tier_programme.update",
            obj=other,
            before={"is_active": True},
            after={"is_active": False},
            actor=actor,
        )


def tier_programme_create(
    *,
    code: str,
    name: str,
    audience: str,
    basis: str,
    downgrade_policy: str = DowngradePolicy.NEVER,
    review_month: int | None = None,
    review_day: int | None = None,
    is_active: bool = False,
    levels: list[dict[str, Any]] | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> TierProgramme:
    """Create a programme, optionally with its levels (dicts of ``tier_level_create``'s
    arguments); activating it retires the audience's active programme. All or nothing."""
    with transaction.atomic(durable=True):
        programme = _programme_create(
            code=code,
            name=name,
            audience=audience,
            basis=basis,
            downgrade_policy=downgrade_policy,
            review_month=review_month,
            review_day=review_day,
            is_active=is_active,
            levels=levels,
            actor=actor,
        )
        idempotency.complete(idem, programme)
    return programme


def _programme_create(
    *,
    code: str,
    name: str,
    audience: str,
    basis: str,
    downgrade_policy: str = DowngradePolicy.NEVER,
    review_month: int | None = None,
    review_day: int | None = None,
    is_active: bool = False,
    levels: list[dict[str, Any]] | None = None,
    actor=None,
) -> TierProgramme:
    _need_transaction("_programme_create")
    code = _check_code("code", code)
    require("name", name)
    name = name.strip()
    check_length("name", name, 60)
    check_choice("audience", audience, Audience.choices)
    check_choice("basis", basis, Basis.choices)
    check_choice("downgrade_policy", downgrade_policy, DowngradePolicy.choices)
    _check_review(downgrade_policy, review_month, review_day)
    if not isinstance(levels, list | tuple | type(None)):
        raise DomainError(FIELD_INVALID, field="levels")
    now = clock.now()
    if TierProgramme.objects.filter(code=code).exists():
        raise DomainError(TIER_PROGRAMME_CODE_TAKEN, field="code", code=code)

    def create():
        return TierProgramme.objects.create(
            code=code,
            name=name,
            audience=audience,
            basis=basis,
            downgrade_policy=downgrade_policy,
            review_month=review_month,
            review_day=review_day,
            is_active=bool(is_active),
            last_review_on=clock.to_local(now).date() if is_active else None,
            created_at=now,
            updated_at=now,
        )

    try:
        programme = _save_activating(
            create, audience=audience, keep_pk=None, activating=bool(is_active), actor=actor
        )
    except IntegrityError as exc:  # a concurrent create took the code
        raise DomainError(TIER_PROGRAMME_CODE_TAKEN, field="code", code=code) from exc
    audit_write(
        action="tier_programme.create", obj=programme, after=_programme_snapshot(programme), actor=actor
    )
    for spec in levels or []:
        if not isinstance(spec, dict) or not set(spec) <= set(LEVEL_FIELDS):
            raise DomainError(FIELD_INVALID, field="levels")
        _level_create(programme=programme, actor=actor, **spec)
    return programme


PROGRAMME_CHANGEABLE = ("name", "basis", "downgrade_policy", "review_month", "review_day", "is_active")


def tier_programme_update(*, programme_id: int, data: dict[str, Any], actor=None) -> TierProgramme:
    """Change a programme. Switching ``basis`` re-points every automatic level to the new
    figure (thresholds kept: 黄钻 ≥ 1,000元 by spend becomes ≥ 1,000元 by recharge)."""
    unknown = set(data) - set(PROGRAMME_CHANGEABLE)
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    with transaction.atomic(durable=True):
        # Lock every programme of the audience (never changes) in pk order, ours among them: an
        # activation retires the others, and locking ours first would deadlock two activations.
        audience = TierProgramme.objects.filter(pk=programme_id).values_list("audience", flat=True).first()
        if audience is None:
            raise DomainError(NOT_FOUND, field="programme_id")
        rows = TierProgramme.objects.filter(audience=audience).order_by("pk")
        programme = next(
            p for p in (rows if _UNGUARDED_FOR_TESTS else rows.select_for_update()) if p.pk == programme_id
        )
        before = _programme_snapshot(programme)
        if "name" in data:
            require("name", data["name"])
            programme.name = data["name"].strip()
            check_length("name", programme.name, 60)
        if "basis" in data:
            check_choice("basis", data["basis"], Basis.choices)
            programme.basis = data["basis"]
        if "downgrade_policy" in data:
            check_choice("downgrade_policy", data["downgrade_policy"], DowngradePolicy.choices)
            programme.downgrade_policy = data["downgrade_policy"]
            if programme.downgrade_policy != DowngradePolicy.YEARLY_REVIEW:
                programme.review_month = programme.review_day = None
        if "review_month" in data:
            programme.review_month = data["review_month"]
        if "review_day" in data:
            programme.review_day = data["review_day"]
        _check_review(programme.downgrade_policy, programme.review_month, programme.review_day)
        activating = False
        if "is_active" in data:
            if not isinstance(data["is_active"], bool):
                raise DomainError(FIELD_INVALID, field="is_active")
            activating = data["is_active"] and not programme.is_active
            programme.is_active = data["is_active"]
        after = _programme_snapshot(programme)
        restart = ("downgrade_policy", "review_month", "review_day")
        if any(before[k] != after[k] for k in restart) or (after["is_active"] and not before["is_active"]):
            # A changed policy or a (re)activated programme counts reviews from today: no back-dated
            # review of figures the operator never meant to judge by.
            programme.last_review_on = clock.today()
        if programme.basis != before["basis"] and programme.basis != Basis.MIXED:
            levels = list(programme.levels.exclude(rule_kind=RuleKind.MANUAL).order_by("rank"))
            for lv in levels:
                lv.rule_kind = programme.basis
            _check_threshold_order(levels)
            TierLevel.objects.filter(pk__in=[lv.pk for lv in levels]).update(
                rule_kind=programme.basis, updated_at=clock.now()
            )
        programme.updated_at = clock.now()
        _save_activating(
            programme.save,
            audience=programme.audience,
            keep_pk=programme.pk,
            activating=activating,
            actor=actor,
        )
        b, a = diff(before, _programme_snapshot(programme))
        if a:
            audit_write(action="tier_programme.update", obj=programme, before=b, after=a, actor=actor)
    return programme


def tier_programme_delete(*, programme_id: int, actor=None) -> None:
    """Delete an inactive programme nobody was ever placed in (its levels with it); otherwise
    deactivate it and keep it: tier history refers to its levels."""
    with transaction.atomic(durable=True):
        programme = TierProgramme.objects.select_for_update().filter(pk=programme_id).first()
        if programme is None:
            raise DomainError(NOT_FOUND, field="programme_id")
        if programme.is_active:
            raise DomainError(TIER_PROGRAMME_ACTIVE, field="programme_id")
        level_ids = list(programme.levels.values_list("pk", flat=True))
        for level_id in level_ids:
            _check_level_unused(level_id)
        snapshot = _programme_snapshot(programme)
        audit_write(action="tier_programme.delete", obj=programme, before=snapshot, actor=actor)
        TierLevel.objects.filter(pk__in=level_ids).delete()
        programme.delete()


# --- levels --------------------------------------------------------------------------------------

LEVEL_FIELDS = (
    "rank",
    "code",
    "name",
    "rule_kind",
    "threshold",
    "price_rate_bp",
    "points_multiplier_bp",
    "free_shipping",
    "service_owner_role",
    "activities",
)


def _check_level_unused(level_id: int) -> None:
    in_use = (
        MemberTier.objects.filter(level_id=level_id).exists()
        or TierHistory.objects.filter(Q(from_level_id=level_id) | Q(to_level_id=level_id)).exists()
    )
    if in_use:
        raise DomainError(TIER_LEVEL_IN_USE, field="level_id")


def _check_threshold_order(levels: list[TierLevel]) -> None:
    """Within one figure, a higher rank never needs less (else the lower level is unreachable)."""
    by_kind: dict[str, list[TierLevel]] = {}
    for lv in levels:
        if lv.rule_kind != RuleKind.MANUAL:
            by_kind.setdefault(lv.rule_kind, []).append(lv)
    for same in by_kind.values():
        same.sort(key=lambda lv: lv.rank)
        for lower, higher in itertools.pairwise(same):
            if higher.threshold < lower.threshold:
                raise DomainError(TIER_THRESHOLD_ORDER, field="threshold", other=lower.name)


def _check_int(field: str, value, lo: int, hi: int, error) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DomainError(error, field=field)
    return value


def _clean_level(programme: TierProgramme, lv: TierLevel) -> None:
    lv.code = _check_code("code", lv.code)
    require("name", lv.name)
    if not isinstance(lv.name, str):
        raise DomainError(FIELD_INVALID, field="name")
    check_length("name", lv.name, 40)
    _check_int("rank", lv.rank, 0, 1000, FIELD_INVALID)
    check_choice("rule_kind", lv.rule_kind, RuleKind.choices)
    if programme.basis != Basis.MIXED and lv.rule_kind not in (programme.basis, RuleKind.MANUAL):
        raise DomainError(TIER_RULE_BASIS_MISMATCH, field="rule_kind", basis=programme.basis)
    _check_int("threshold", lv.threshold, 0, THRESHOLD_MAX, TIER_THRESHOLD_INVALID)
    _check_int("price_rate_bp", lv.price_rate_bp, 1, 10_000, TIER_RATE_INVALID)
    _check_int("points_multiplier_bp", lv.points_multiplier_bp, 0, 100_000, TIER_RATE_INVALID)
    check_choice("service_owner_role", lv.service_owner_role, ServiceOwner.choices)
    if not isinstance(lv.free_shipping, bool):
        raise DomainError(FIELD_INVALID, field="free_shipping")
    if not isinstance(lv.activities, list):
        raise DomainError(FIELD_INVALID, field="activities")
    for activity in lv.activities:
        if activity not in Activity.values:
            raise DomainError(TIER_ACTIVITY_UNKNOWN, field="activities", activity=str(activity)[:40])
    lv.activities = sorted(set(lv.activities), key=Activity.values.index)


def _level_snapshot(lv: TierLevel) -> dict[str, Any]:
    return {
        "programme": lv.programme_id,
        "rank": lv.rank,
        "code": lv.code,
        "name": lv.name,
        "rule_kind": lv.rule_kind,
        "threshold": lv.threshold,
        "price_rate_bp": lv.price_rate_bp,
        "points_multiplier_bp": lv.points_multiplier_bp,
        "free_shipping": lv.free_shipping,
        "service_owner_role": lv.service_owner_role,
        "activities": list(lv.activities),
    }


def _check_among(lv: TierLevel, others: list[TierLevel]) -> None:
    for other in others:
        if other.rank == lv.rank:
            raise DomainError(TIER_LEVEL_RANK_TAKEN, field="rank", rank=lv.rank)
        if other.code == lv.code:
            raise DomainError(TIER_LEVEL_CODE_TAKEN, field="code", code=lv.code)
    _check_threshold_order([*others, lv])


def check_level(*, programme: TierProgramme, level: TierLevel) -> None:
    """The checks ``tier_level_create``/``tier_level_update`` make, without writing (console forms
    show them as field errors). ``level`` is an unsaved or changed instance."""
    _clean_level(programme, level)
    _check_among(level, list(programme.levels.exclude(pk=level.pk)))


def check_programme(
    *, code: str | None, name: str, basis: str, downgrade_policy: str, review_month, review_day
) -> None:
    """The checks of ``tier_programme_create`` (``code`` given) or ``_update``, without writing."""
    if code is not None:
        code = _check_code("code", code)
        if TierProgramme.objects.filter(code=code).exists():
            raise DomainError(TIER_PROGRAMME_CODE_TAKEN, field="code", code=code)
    require("name", name)
    check_length("name", name.strip(), 60)
    check_choice("basis", basis, Basis.choices)
    check_choice("downgrade_policy", downgrade_policy, DowngradePolicy.choices)
    _check_review(downgrade_policy, review_month, review_day)


def _save_level(programme: TierProgramme, lv: TierLevel, *, others: list[TierLevel]) -> None:
    _check_among(lv, others)
    try:
        with transaction.atomic():
            lv.save()
    except IntegrityError as exc:  # should not happen: the programme row is locked
        raise DomainError(TIER_LEVEL_RANK_TAKEN, field="rank", rank=lv.rank) from exc


def _level_create(
    *,
    programme: TierProgramme,
    rank: int,
    code: str,
    name: str,
    rule_kind: str | None = None,
    threshold: int = 0,
    price_rate_bp: int = 10_000,
    points_multiplier_bp: int = 10_000,
    free_shipping: bool = False,
    service_owner_role: str | None = None,
    activities: list[str] | tuple[str, ...] = (),
    actor=None,
) -> TierLevel:
    programme = TierProgramme.objects.select_for_update().get(pk=programme.pk)
    now = clock.now()
    default_owner = (
        ServiceOwner.SERVICE_MANAGER if programme.audience == Audience.GROUP else ServiceOwner.SERVICE_AGENT
    )
    lv = TierLevel(
        programme=programme,
        rank=rank,
        code=code.strip() if isinstance(code, str) else code,
        name=name.strip() if isinstance(name, str) else name,
        rule_kind=rule_kind or (programme.basis if programme.basis != Basis.MIXED else ""),
        threshold=threshold,
        price_rate_bp=price_rate_bp,
        points_multiplier_bp=points_multiplier_bp,
        free_shipping=free_shipping,
        service_owner_role=service_owner_role or default_owner,
        activities=list(activities) if isinstance(activities, list | tuple) else activities,
        created_at=now,
        updated_at=now,
    )
    _clean_level(programme, lv)
    _save_level(programme, lv, others=list(programme.levels.all()))
    audit_write(action="tier_level.create", obj=lv, after=_level_snapshot(lv), actor=actor)
    return lv


def tier_level_create(
    *, programme: TierProgramme, actor=None, idem: idempotency.Claim | None = None, **spec
) -> TierLevel:
    """Add a level: ``rank, code, name`` and optionally ``rule_kind`` (defaults to the
    programme's basis), ``threshold``, ``price_rate_bp``, ``points_multiplier_bp``,
    ``free_shipping``, ``service_owner_role`` (客服 for individuals, 客服经理 for groups by default),
    ``activities``."""
    with transaction.atomic(durable=True):
        lv = _level_create(programme=programme, actor=actor, **spec)
        idempotency.complete(idem, lv)
    return lv


LEVEL_CHANGEABLE = LEVEL_FIELDS


def tier_level_update(*, level_id: int, data: dict[str, Any], actor=None) -> TierLevel:
    unknown = set(data) - set(LEVEL_CHANGEABLE)
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    with transaction.atomic(durable=True):
        lv = TierLevel.objects.filter(pk=level_id).first()
        if lv is None:
            raise DomainError(NOT_FOUND, field="level_id")
        programme = TierProgramme.objects.select_for_update().get(pk=lv.programme_id)
        lv = TierLevel.objects.get(pk=level_id)
        before = _level_snapshot(lv)
        for key, value in data.items():
            setattr(lv, key, value.strip() if isinstance(value, str) and key in ("code", "name") else value)
        if isinstance(lv.activities, tuple):
            lv.activities = list(lv.activities)
        lv.updated_at = clock.now()
        _clean_level(programme, lv)
        _save_level(programme, lv, others=list(programme.levels.exclude(pk=lv.pk)))
        b, a = diff(before, _level_snapshot(lv))
        if a:
            audit_write(action="tier_level.update", obj=lv, before=b, after=a, actor=actor)
    return lv


def tier_level_delete(*, level_id: int, actor=None) -> None:
    """Delete a level nobody holds or ever held (history refers to levels: change those instead)."""
    with transaction.atomic(durable=True):
        lv = TierLevel.objects.filter(pk=level_id).first()
        if lv is None:
            raise DomainError(NOT_FOUND, field="level_id")
        TierProgramme.objects.select_for_update().get(pk=lv.programme_id)
        _check_level_unused(lv.pk)
        audit_write(action="tier_level.delete", obj=lv, before=_level_snapshot(lv), actor=actor)
        lv.delete()
