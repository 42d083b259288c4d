"""Console pages of the behaviour reports (under /admin/console/analytics/behaviour/): traffic
(funnel chart, entry and path tables, the page-view import with its dry run and row/column
errors), cohort retention (heat map) with the repurchase interval histogram, lifecycle stages and
activity, and the event forecast calculator with forecast vs actual.

Thin over ``laoke.analytics.traffic``, ``cohorts`` and ``forecast``; the same permissions as the API.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from laoke.analytics import cohorts, forecast, traffic
from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.money import MoneyFormatError, fen_to_yuan, yuan_to_fen
from laoke.core.xlsx import workbook_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_STEPS = "/item/*,/cart,/checkout,/paid"


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _xlsx(name: str, sheets) -> HttpResponse:
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


# --- traffic ---------------------------------------------------------------------------------------


def _traffic_reports(request) -> dict:
    since, until = _day(request.GET.get("since")), _day(request.GET.get("until"))
    sessions = traffic.load_sessions(**traffic.day_window(since, until))
    steps_raw = request.GET.get("steps") or DEFAULT_STEPS
    error = ""
    try:
        steps = traffic.parse_steps(steps_raw)
    except DomainError as exc:
        error, steps = exc.message(request_lang(request)), traffic.parse_steps(DEFAULT_STEPS)
    return {
        "since": since,
        "until": until,
        "steps_raw": steps_raw,
        "steps_error": error,
        "entries": traffic.entry_points(limit=20, sessions=sessions),
        "paths": traffic.top_paths(depth=3, limit=20, sessions=sessions),
        "funnel": traffic.funnel(steps, sessions=sessions),
        "daily": traffic.sessions_per_day(sessions=sessions),
    }


@permission_required("analytics.view_pageview", raise_exception=True)
def traffic_page(request):
    """Reports of the imported page views; POST imports a file (or checks it: dry run)."""
    result = None
    if request.method == "POST":
        if not request.user.has_perm("analytics.add_pageview"):
            raise PermissionDenied
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file."))
        else:
            dry_run = request.POST.get("dry_run") == "1"
            try:
                res = traffic.pageviews_import(
                    data=upload.read(),
                    now=clock.now(),
                    dry_run=dry_run,
                    skip_invalid=request.POST.get("skip_invalid") == "1",
                )
                result = res.as_dict(request_lang(request))
                if res.imported:
                    messages.success(
                        request,
                        _("Imported %(inserted)s new page views (%(dup)s already there).")
                        % {"inserted": res.inserted, "dup": result["duplicates"]},
                    )
            except DomainError as exc:
                messages.error(request, exc.message(request_lang(request)))
    reports = _traffic_reports(request)
    charts = {
        "funnel": [{"page": s["page"], "sessions": s["sessions"]} for s in reports["funnel"]["steps"]],
        "daily": [
            {"day": d["day"].isoformat(), "sessions": d["sessions"], "views": d["views"]}
            for d in reports["daily"]
        ],
    }
    return TemplateResponse(
        request,
        "console/analytics/traffic.html",
        _ctx(
            request,
            _("Traffic analysis"),
            **reports,
            charts=charts,
            result=result,
            can_import=request.user.has_perm("analytics.add_pageview"),
        ),
    )


@permission_required("analytics.view_pageview", raise_exception=True)
def traffic_xlsx(request):
    r = _traffic_reports(request)
    return _xlsx(
        "traffic",
        [
            (
                "entries",
                ["page", "sessions", "share"],
                [[e["page"], e["sessions"], e["share"]] for e in r["entries"]["entries"]],
            ),
            (
                "referrers",
                ["referrer", "sessions", "share"],
                [[e["referrer"], e["sessions"], e["share"]] for e in r["entries"]["referrers"]],
            ),
            (
                "paths",
                ["path", "sessions", "share"],
                [[" → ".join(p["path"]), p["sessions"], p["share"]] for p in r["paths"]["paths"]],
            ),
            (
                "funnel",
                ["step", "page", "sessions", "conversion", "from first"],
                [
                    [s["step"], s["page"], s["sessions"], s["conversion"], s["from_first"]]
                    for s in r["funnel"]["steps"]
                ],
            ),
            (
                "daily",
                ["day", "sessions", "views"],
                [[d["day"], d["sessions"], d["views"]] for d in r["daily"]],
            ),
        ],
    )


# --- cohorts and lifecycle --------------------------------------------------------------------------


@permission_required("analytics.view_clvfit", raise_exception=True)
def cohorts_page(request):
    try:
        months = max(1, min(int(request.GET.get("months") or 24), 240))
    except ValueError:
        months = 24
    table = cohorts.cohort_retention(now=clock.now(), months=months)
    gaps = cohorts.repurchase_intervals()
    charts = {
        "cohorts": [r["cohort"] for r in table["cohorts"]],
        "sizes": [r["size"] for r in table["cohorts"]],
        "retention": [r["retention"] for r in table["cohorts"]],
        "buckets": [
            {
                "label": f"{b['from_days']}–{b['to_days'] - 1}" if b["to_days"] else f"{b['from_days']}+",
                "count": b["count"],
            }
            for b in gaps["buckets"]
        ],
    }
    width = max((len(r["active"]) for r in table["cohorts"]), default=0)
    return TemplateResponse(
        request,
        "console/analytics/cohorts.html",
        _ctx(
            request,
            _("Cohort retention"),
            table=table,
            gaps=gaps,
            charts=charts,
            months=months,
            width=range(width),
        ),
    )


@permission_required("analytics.view_clvfit", raise_exception=True)
def cohorts_xlsx(request):
    return _xlsx("cohort-retention", cohorts.retention_sheets(cohorts.cohort_retention(now=clock.now())))


STAGE_LABELS = {
    "prospect": pgettext_lazy("lifecycle stage", "prospect (never ordered)"),
    "new": pgettext_lazy("lifecycle stage", "new"),
    "active": pgettext_lazy("lifecycle stage", "active"),
    "dormant": pgettext_lazy("lifecycle stage", "dormant"),
    "lost": pgettext_lazy("lifecycle stage", "lost"),
}


@permission_required("analytics.view_clvfit", raise_exception=True)
def lifecycle_page(request):
    now = clock.now()
    data = cohorts.lifecycle(now=now)
    activity = cohorts.activity_summary(now=now)
    labels = {k: str(v) for k, v in STAGE_LABELS.items()}
    charts = {
        "stages": [labels[s["stage"]] for s in data["stages"]],
        "now": [s["members"] for s in data["stages"]],
        "before": [s["members_before"] for s in data["stages"]],
        "bands": [f"{b['from']}–{b['to']}" for b in activity["bands"]],
        "band_members": [b["members"] for b in activity["bands"]],
    }
    movement = [{**m, "from": labels[m["from"]], "to": labels[m["to"]]} for m in data["movement"]]
    return TemplateResponse(
        request,
        "console/analytics/lifecycle.html",
        _ctx(
            request,
            _("Member lifecycle and activity"),
            data=data,
            labels=labels,
            movement=movement,
            activity=activity,
            charts=charts,
        ),
    )


# --- event forecasts -------------------------------------------------------------------------------


def _bp(raw: str) -> int:
    """A percentage from the form ("1.1") → basis points; -1 when not a number with ≤ 2 decimals."""
    try:
        v = Decimal(raw.strip().rstrip("%")) * 100
    except InvalidOperation:
        return -1
    return int(v) if v.is_finite() and v == v.to_integral_value() else -1


FORM_DEFAULTS = {
    "name": "",
    "event_date": "",
    "reachable": "",
    "income": "",
    "area": "",
    "brand": "",
    "response": "1.1",
    "household_size": "3",
    "aov": "",
}


def _inputs_from(form: dict) -> forecast.Inputs:
    try:
        aov = yuan_to_fen(form["aov"] or "x")
    except MoneyFormatError:
        aov = -1
    try:
        reachable = int(form["reachable"])
    except ValueError:
        reachable = -1
    try:
        household = int(Decimal(form["household_size"]) * 100)
    except (InvalidOperation, ValueError):
        household = 0
    return forecast.Inputs(
        reachable=reachable,
        income_share_bp=_bp(form["income"]),
        area_share_bp=_bp(form["area"]),
        brand_share_bp=_bp(form["brand"]),
        response_bp=_bp(form["response"]),
        aov_fen=aov,
        household_size_x100=household,
    )


def _y(fen: int | None):
    """Fen → yuan for the ``yuan`` template filter (None stays None)."""
    return None if fen is None else fen_to_yuan(fen)


def _yuan_of(figures: dict) -> dict:
    return {**figures, "revenue": _y(figures["revenue_fen"])}


def _in_yuan(scenarios: dict) -> dict:
    return {k: _yuan_of(v) for k, v in scenarios.items()}


@permission_required("analytics.view_eventforecast", raise_exception=True)
def forecast_page(request):
    """The calculator (calculate, or save as a forecast) and the saved forecasts."""
    form, result, error = dict(FORM_DEFAULTS), None, ""
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in FORM_DEFAULTS}
        inputs = _inputs_from(form)
        try:
            forecast.validate(inputs)
            if request.POST.get("action") == "save":
                if not request.user.has_perm("analytics.add_eventforecast"):
                    raise PermissionDenied
                f = forecast.forecast_create(
                    name=form["name"],
                    event_date=_day(form["event_date"]) or clock.today(),
                    inputs=inputs,
                    now=clock.now(),
                    actor=request.user,
                )
                messages.success(request, _("Forecast saved."))
                return redirect("analytics_forecast_detail", forecast_id=f.pk)
            result = _in_yuan(forecast.scenarios(inputs))
        except DomainError as exc:
            error = exc.message(request_lang(request))
    rows = [
        (f, _yuan_of(forecast.compute(forecast.inputs_of(f))), _y(f.actual_revenue_fen))
        for f in forecast.forecast_list()[:100]
    ]
    return TemplateResponse(
        request,
        "console/analytics/forecast.html",
        _ctx(
            request,
            _("Event forecast"),
            form=form,
            result=result,
            error=error,
            rows=rows,
            can_save=request.user.has_perm("analytics.add_eventforecast"),
        ),
        status=400 if error else 200,
    )


@permission_required("analytics.view_eventforecast", raise_exception=True)
def forecast_detail(request, forecast_id: int):
    """One forecast: inputs, scenarios, and the actuals form with the comparison."""
    try:
        f = forecast.forecast_get(forecast_id)
    except DomainError as exc:
        raise Http404 from exc
    error = ""
    if request.method == "POST":
        if not request.user.has_perm("analytics.change_eventforecast"):
            raise PermissionDenied
        try:
            values = {}
            for key in ("actual_visitors", "actual_orders"):
                raw = request.POST.get(key, "").strip()
                values[key] = int(raw) if raw else None
            raw = request.POST.get("actual_revenue", "").strip()
            values["actual_revenue_fen"] = yuan_to_fen(raw) if raw else None
            forecast.forecast_record_actuals(forecast_id=f.pk, now=clock.now(), **values)
            messages.success(request, _("Actuals recorded."))
            return redirect("analytics_forecast_detail", forecast_id=f.pk)
        except (ValueError, MoneyFormatError):
            error = _("Enter whole numbers for visitors and orders, and an amount in yuan for revenue.")
        except DomainError as exc:
            error = exc.message(request_lang(request))
    report = forecast.forecast_report(f)
    report["scenarios"] = _in_yuan(report["scenarios"])
    for row in report["comparison"]:
        if row["measure"] == "revenue_fen":
            row.update(
                forecast=_y(row["forecast"]), actual=_y(row["actual"]), difference=_y(row["difference"])
            )
    report["aov"] = _y(f.aov_fen)
    return TemplateResponse(
        request,
        "console/analytics/forecast_detail.html",
        _ctx(
            request,
            f.name,
            forecast=f,
            report=report,
            error=error,
            can_change=request.user.has_perm("analytics.change_eventforecast"),
        ),
        status=400 if error else 200,
    )
