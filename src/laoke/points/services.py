"""Writes of the points app (SPEC 3). Every movement of points is a ledger transfer made through
``laoke.points.lots`` (lots, oldest-first) with a deterministic key.

The services live in topic modules and are re-exported here under one name:

- programme.py — ``programme_update`` (settings, audited);
- earning.py — ``_points_earn`` / ``_points_spend`` (inside settlement's transaction),
  ``points_earn`` / ``points_spend``, ``points_reverse`` (refunds, proportional, idempotent);
- gifts.py — gift levels, store catalogues, ``gift_redeem`` (window, stock, permanent member),
  ``gift_redemption_cancel``;
- claims.py — 补积分 ``receipt_claim_submit`` / ``receipt_claim_decide``;
- tick.py — ``points_tick(now)``: expiry (``expire:{lot_id}``), reminders, repairs;
- this module — earn rules, manual adjustments, old-programme migration, daily sign-in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction

from laoke.catalog.models import Category
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.ledger.models import Account
from laoke.ledger.services import _transfer
from laoke.members.models import Member

from . import lots
from .claims import receipt_claim_decide, receipt_claim_submit
from .earning import (
    _check_key,
    _check_member,
    _need_tx,
    _points_earn,
    _points_reverse,
    _points_spend,
    points_earn,
    points_reverse,
    points_spend,
)
from .error_codes import (
    POINTS_AMOUNT_INVALID,
    POINTS_MIGRATION_CONFLICT,
    POINTS_REASON_REQUIRED,
    POINTS_SETTING_INVALID,
    POINTS_SIGNED_IN,
)
from .gifts import gift_level_create, gift_offer_add, gift_redeem, gift_redemption_cancel
from .models import EarnRule, LotConsumption, PointsLot, PointsMigration, PointsMigrationEntry, SignIn
from .programme import active_programme, expiry_for, programme_update
from .tick import points_tick

__all__ = [
    "_points_earn",
    "_points_reverse",
    "_points_spend",
    "earn_rule_create",
    "earn_rule_update",
    "gift_level_create",
    "gift_offer_add",
    "gift_redeem",
    "gift_redemption_cancel",
    "points_adjust",
    "points_earn",
    "points_merge",
    "points_migrate",
    "points_reverse",
    "points_sign_in",
    "points_spend",
    "points_tick",
    "programme_update",
    "receipt_claim_decide",
    "receipt_claim_submit",
]


# --- earn rules -----------------------------------------------------------------------------------

_RULE_FIELDS = {
    "name",
    "multiplier_bp",
    "category",
    "weekday",
    "day_of_month",
    "campaign_code",
    "valid_from",
    "valid_until",
    "is_active",
}


def _clean_rule(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - _RULE_FIELDS
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    bp = data.get("multiplier_bp")
    if "multiplier_bp" in data and (
        isinstance(bp, bool) or not isinstance(bp, int) or not 0 <= bp <= 100_000
    ):
        raise DomainError(POINTS_SETTING_INVALID, field="multiplier_bp")
    if "name" in data and (
        not isinstance(data["name"], str) or not data["name"].strip() or len(data["name"]) > 100
    ):
        raise DomainError(POINTS_SETTING_INVALID, field="name")
    if "category" in data and data["category"] is not None and not isinstance(data["category"], Category):
        raise DomainError(POINTS_SETTING_INVALID, field="category")
    for name, lo, hi in (("weekday", 1, 7), ("day_of_month", 1, 31)):
        v = data.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi):
            raise DomainError(POINTS_SETTING_INVALID, field=name)
    if "campaign_code" in data and (
        not isinstance(data["campaign_code"], str) or len(data["campaign_code"]) > 32
    ):
        raise DomainError(POINTS_SETTING_INVALID, field="campaign_code")
    return data


def _check_rule_shape(rule: EarnRule) -> None:
    ok = {
        EarnRule.Kind.CATEGORY: rule.category_id is not None,
        EarnRule.Kind.MEMBER_DAY: bool(rule.weekday or rule.day_of_month),
        EarnRule.Kind.CAMPAIGN: bool(rule.campaign_code),
    }.get(rule.kind)
    if not ok:
        raise DomainError(POINTS_SETTING_INVALID, field="kind")
    if rule.valid_from and rule.valid_until and rule.valid_until <= rule.valid_from:
        raise DomainError(POINTS_SETTING_INVALID, field="valid_until")


def _rule_snapshot(r: EarnRule) -> dict[str, Any]:
    return {
        "name": r.name,
        "multiplier_bp": r.multiplier_bp,
        "category": r.category_id,
        "weekday": r.weekday,
        "day_of_month": r.day_of_month,
        "campaign_code": r.campaign_code,
        "valid_from": r.valid_from.isoformat() if r.valid_from else None,
        "valid_until": r.valid_until.isoformat() if r.valid_until else None,
        "is_active": r.is_active,
    }


def earn_rule_create(*, kind: str, data: dict[str, Any], actor=None) -> EarnRule:
    """A multiplier (or, at 0 bp, an exclusion) by category, member day or campaign."""
    if kind not in EarnRule.Kind.values:
        raise DomainError(POINTS_SETTING_INVALID, field="kind")
    data = _clean_rule(kind, dict(data))
    data.setdefault("name", kind)
    with transaction.atomic(durable=True):
        rule = EarnRule(programme=active_programme(), kind=kind, created_at=clock.now(), **data)
        rule.name = rule.name.strip()
        _check_rule_shape(rule)
        rule.save()
        audit_write(
            action="points.rule.create", obj=rule, after={"kind": kind, **_rule_snapshot(rule)}, actor=actor
        )
    return rule


def earn_rule_update(*, rule_id: int, data: dict[str, Any], actor=None) -> EarnRule:
    with transaction.atomic(durable=True):
        rule = EarnRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise DomainError(NOT_FOUND, field="rule_id")
        data = _clean_rule(rule.kind, dict(data))
        before = _rule_snapshot(rule)
        for key, value in data.items():
            setattr(rule, key, value)
        _check_rule_shape(rule)
        b, a = diff(before, _rule_snapshot(rule))
        if a:
            rule.save()
            audit_write(action="points.rule.update", obj=rule, before=b, after=a, actor=actor)
    return rule


# --- manual adjustments ---------------------------------------------------------------------------


def points_adjust(
    *, member: Member, points: int, reason: str, key: str, actor=None, idem: idempotency.Claim | None = None
) -> PointsLot | None:
    """Add (points > 0, a new lot) or take away (points < 0, oldest lots first) by hand, with a
    reason; audited. Returns the new lot of an addition."""
    _check_key(key)
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > 10**9:
        raise DomainError(POINTS_AMOUNT_INVALID, field="points")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 200:
        raise DomainError(POINTS_REASON_REQUIRED, field="reason")
    with transaction.atomic(durable=True):
        _check_member(member)
        lots._lock_account(member)
        before = lots._balance(member)
        now = clock.now()
        lot = None
        if points > 0:
            credit = lots._credit(
                member=member,
                amount=points,
                key=f"adjust:{key}",
                reason="points.adjust",
                kind=PointsLot.Kind.ADJUST,
                reference=reason[:128],
                expires_at=expiry_for(active_programme(), now),
                at=now,
            )
            lot, new = credit.lot, credit.new
        else:
            _t, new = lots._debit(
                member=member,
                amount=-points,
                key=f"adjust:{key}",
                reason="points.adjust",
                reference=reason[:128],
                sink="points_liability",
            )
        if new:
            audit_write(
                action="points.adjust",
                obj=member,
                before={"balance": before},
                after={"points": points, "reason": reason, "key": key, "balance": lots._balance(member)},
                actor=actor,
            )
        idempotency.complete(idem, lot if lot is not None else member)
    return lot


# --- old-programme migration ----------------------------------------------------------------------


def points_migrate(
    *,
    code: str,
    mode: str,
    member: Member,
    old_points: int,
    ratio_old: int = 10,
    ratio_new: int = 1,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> PointsMigrationEntry:
    """Bring a member's old-programme points over (S2): ``convert`` at ratio_old:ratio_new
    (preset 10:1, rounded down) or ``reset`` to zero. Once per member, whatever the migration: a
    second call for the same member returns the first entry (or 409 if its figures differ)."""
    if mode not in PointsMigration.Mode.values:
        raise DomainError(POINTS_SETTING_INVALID, field="mode")
    if not isinstance(code, str) or not code.strip() or len(code) > 32:
        raise DomainError(POINTS_SETTING_INVALID, field="code")
    for name, value, lo in (
        ("old_points", old_points, 0),
        ("ratio_old", ratio_old, 1),
        ("ratio_new", ratio_new, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= 10**12:
            raise DomainError(POINTS_AMOUNT_INVALID, field=name)
    with transaction.atomic(durable=True):
        migration, _ = PointsMigration.objects.get_or_create(
            code=code.strip(),
            defaults={
                "mode": mode,
                "ratio_old": ratio_old,
                "ratio_new": ratio_new,
                "created_at": clock.now(),
            },
        )
        if (migration.mode, migration.ratio_old, migration.ratio_new) != (mode, ratio_old, ratio_new):
            raise DomainError(POINTS_MIGRATION_CONFLICT, field="code", code=migration.code)
        lots._lock_account(member)
        before = lots._balance(member)
        entry = PointsMigrationEntry.objects.filter(member=member).first()
        if entry is not None:
            if entry.migration_id != migration.pk or entry.old_points != old_points:
                raise DomainError(POINTS_MIGRATION_CONFLICT, field="member", code=migration.code)
            idempotency.complete(idem, entry)
            return entry
        _check_member(member)
        new_points = old_points * ratio_new // ratio_old if mode == PointsMigration.Mode.CONVERT else 0
        now = clock.now()
        transfer = None
        if new_points > 0:
            transfer = lots._credit(
                member=member,
                amount=new_points,
                key=f"migrate:{member.pk}",
                reason="points.migrate",
                kind=PointsLot.Kind.MIGRATE,
                reference=f"migration:{migration.code}",
                expires_at=expiry_for(active_programme(), now),
                at=now,
            ).transfer
        try:
            with transaction.atomic():
                entry = PointsMigrationEntry.objects.create(
                    migration=migration,
                    member=member,
                    old_points=old_points,
                    new_points=new_points,
                    transfer=transfer,
                    created_at=now,
                )
        except IntegrityError as exc:
            raise DomainError(POINTS_MIGRATION_CONFLICT, field="member", code=migration.code) from exc
        audit_write(
            action="points.migrate",
            obj=entry,
            before={"balance": before},
            after={
                "code": migration.code,
                "mode": mode,
                "old_points": old_points,
                "new_points": new_points,
                "balance": lots._balance(member),
            },
            actor=actor,
        )
        idempotency.complete(idem, entry)
    return entry


# --- daily sign-in --------------------------------------------------------------------------------


def streak_bonus(bonuses: dict[str, int], streak: int) -> int:
    """Every ``k``-th consecutive day earns ``bonuses[str(k)]`` on top (all matching k add up)."""
    return sum(v for k, v in (bonuses or {}).items() if streak % int(k) == 0)


def points_sign_in(*, member: Member, actor=None, idem: idempotency.Claim | None = None) -> SignIn:
    """签到: once per member per shop day; a streak continues from yesterday's sign-in."""
    with transaction.atomic(durable=True):
        _check_member(member)
        programme = active_programme()
        lots._lock_account(member)
        before = lots._balance(member)
        day = clock.today()
        if SignIn.objects.filter(member=member, day=day).exists():
            raise DomainError(POINTS_SIGNED_IN)
        yesterday = SignIn.objects.filter(member=member, day=day - timedelta(days=1)).first()
        streak = yesterday.streak + 1 if yesterday else 1
        bonus = streak_bonus(programme.signin_streak_bonus, streak)
        total = programme.signin_points + bonus
        now = clock.now()
        transfer = None
        if total > 0:
            transfer = lots._credit(
                member=member,
                amount=total,
                key=f"signin:{member.pk}:{day.isoformat()}",
                reason="points.signin",
                kind=PointsLot.Kind.SIGNIN,
                expires_at=expiry_for(programme, now),
                at=now,
            ).transfer
        try:
            with transaction.atomic():
                signin = SignIn.objects.create(
                    member=member,
                    day=day,
                    streak=streak,
                    points=programme.signin_points,
                    bonus=bonus,
                    transfer=transfer,
                    created_at=now,
                )
        except IntegrityError as exc:
            raise DomainError(POINTS_SIGNED_IN) from exc
        audit_write(
            action="points.sign_in",
            obj=signin,
            before={"balance": before},
            after={"streak": streak, "points": total, "balance": lots._balance(member)},
            actor=actor,
        )
        idempotency.complete(idem, signin)
    return signin


# --- merged members -------------------------------------------------------------------------------


def _points_merge(*, source: Member, target: Member) -> int:
    """Move a merged member's open lots to the surviving member, each lot with its kind, earning
    date and expiry (one ledger transfer per lot, key ``merge:{lot_id}``), so merging never
    shortens or lengthens anybody's points. Safe to run again (moves only what is left). A
    deficit (negative balance) stays with the merged member. Returns the points moved. Needs the
    caller's transaction; ``members.member_merge`` calls it through ``merge_hook``."""
    _need_tx("_points_merge")
    if source.pk == target.pk:
        raise DomainError(POINTS_SETTING_INVALID, field="target")
    _check_member(target)
    ids = sorted([lots.points_account(source).pk, lots.points_account(target).pk])
    locked = {a.member_id: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    src, dst = locked[source.pk], locked[target.pk]
    moved = 0
    for lot in (
        PointsLot.objects.filter(member=source, remaining__gt=0)
        .exclude(kind=PointsLot.Kind.DEFICIT)
        .order_by(*lots.fifo_order())
    ):
        x = lot.remaining
        if PointsLot.objects.filter(pk=lot.pk, remaining=x).update(remaining=0) != 1:
            continue
        t = _transfer(
            debit=src,
            credit=dst,
            amount=x,
            key=f"merge:{lot.pk}",
            reason="points.merge",
            reference=f"member:{source.pk}",
        )
        LotConsumption.objects.create(lot=lot, transfer=t, amount=x)
        paid_off = lots._pay_deficit(target, x)
        PointsLot.objects.create(
            member=target,
            kind=lot.kind,
            amount=x,
            remaining=x - paid_off,
            earned_at=lot.earned_at,
            expires_at=lot.expires_at,
            reminded_at=lot.reminded_at,
            transfer=t,
        )
        moved += x
    return moved


def merge_hook(*, source: Member, target: Member) -> dict[str, int]:
    """``member_merge_hook`` of the points app (see members.merge)."""
    return {"points_moved": _points_merge(source=source, target=target)}


def points_merge(*, source: Member, target: Member, actor=None) -> int:
    """``_points_merge`` on its own (a repair: merges made before the hook existed)."""
    with transaction.atomic(durable=True):
        moved = _points_merge(source=source, target=target)
        if moved:
            # both accounts are locked by the merge: before = after ∓ what moved
            target_after, source_after = lots._balance(target), lots._balance(source)
            audit_write(
                action="points.merge",
                obj=target,
                before={"balance": target_after - moved, "source_balance": source_after + moved},
                after={
                    "from_member": source.pk,
                    "points": moved,
                    "balance": target_after,
                    "source_balance": source_after,
                },
                actor=actor,
            )
    return moved
