"""The event forecast calculator (活动预测, SPEC 11 S2: a store promotion).

    visitors   = reachable × income share × area share × brand share × response rate
    households = visitors ÷ people per household (default 3)
    orders     = households (one purchase per household)
    revenue    = orders × average order value

Shares and the response rate are basis points (1 bp = 0.01%), people per household ×100, money
integer fen. **Rounding**: visitors are rounded half up to whole people once, from the exact
product (reachable × four basis-point figures ÷ 10000⁴, in integers: no floating point);
households are rounded half up from the *rounded* visitors, so the shown figures chain (a reader
redoing "visitors ÷ 3" gets the households shown); revenue is exact (orders × fen). The target
population (reachable × the three shares) is shown rounded but is not an input to the next step.

The SPEC's preset response range 0.2%–2% gives three scenarios next to the forecast's own rate:
low 20 bp, mid 110 bp (the middle of the range), high 200 bp. Any rate from 1 bp to 100% may be
saved. After the event the actual visitors, orders and revenue are recorded; the comparison gives
each difference and the error (actual − forecast) ÷ forecast (``None`` when the forecast is 0).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from django.db import transaction

from laoke.core import idempotency
from laoke.core.errors import DomainError
from laoke.core.money import half_up_div

from .error_codes_behaviour import ANALYTICS_FORECAST_INVALID, ANALYTICS_FORECAST_NOT_FOUND
from .models import EventForecast

BP = 10_000
PRESETS = {"low": 20, "mid": 110, "high": 200}
DEFAULT_HOUSEHOLD_X100 = 300


@dataclass(frozen=True)
class Inputs:
    reachable: int
    income_share_bp: int
    area_share_bp: int
    brand_share_bp: int
    response_bp: int
    aov_fen: int
    household_size_x100: int = DEFAULT_HOUSEHOLD_X100


def _bad(field: str, zh: str, en: str) -> DomainError:
    return DomainError(ANALYTICS_FORECAST_INVALID, field=field, reason_zh=zh, reason_en=en)


def validate(inp: Inputs) -> None:
    """Raise ``ANALYTICS_FORECAST_INVALID`` naming the first bad input."""
    if inp.reachable < 0:
        raise _bad("reachable", "不能为负数", "must not be negative")
    for name in ("income_share_bp", "area_share_bp", "brand_share_bp"):
        if not 0 <= getattr(inp, name) <= BP:
            raise _bad(name, "须在 0 到 10000 基点之间", "must be 0 to 10000 basis points")
    if not 1 <= inp.response_bp <= BP:
        raise _bad("response_bp", "须在 1 到 10000 基点之间", "must be 1 to 10000 basis points")
    if inp.household_size_x100 <= 0:
        raise _bad("household_size_x100", "须大于 0", "must be more than 0")
    if inp.aov_fen < 0:
        raise _bad("aov_fen", "不能为负数", "must not be negative")


def compute(inp: Inputs) -> dict:
    """The forecast chain for one response rate (integers; see the module docstring)."""
    shares = inp.income_share_bp * inp.area_share_bp * inp.brand_share_bp
    target = half_up_div(inp.reachable * shares, BP**3)
    visitors = half_up_div(inp.reachable * shares * inp.response_bp, BP**4)
    households = half_up_div(visitors * 100, inp.household_size_x100)
    return {
        "response_bp": inp.response_bp,
        "target": target,
        "visitors": visitors,
        "households": households,
        "orders": households,
        "revenue_fen": households * inp.aov_fen,
    }


def scenarios(inp: Inputs) -> dict:
    """The forecast at its own rate and at the preset low / mid / high rates."""
    out = {"forecast": compute(inp)}
    for name, bp in PRESETS.items():
        out[name] = compute(Inputs(**{**asdict(inp), "response_bp": bp}))
    return out


def inputs_of(f: EventForecast) -> Inputs:
    return Inputs(
        reachable=f.reachable,
        income_share_bp=f.income_share_bp,
        area_share_bp=f.area_share_bp,
        brand_share_bp=f.brand_share_bp,
        response_bp=f.response_bp,
        aov_fen=f.aov_fen,
        household_size_x100=f.household_size_x100,
    )


def comparison(f: EventForecast) -> list[dict]:
    """Forecast vs actual for visitors, orders and revenue (rows without an actual: ``None``)."""
    predicted = compute(inputs_of(f))
    rows = []
    for measure, key, actual in (
        ("visitors", "visitors", f.actual_visitors),
        ("orders", "orders", f.actual_orders),
        ("revenue_fen", "revenue_fen", f.actual_revenue_fen),
    ):
        fc = predicted[key]
        diff = None if actual is None else actual - fc
        rows.append(
            {
                "measure": measure,
                "forecast": fc,
                "actual": actual,
                "difference": diff,
                "error": None if diff is None or fc == 0 else diff / fc,
            }
        )
    return rows


# --- services --------------------------------------------------------------------------------------


def forecast_create(
    *,
    name: str,
    event_date: date,
    inputs: Inputs,
    now: datetime,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> EventForecast:
    """Save a forecast (its figures are recomputed from the inputs whenever shown)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise _bad("name", "须为 1–120 个字符", "must be 1 to 120 characters")
    validate(inputs)
    with transaction.atomic(durable=True):
        f = EventForecast.objects.create(
            name=name,
            event_date=event_date,
            **asdict(inputs),
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
            updated_at=now,
        )
        idempotency.complete(idem, f)
    return f


def forecast_record_actuals(
    *,
    forecast_id: int,
    now: datetime,
    actual_visitors: int | None = None,
    actual_orders: int | None = None,
    actual_revenue_fen: int | None = None,
    idem: idempotency.Claim | None = None,
) -> EventForecast:
    """Record what the event brought (only the figures given change; each ≥ 0)."""
    given = {
        "actual_visitors": actual_visitors,
        "actual_orders": actual_orders,
        "actual_revenue_fen": actual_revenue_fen,
    }
    for key, value in given.items():
        if value is not None and value < 0:
            raise _bad(key, "不能为负数", "must not be negative")
    with transaction.atomic(durable=True):
        f = EventForecast.objects.select_for_update().filter(pk=forecast_id).first()
        if f is None:
            raise DomainError(ANALYTICS_FORECAST_NOT_FOUND, forecast_id=forecast_id)
        for key, value in given.items():
            if value is not None:
                setattr(f, key, value)
        f.updated_at = now
        f.save(update_fields=[*[k for k, v in given.items() if v is not None], "updated_at"])
        idempotency.complete(idem, f)
    return f


def forecast_get(forecast_id: int) -> EventForecast:
    f = EventForecast.objects.filter(pk=forecast_id).first()
    if f is None:
        raise DomainError(ANALYTICS_FORECAST_NOT_FOUND, forecast_id=forecast_id)
    return f


def forecast_list():
    return EventForecast.objects.order_by("-event_date", "-pk")


def forecast_report(f: EventForecast) -> dict:
    """A saved forecast with its scenarios and, once actuals exist, the comparison."""
    return {
        "id": f.pk,
        "name": f.name,
        "event_date": f.event_date,
        "inputs": asdict(inputs_of(f)),
        "scenarios": scenarios(inputs_of(f)),
        "comparison": comparison(f),
        "created_at": f.created_at,
        "updated_at": f.updated_at,
    }
