"""/api/v1/analytics: traffic (page-view import, entries, paths, funnel, per day), cohorts,
repurchase intervals, lifecycle and activity, and event forecasts.

Permissions: traffic reads ``analytics.view_pageview``, the import ``analytics.add_pageview``; the
order-based customer reports (cohorts, intervals, lifecycle) share the customer-model read
permission ``analytics.view_clvfit`` (analysts, marketers, the admin); forecasts
``analytics.{view,add,change}_eventforecast``. Reads need the token scope ``analytics:read``,
writes ``analytics:write``. Days (``since``/``until``, both included) are shop days; rates are
fractions; money is yuan next to its fen.
"""

from datetime import date
from typing import Literal

from django.http import HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict

from laoke.core import clock
from laoke.core.api import idempotent_write, lang_of, require
from laoke.core.errors import DomainError
from laoke.core.money import MoneyFormatError, fen_to_yuan, yuan_to_fen
from laoke.core.xlsx import workbook_bytes

from . import cohorts, forecast, traffic
from .error_codes_behaviour import (
    ANALYTICS_FORECAST_INVALID,
    ANALYTICS_PAGEVIEW_ROWS_INVALID,
    ANALYTICS_REPORT_PARAM,
)
from .models import EventForecast

router = Router(tags=["analytics"])

READ, WRITE = "analytics:read", "analytics:write"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _window(since: date | None, until: date | None) -> dict:
    """Shop days (both included) → an aware [since, until) window."""
    if since and until and until < since:
        raise DomainError(
            ANALYTICS_REPORT_PARAM, field="until", reason_zh="早于开始日期", reason_en="is before since"
        )
    return traffic.day_window(since, until)


def _xlsx(name: str, sheets) -> HttpResponse:
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


# --- traffic -----------------------------------------------------------------------------------------


@router.post("/pageviews/import", response={200: dict, 201: dict})
@require("analytics.add_pageview", WRITE)
def pageviews_import(
    request,
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    skip_invalid: Form[bool] = False,
    ref_source: Form[str] = "import",
):
    """Import page views (CSV member_ref,session,ts,page,referrer). Every row is checked first;
    with a bad row nothing is imported (422 ANALYTICS_PAGEVIEW_ROWS_INVALID, ``details.errors``
    lists row, column, value, code and message) unless ``skip_invalid``. ``dry_run`` only checks
    (200 with the same summary). Importing the same rows again adds nothing (``duplicates``)."""
    lang = lang_of(request)
    result = traffic.pageviews_import(
        data=file.read(),
        now=clock.now(),
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        ref_source=ref_source[:32] or "import",
    )
    body = result.as_dict(lang)
    if result.invalid and not dry_run and not skip_invalid:
        raise DomainError(ANALYTICS_PAGEVIEW_ROWS_INVALID, details=body, invalid=result.invalid)
    return Status(200 if dry_run else 201, body)


@router.get("/traffic/entries")
@require("analytics.view_pageview", READ)
def traffic_entries(
    request,
    since: date | None = None,
    until: date | None = None,
    limit: int = Query(50, ge=1, le=1000),
    format: Literal["json", "xlsx"] = "json",
):
    """Entry pages (first page of each session) and the referrers of those entries."""
    data = traffic.entry_points(**_window(since, until), limit=limit)
    if format == "xlsx":
        return _xlsx(
            "traffic-entries",
            [
                (
                    "entries",
                    ["page", "sessions", "share"],
                    [[r["page"], r["sessions"], r["share"]] for r in data["entries"]],
                ),
                (
                    "referrers",
                    ["referrer", "sessions", "share"],
                    [[r["referrer"], r["sessions"], r["share"]] for r in data["referrers"]],
                ),
            ],
        )
    return data


@router.get("/traffic/paths")
@require("analytics.view_pageview", READ)
def traffic_paths(
    request,
    since: date | None = None,
    until: date | None = None,
    depth: int = Query(3, ge=1, le=10),
    limit: int = Query(20, ge=1, le=1000),
):
    """The most frequent first-``depth``-page sequences of sessions."""
    return traffic.top_paths(depth=depth, **_window(since, until), limit=limit)


@router.get("/traffic/funnel")
@require("analytics.view_pageview", READ)
def traffic_funnel(request, steps: Query[list[str]], since: date | None = None, until: date | None = None):
    """Step funnel: ``steps`` repeated (``?steps=/a&steps=/b``) or comma-separated; ``*`` matches
    any characters. Sessions reaching each step in order, conversion per step and overall."""
    return traffic.funnel(traffic.parse_steps(steps), **_window(since, until))


@router.get("/traffic/daily")
@require("analytics.view_pageview", READ)
def traffic_daily(request, since: date | None = None, until: date | None = None):
    """Sessions (by their first view) and page views per shop day."""
    return {"days": traffic.sessions_per_day(**_window(since, until))}


# --- cohorts, intervals, lifecycle --------------------------------------------------------------------


@router.get("/cohorts")
@require("analytics.view_clvfit", READ)
def cohort_table(
    request, months: int | None = Query(None, ge=1, le=240), format: Literal["json", "xlsx"] = "json"
):
    """Monthly cohorts by first counted order (shop months): size, members ordering in month k and
    the retention share; months not yet observable are left out of a cohort's row."""
    data = cohorts.cohort_retention(now=clock.now(), months=months)
    if format == "xlsx":
        return _xlsx("cohort-retention", cohorts.retention_sheets(data))
    return data


@router.get("/repurchase-intervals")
@require("analytics.view_clvfit", READ)
def repurchase_intervals(request):
    """Days between consecutive counted orders of a member: histogram buckets and quantiles."""
    return cohorts.repurchase_intervals()


@router.get("/lifecycle")
@require("analytics.view_clvfit", READ)
def lifecycle(
    request,
    period_days: int = Query(30, ge=1, le=3650),
    new_days: int = Query(30, ge=1, le=3650),
    dormant_days: int = Query(90, ge=1, le=3650),
    lost_days: int = Query(365, ge=1, le=7300),
):
    """Members per lifecycle stage now and ``period_days`` ago, the movement, activity bands."""
    if not new_days <= dormant_days < lost_days:
        raise DomainError(
            ANALYTICS_REPORT_PARAM,
            field="dormant_days",
            reason_zh="须满足 new_days ≤ dormant_days < lost_days",
            reason_en="needs new_days ≤ dormant_days < lost_days",
        )
    now = clock.now()
    rules = cohorts.LifecycleRules(new_days=new_days, dormant_days=dormant_days, lost_days=lost_days)
    return {
        **cohorts.lifecycle(now=now, rules=rules, period_days=period_days),
        "activity": cohorts.activity_summary(now=now),
    }


# --- event forecasts ------------------------------------------------------------------------------------


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class ForecastIn(In):
    reachable: int = Field(..., ge=0)
    income_share_bp: int = Field(..., ge=0, le=10_000)
    area_share_bp: int = Field(..., ge=0, le=10_000)
    brand_share_bp: int = Field(..., ge=0, le=10_000)
    response_bp: int = Field(110, ge=1, le=10_000)
    household_size: str = Field("3", max_length=8, description="people per household, e.g. 3 or 2.8")
    aov: str = Field(..., max_length=20, description="average order value in yuan, e.g. 250.00")


class ForecastCreate(ForecastIn):
    name: str = Field(..., max_length=120)
    event_date: date


class ActualsIn(In):
    actual_visitors: int | None = Field(None, ge=0)
    actual_orders: int | None = Field(None, ge=0)
    actual_revenue: str | None = Field(None, max_length=20, description="yuan")


def _yuan(raw: str, field: str) -> int:
    try:
        fen = yuan_to_fen(raw)
    except MoneyFormatError:
        fen = -1
    if fen < 0:
        raise DomainError(
            ANALYTICS_FORECAST_INVALID, field=field, reason_zh="不是金额", reason_en="is not an amount"
        )
    return fen


def _inputs(p: ForecastIn) -> forecast.Inputs:
    try:
        size = round(float(p.household_size) * 100)
    except ValueError:
        size = 0
    return forecast.Inputs(
        reachable=p.reachable,
        income_share_bp=p.income_share_bp,
        area_share_bp=p.area_share_bp,
        brand_share_bp=p.brand_share_bp,
        response_bp=p.response_bp,
        aov_fen=_yuan(p.aov, "aov"),
        household_size_x100=size,
    )


def _with_yuan(figures: dict) -> dict:
    return {**figures, "revenue": float(fen_to_yuan(figures["revenue_fen"]))}


def render_forecast(f: EventForecast) -> dict:
    """A saved forecast as the API shows it (scenarios and comparison, revenue also in yuan)."""
    report = forecast.forecast_report(f)
    report["scenarios"] = {k: _with_yuan(v) for k, v in report["scenarios"].items()}
    report["event_date"] = report["event_date"].isoformat()
    report["created_at"] = report["created_at"].isoformat()
    report["updated_at"] = report["updated_at"].isoformat()
    report["inputs"]["aov"] = float(fen_to_yuan(f.aov_fen))
    report["inputs"]["household_size"] = f.household_size_x100 / 100
    return report


@router.post("/forecasts/calculate")
@require("analytics.view_eventforecast", READ)
def forecast_calculate(request, payload: ForecastIn):
    """The forecast chain for these inputs and the preset response rates (nothing saved)."""
    inputs = _inputs(payload)
    forecast.validate(inputs)
    return {k: _with_yuan(v) for k, v in forecast.scenarios(inputs).items()}


@router.get("/forecasts")
@require("analytics.view_eventforecast", READ)
def forecasts_list(request, limit: int = Query(100, ge=1, le=500)):
    """Saved forecasts, latest event first."""
    return {"items": [render_forecast(f) for f in forecast.forecast_list()[:limit]]}


@router.post("/forecasts", response={201: dict})
@require("analytics.add_eventforecast", WRITE)
def forecasts_create(request, payload: ForecastCreate):
    """Save a forecast (accepts an Idempotency-Key)."""
    data = payload.model_dump(mode="json")
    inputs = _inputs(payload)
    return idempotent_write(
        request,
        scope="analytics.forecast.create",
        payload=data,
        call=lambda claim: forecast.forecast_create(
            name=payload.name,
            event_date=payload.event_date,
            inputs=inputs,
            now=clock.now(),
            actor=request.user,
            idem=claim,
        ),
        render=lambda f: (201, render_forecast(f)),
    )


@router.get("/forecasts/{int:forecast_id}")
@require("analytics.view_eventforecast", READ)
def forecasts_get(request, forecast_id: int):
    return render_forecast(forecast.forecast_get(forecast_id))


@router.patch("/forecasts/{int:forecast_id}")
@require("analytics.change_eventforecast", WRITE)
def forecasts_actuals(request, forecast_id: int, payload: ActualsIn):
    """Record the actual visitors, orders and revenue (yuan) after the event."""
    data = payload.model_dump(exclude_unset=True)
    revenue = data.get("actual_revenue")
    return idempotent_write(
        request,
        scope=f"analytics.forecast.actuals:{forecast_id}",
        payload=data,
        call=lambda claim: forecast.forecast_record_actuals(
            forecast_id=forecast_id,
            now=clock.now(),
            actual_visitors=data.get("actual_visitors"),
            actual_orders=data.get("actual_orders"),
            actual_revenue_fen=None if revenue is None else _yuan(revenue, "actual_revenue"),
            idem=claim,
        ),
        render=lambda f: (200, render_forecast(f)),
    )
