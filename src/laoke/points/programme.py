"""The active programme and its settings (read inside services; changed by ``programme_update``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, DomainError

from .error_codes import POINTS_NO_PROGRAMME, POINTS_SETTING_INVALID
from .models import PointsProgramme


def active_programme(*, lock: bool = False) -> PointsProgramme:
    qs = PointsProgramme.objects.filter(is_active=True)
    if lock:
        qs = qs.select_for_update()
    programme = qs.first()
    if programme is None:
        raise DomainError(POINTS_NO_PROGRAMME)
    return programme


def expiry_for(programme: PointsProgramme, at: datetime) -> datetime | None:
    """Points earned on shop day D with an expiry of N months stay valid through day D + N months
    (clamped to the month's end: 31 Jan + 1 month → 28/29 Feb) and expire at the shop's midnight
    that ends that day. ``None`` while expiry is off (the preset)."""
    if not programme.expiry_months:
        return None
    last_day = clock.to_local(at).date() + relativedelta(months=programme.expiry_months)
    midnight = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=clock.shop_tz())
    return midnight.astimezone(at.tzinfo or clock.now().tzinfo)


_INT_FIELDS = {
    "points_per_yuan": (1, 1000, False),
    "expiry_months": (1, 120, True),
    "reminder_days": (0, 365, False),
    "window_start_day": (1, 31, True),
    "window_end_day": (1, 31, True),
    "gift_budget_bp": (0, 10_000, False),
    "permanent_points": (1, 10**9, True),
    "claim_days": (1, 3650, False),
    "signin_points": (0, 10_000, False),
}
EDITABLE = {*_INT_FIELDS, "name", "rounding", "allow_negative", "signin_streak_bonus"}


def clean_programme_data(data: dict[str, Any], current: PointsProgramme | None = None) -> dict[str, Any]:
    """Validate a partial change of the programme's settings; raises on the first bad field."""
    unknown = set(data) - EDITABLE
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    out = dict(data)
    for name, (lo, hi, nullable) in _INT_FIELDS.items():
        if name not in out:
            continue
        value = out[name]
        if value is None and nullable:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise DomainError(POINTS_SETTING_INVALID, field=name)
    if "name" in out and (
        not isinstance(out["name"], str) or not out["name"].strip() or len(out["name"]) > 100
    ):
        raise DomainError(POINTS_SETTING_INVALID, field="name")
    if "rounding" in out and out["rounding"] not in PointsProgramme.Rounding.values:
        raise DomainError(POINTS_SETTING_INVALID, field="rounding")
    if "allow_negative" in out and not isinstance(out["allow_negative"], bool):
        raise DomainError(POINTS_SETTING_INVALID, field="allow_negative")
    if "signin_streak_bonus" in out:
        bonus = out["signin_streak_bonus"]
        ok = isinstance(bonus, dict) and all(
            isinstance(k, str)
            and k.isdigit()
            and 1 <= int(k) <= 366
            and isinstance(v, int)
            and not isinstance(v, bool)
            and 0 <= v <= 100_000
            for k, v in bonus.items()
        )
        if not ok:
            raise DomainError(POINTS_SETTING_INVALID, field="signin_streak_bonus")
    start = out.get("window_start_day", getattr(current, "window_start_day", None))
    end = out.get("window_end_day", getattr(current, "window_end_day", None))
    if (start is None) != (end is None) or (start is not None and start > end):
        raise DomainError(POINTS_SETTING_INVALID, field="window_end_day")
    return out


def _snapshot(p: PointsProgramme) -> dict[str, Any]:
    return {name: getattr(p, name) for name in sorted(EDITABLE)}


def programme_update(
    *, data: dict[str, Any], actor=None, idem: idempotency.Claim | None = None
) -> PointsProgramme:
    """Change the active programme's settings (audited with before/after)."""
    with transaction.atomic(durable=True):
        programme = active_programme(lock=True)
        data = clean_programme_data(data, programme)
        before = _snapshot(programme)
        for key, value in data.items():
            setattr(programme, key, value.strip() if key == "name" else value)
        b, a = diff(before, _snapshot(programme))
        if a:
            programme.updated_at = clock.now()
            programme.save(update_fields=[*a, "updated_at"])
            audit_write(action="points.programme.update", obj=programme, before=b, after=a, actor=actor)
        idempotency.complete(idem, programme)
    return programme
