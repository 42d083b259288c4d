"""Console pages of staff work (/admin/console/staff/), thin over ``laoke.staff``:

- ``staff_index`` — my day: the quota vs the day's logs with progress bars, the plan, due and
  overdue visit cadences, due follow-ups; a manager picks one of their reps.
- ``staff_log`` — the work-log entry form (工作日志).
- ``staff_prospects`` — prospects (意向客户): register a walk-in, the list, the week's pending list,
  deal / lost with a reason, and the month's report.
- ``staff_assessment`` — the month of every visible rep with a chart, file / sign off, xlsx.

The same permissions as the API; the object rule is the selectors' (a rep sees only their own).
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.staff import selectors, services
from laoke.staff.models import Account, LogKind, LostReason, Prospect

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VIEW_LOG, ADD_LOG = "staff.view_worklog", "staff.add_worklog"
VIEW_PROSPECT, ADD_PROSPECT, CHANGE_PROSPECT = (
    "staff.view_prospect",
    "staff.add_prospect",
    "staff.change_prospect",
)
VIEW_ASSESSMENT, ADD_ASSESSMENT, SIGN = (
    "staff.view_assessment",
    "staff.add_assessment",
    "staff.sign_assessment",
)


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _error(request, exc: DomainError) -> None:
    messages.error(request, exc.message(request_lang(request)))


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _rep(request):
    """The rep the page is about: ``?rep=`` for a manager, else the user; a rep not visible is
    refused as in the API."""
    return selectors.rep_for(request.user, _int(request.GET.get("rep")))


@permission_required(VIEW_LOG, raise_exception=True)
def staff_index(request):
    try:
        rep = _rep(request)
    except DomainError as exc:
        _error(request, exc)
        return redirect(reverse("staff_index"))
    s = selectors.day_summary(rep, _day(request.GET.get("day")))
    labels = dict(LogKind.choices)
    bars = [
        {"kind": k, "label": labels[k], **v, "width": min(100, v["pct"])}
        for k, v in s["completion"]["kinds"].items()
    ]
    reps = list(selectors.visible_reps(request.user)) if request.user.has_perm(selectors.VIEW_TEAM) else []
    rule_labels = {
        "own_customer": _("Own customer: 2 visits a month"),
        "big_customer": _("Big customer: 2 visits a quarter by the branch head"),
        "key_lead": _("Key lead: 3 visits a week"),
    }
    cadence = [{**r, "rule_label": rule_labels[r["rule"]]} for r in s["cadence"]]
    return TemplateResponse(
        request,
        "console/staff/index.html",
        _ctx(
            request,
            _("My day"),
            s=s,
            bars=bars,
            cadence=cadence,
            reps=reps,
            rep=rep,
            can_log=request.user.has_perm(ADD_LOG) and rep.pk == request.user.pk,
        ),
    )


@permission_required(ADD_LOG, raise_exception=True)
def staff_log(request):
    accounts = Account.objects.filter(rep=request.user, active=True).order_by("name")
    if request.user.has_perm(selectors.VIEW_TEAM):
        accounts = (accounts | selectors._head_accounts(request.user)).distinct().order_by("name")
    prospects = Prospect.objects.filter(rep=request.user, status=Prospect.Status.OPEN).order_by("name")
    if request.method == "POST":
        p = request.POST
        at = None
        if p.get("at"):
            try:
                at = datetime.fromisoformat(p["at"]).replace(tzinfo=clock.shop_tz())
            except ValueError:
                at = None
        try:
            services.work_log_add(
                actor=request.user,
                kind=p.get("kind", ""),
                at=at,
                account_id=_int(p.get("account")),
                prospect_id=_int(p.get("prospect")),
                content=p.get("content", ""),
                result=p.get("result", ""),
                next_step=p.get("next_step", ""),
                next_follow_up_on=_day(p.get("next_follow_up_on")),
                level=p.get("level") or None,
            )
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Work log saved."))
            return redirect(reverse("staff_index"))
    return TemplateResponse(
        request,
        "console/staff/log.html",
        _ctx(
            request,
            _("New work log"),
            kinds=LogKind.choices,
            levels=Prospect.Level.choices,
            accounts=accounts,
            prospects=prospects,
            now=clock.local_now().strftime("%Y-%m-%dT%H:%M"),
            selected_prospect=_int(request.GET.get("prospect")),
            selected_account=_int(request.GET.get("account")),
        ),
    )


@permission_required(VIEW_PROSPECT, raise_exception=True)
def staff_prospects(request):
    if request.method == "POST":
        if not request.user.has_perm(ADD_PROSPECT):
            return HttpResponse(status=403)
        p = request.POST
        try:
            services.prospect_register(
                actor=request.user,
                name=p.get("name", ""),
                phone=p.get("phone", ""),
                source=p.get("source", "walk_in"),
                interest=p.get("interest", ""),
                level=p.get("level", "C"),
                key=bool(p.get("key")),
            )
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Prospect registered."))
        return redirect(reverse("staff_prospects"))
    status = request.GET.get("status", "open")
    qs = selectors.prospects_visible(request.user).order_by("-pk")
    if status in Prospect.Status.values:
        qs = qs.filter(status=status)
    month = selectors.parse_month(request.GET.get("month") or None)
    return TemplateResponse(
        request,
        "console/staff/prospects.html",
        _ctx(
            request,
            _("Prospects"),
            prospects=list(qs[:200]),
            pending=list(selectors.weekly_pending(request.user)[:200]),
            report=selectors.prospect_report(request.user, month),
            status=status,
            statuses=Prospect.Status.choices,
            sources=Prospect.Source.choices,
            levels=Prospect.Level.choices,
            reasons=LostReason.choices,
            today=clock.today(),
            can_add=request.user.has_perm(ADD_PROSPECT),
            can_close=request.user.has_perm(CHANGE_PROSPECT),
        ),
    )


@require_POST
@permission_required(CHANGE_PROSPECT, raise_exception=True)
def staff_prospect_close(request, pk: int):
    p = request.POST
    try:
        if p.get("outcome") == "won" and p.get("create_member"):
            services.prospect_convert(actor=request.user, prospect_id=pk, note=p.get("note", ""))
        else:
            services.prospect_close(
                actor=request.user,
                prospect_id=pk,
                outcome=p.get("outcome", ""),
                lost_reason=p.get("lost_reason", ""),
                note=p.get("note", ""),
            )
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Prospect closed."))
    return redirect(reverse("staff_prospects"))


@permission_required(VIEW_ASSESSMENT, raise_exception=True)
def staff_assessment(request):
    try:
        month = selectors.parse_month(request.GET.get("month") or None)
    except DomainError as exc:
        _error(request, exc)
        return redirect(reverse("staff_assessment"))
    rows = selectors.assessments_for(request.user, month)
    chart = {
        "reps": [r["rep"] for r in rows],
        "series": [
            {"name": str(selectors.KIND_LABELS[k]), "values": [r["kinds"][k]["pct"] for r in rows]}
            for k in ("new_visit", "old_visit", "call")
        ],
        "overall": [r["overall_pct"] for r in rows],
        "overall_label": _("Quota completion %"),
    }
    return TemplateResponse(
        request,
        "console/staff/assessment.html",
        _ctx(
            request,
            _("Monthly assessment"),
            rows=rows,
            chart=chart,
            month=month,
            month_text=month.strftime("%Y-%m"),
            can_file=request.user.has_perm(ADD_ASSESSMENT),
            can_sign=request.user.has_perm(SIGN),
            me=request.user.pk,
        ),
    )


@require_POST
@permission_required(ADD_ASSESSMENT, raise_exception=True)
def staff_assessment_file(request):
    month = request.POST.get("month", "")
    try:
        services.assessment_file(
            actor=request.user, month=selectors.parse_month(month), rep_id=_int(request.POST.get("rep"))
        )
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Assessment filed for sign-off."))
    return redirect(reverse("staff_assessment") + f"?month={month}")


@require_POST
@permission_required(SIGN, raise_exception=True)
def staff_assessment_sign(request, pk: int):
    try:
        a = services.assessment_sign(actor=request.user, assessment_id=pk, note=request.POST.get("note", ""))
    except DomainError as exc:
        _error(request, exc)
        return redirect(reverse("staff_assessment") + f"?month={request.POST.get('month', '')}")
    messages.success(request, _("Assessment signed off."))
    return redirect(reverse("staff_assessment") + f"?month={a.month:%Y-%m}")


@permission_required(VIEW_ASSESSMENT, raise_exception=True)
def staff_assessment_xlsx(request):
    try:
        month = selectors.parse_month(request.GET.get("month") or None)
    except DomainError as exc:
        _error(request, exc)
        return redirect(reverse("staff_assessment"))
    body = selectors.assessment_xlsx(selectors.assessments_for(request.user, month), month)
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="assessment-{month:%Y-%m}.xlsx"'
    return response
