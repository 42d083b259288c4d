"""Console pages of the basket analysis (under /admin/console/analytics/baskets/): cross-selling
rules (sortable table, xlsx export, support × confidence scatter coloured by lift), what a set of
members bought (a segment or explicit member ids), and product roles (volume × margin scatter
coloured by role, the manual role form for those allowed, compute, promotion suggestions).

Thin over ``laoke.analytics.baskets`` and ``product_roles``; the same permissions as the API
(``analytics.view_productrole`` to read, ``analytics.change_productrole`` to compute and assign).
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from laoke.analytics import baskets, product_roles
from laoke.analytics import error_codes_baskets as E
from laoke.analytics.models import Role
from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.xlsx import workbook_bytes
from laoke.segments.selectors import segment_get, segment_list, segment_queryset

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VIEW, CHANGE = "analytics.view_productrole", "analytics.change_productrole"
SORTS = ("lift", "confidence", "support", "leverage")


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _float(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw not in (None, "") else default
    except ValueError:
        return float("nan")  # refused by the parameter check with its own code


def _rule_form(request) -> dict:
    g = request.GET
    return {
        "min_support": _float(g.get("min_support"), 0.01),
        "min_lift": _float(g.get("min_lift"), 1.0),
        "min_confidence": _float(g.get("min_confidence"), 0.0),
        "level": g.get("level") or "product",
        "since": _day(g.get("since")),
        "until": _day(g.get("until")),
    }


def _rules(form: dict, *, limit: int | None) -> dict:
    start, end = baskets.period(form["since"], form["until"], now=clock.now())
    return baskets.shop_rules(
        start=start,
        end=end,
        level=form["level"],
        min_support=form["min_support"],
        min_lift=form["min_lift"],
        min_confidence=form["min_confidence"],
        limit=limit,
    )


@permission_required(VIEW, raise_exception=True)
def rules_page(request):
    form = _rule_form(request)
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "lift"
    data, error = None, ""
    try:
        data = _rules(form, limit=2_000)
        data["rules"].sort(key=lambda r: -r[sort])
    except DomainError as exc:
        error = exc.message(request_lang(request))
    rules = data["rules"] if data else []
    chart = {
        "support": [r["support"] for r in rules],
        "confidence": [r["confidence"] for r in rules],
        "lift": [r["lift"] for r in rules],
        "label": [
            f"{', '.join(r['antecedent_titles'])} → {', '.join(r['consequent_titles'])}" for r in rules
        ],
    }
    query = request.GET.copy()
    query.pop("sort", None)
    return TemplateResponse(
        request,
        "console/analytics/baskets_rules.html",
        _ctx(
            request,
            _("Cross-selling rules"),
            form=form,
            data=data,
            rules=rules[:500],
            chart=chart,
            sort=sort,
            sorts=SORTS,
            query=query.urlencode(),
            error=error,
            levels=baskets.LEVELS,
        ),
        status=400 if error else 200,
    )


@permission_required(VIEW, raise_exception=True)
def rules_xlsx(request):
    try:
        data = _rules(_rule_form(request), limit=None)
    except DomainError as exc:
        return HttpResponse(exc.message(request_lang(request)), status=exc.status, content_type="text/plain")
    response = HttpResponse(workbook_bytes(baskets.rules_sheets(data)), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="rules-{data["level"]}.xlsx"'
    return response


@permission_required(VIEW, raise_exception=True)
def purchases_page(request):
    """What a segment's members (now) or listed member ids bought in the period, against the
    other buyers."""
    g = request.GET
    form = {
        "segment_id": g.get("segment_id") or "",
        "member_ids": g.get("member_ids") or "",
        "since": _day(g.get("since")),
        "until": _day(g.get("until")),
    }
    data, error = None, ""
    if form["segment_id"] or form["member_ids"]:
        try:
            if form["segment_id"]:
                seg = segment_get(int(form["segment_id"]))
                ids = list(segment_queryset(seg.rule, now=clock.now()).values_list("pk", flat=True))
            else:
                ids = [int(x) for x in form["member_ids"].replace(" ", "").split(",") if x]
            start, end = baskets.period(form["since"], form["until"], now=clock.now())
            data = baskets.members_purchases(ids, start, end, top=30)
        except ValueError:
            error = _("Member ids must be numbers separated by commas.")
        except DomainError as exc:
            error = exc.message(request_lang(request))
    return TemplateResponse(
        request,
        "console/analytics/baskets_purchases.html",
        _ctx(
            request,
            _("What a set of members bought"),
            form=form,
            data=data,
            error=error,
            segments=segment_list().order_by("name")[:500],
        ),
        status=400 if error else 200,
    )


@permission_required(VIEW, raise_exception=True)
def roles_page(request):
    """Stored roles with a scatter, the manual form (POST action=set), compute (POST action=compute)
    and the promotion suggestions."""
    can_change = request.user.has_perm(CHANGE)
    error = ""
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "compute":
                summary = product_roles.product_roles_compute(now=clock.now(), actor=request.user)
                messages.success(
                    request,
                    _("Roles computed: %(counts)s.")
                    % {"counts": ", ".join(f"{k} {v}" for k, v in summary.items())},
                )
            else:
                kind, _sep, target = request.POST.get("target", "").partition(":")
                role = request.POST.get("role") or None
                cap = request.POST.get("discount_cap_bp", "").strip()
                if kind not in ("product", "bundle") or not target.isdigit():
                    raise DomainError(E.ANALYTICS_ROLE_TARGET_INVALID)
                if cap and not cap.isdigit():
                    raise DomainError(E.ANALYTICS_DISCOUNT_CAP_INVALID)
                product_roles.product_role_set(
                    **{f"{kind}_id": int(target)},
                    role=role,
                    discount_cap_bp=int(cap) if cap else None,
                    actor=request.user,
                    now=clock.now(),
                )
                messages.success(request, _("Role saved."))
            return redirect("analytics_roles")
        except DomainError as exc:
            error = exc.message(request_lang(request))
    rows = product_roles.product_roles_list()
    chart = [
        {
            "role": r["role"],
            "label": f"{r['code']} {r['title']}",
            "units": r["metrics"].get("units", 0),
            "margin": r["metrics"].get("margin"),
            "depth": r["metrics"].get("discount_depth"),
            "growth": r["metrics"].get("growth"),
        }
        for r in rows
    ]
    return TemplateResponse(
        request,
        "console/analytics/roles.html",
        _ctx(
            request,
            _("Product roles"),
            rows=rows,
            chart=chart,
            role_labels={k: str(v) for k, v in Role.choices},
            roles=Role.choices,
            suggestions=product_roles.promotion_suggestions(now=clock.now()),
            can_change=can_change,
            error=error,
        ),
        status=400 if error else 200,
    )
