"""Console pages of the service desk (/admin/console/service/), thin over laoke.service:

- ``service_index``: the queue — open cases first, overdue before the rest, then by due time;
  "mine" by default for whoever has cases, a form to file a case (phone / staff);
- ``service_case``: one case with its contact log and the handling forms (log a contact, resolve
  or close with the outcome, escalate, assign);
- ``service_libraries``: care content by category and the call-case library (two-level
  categories), searchable;
- ``service_rules``: the handling table, the escalation chain, greeting and reactivation rules
  (approve a reactivation rule).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.money import fen_to_yuan
from laoke.members.models import Member
from laoke.service import libraries, selectors, services
from laoke.service.models import (
    CaseContact,
    EscalationStep,
    GreetingRule,
    HandlingRule,
    Level,
    ReactivationRule,
    ServiceCase,
)
from laoke.service.reactivation import reactivation_rule_approve

VIEW = "service.view_servicecase"
LIBRARY = "service.view_carearticle"
RULES = "service.view_handlingrule"


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _local(dt) -> str:
    return clock.to_local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _row(c: ServiceCase, now) -> dict:
    return {
        "case": c,
        "due": _local(c.due_at),
        "created": _local(c.created_at),
        "overdue": bool(c.due_at and c.state in services.OPEN_STATES and c.due_at <= now),
    }


@permission_required(VIEW, raise_exception=True)
def service_index(request):
    now = clock.now()
    mine_default = ServiceCase.objects.filter(assignee=request.user, state__in=services.OPEN_STATES).exists()
    mine = request.GET.get("mine", "1" if mine_default else "") == "1"
    state = request.GET.get("state", "open")
    level = request.GET.get("level", "")
    qs = selectors.case_queue(request.user, now=now, mine=mine, state=state, level=level)[:200]
    return TemplateResponse(
        request,
        "console/service/index.html",
        _ctx(
            request,
            _("Service queue"),
            rows=[_row(c, now) for c in qs],
            mine=mine,
            state=state,
            level=level,
            levels=Level.choices,
            states=ServiceCase.State.choices,
            can_file=request.user.has_perm("service.add_servicecase"),
        ),
    )


@require_POST
@permission_required("service.add_servicecase", raise_exception=True)
def service_case_new(request):
    code = (request.POST.get("member_code") or "").strip()
    member = Member.objects.filter(code=code).first() or Member.objects.filter(mobile=code).first()
    if member is None:
        messages.error(request, _("No member has this number or mobile."))
        return redirect("service_index")
    try:
        case = services.case_file(
            member_id=member.pk,
            level=request.POST.get("level", ""),
            text=request.POST.get("text", ""),
            source=request.POST.get("source", "phone"),
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
        return redirect("service_index")
    messages.success(request, _("Case filed."))
    return redirect("service_case", case_id=case.pk)


def _do(request, case: ServiceCase) -> None:
    action = request.POST.get("action", "")
    user = request.user
    if action == "contact" and user.has_perm("service.handle_servicecase"):
        services.case_contact(
            case_id=case.pk,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            method=request.POST.get("method") or None,
            actor=user,
        )
        messages.success(request, _("Contact logged."))
    elif action in ("resolve", "close") and user.has_perm("service.handle_servicecase"):
        services.case_resolve(
            case_id=case.pk, outcome=request.POST.get("outcome", ""), close=action == "close", actor=user
        )
        messages.success(request, _("Outcome recorded."))
    elif action == "escalate" and user.has_perm("service.handle_servicecase"):
        services.case_escalate(case_id=case.pk, reason=request.POST.get("reason", ""), actor=user)
        messages.success(request, _("Escalated."))
    elif action == "assign" and user.has_perm("service.assign_servicecase"):
        services.case_assign(
            case_id=case.pk, assignee_id=int(request.POST.get("assignee_id") or 0), actor=user
        )
        messages.success(request, _("Assigned."))
    else:
        raise PermissionDenied


@permission_required(VIEW, raise_exception=True)
def service_case(request, case_id: int):
    case = selectors.case_get(request.user, case_id)
    if case is None:
        raise Http404(case_id)
    if request.method == "POST":
        try:
            _do(request, case)
        except DomainError as exc:
            messages.error(request, exc.message(request_lang(request)))
        return redirect("service_case", case_id=case.pk)
    now = clock.now()
    steps = {s.level: s for s in EscalationStep.objects.all()}
    from django.contrib.auth import get_user_model

    owners = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=["service_agent", "service_manager"])
        .distinct()
        .order_by("username")
        if request.user.has_perm("service.assign_servicecase")
        else []
    )
    return TemplateResponse(
        request,
        "console/service/case.html",
        _ctx(
            request,
            _("Case #%(id)s") % {"id": case.pk},
            row=_row(case, now),
            case=case,
            step=steps.get(case.escalation_level),
            contacts=[(x, _local(x.at)) for x in case.contacts.select_related("by")],
            outcomes=CaseContact.Outcome.choices,
            methods=ServiceCase._meta.get_field("method").choices,
            is_open=case.state in services.OPEN_STATES,
            can_handle=request.user.has_perm("service.handle_servicecase"),
            can_assign=request.user.has_perm("service.assign_servicecase"),
            owners=owners,
        ),
    )


@permission_required(LIBRARY, raise_exception=True)
def service_libraries(request):
    q = (request.GET.get("q") or "").strip()
    category = request.GET.get("category", "")
    if request.method == "POST":
        if not request.user.has_perm("service.add_carearticle"):
            raise PermissionDenied
        try:
            libraries.care_article_save(
                category=request.POST.get("category", ""),
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                tags=request.POST.get("tags", ""),
                actor=request.user,
            )
            messages.success(request, _("Care article saved."))
        except DomainError as exc:
            messages.error(request, exc.message(request_lang(request)))
        return redirect("service_libraries")
    cat_id = int(category) if category.isdigit() else None
    return TemplateResponse(
        request,
        "console/service/libraries.html",
        _ctx(
            request,
            _("Care content and call cases"),
            q=q,
            category=category,
            articles=libraries.care_articles(q=q)[:100],
            cases=libraries.call_cases(q=q, category_id=cat_id)[:100],
            tree=libraries.category_tree(),
            can_edit=request.user.has_perm("service.add_carearticle"),
        ),
    )


@permission_required(RULES, raise_exception=True)
def service_rules(request):
    if request.method == "POST":
        if not request.user.has_perm("service.approve_reactivationrule"):
            raise PermissionDenied
        try:
            reactivation_rule_approve(rule_id=int(request.POST.get("rule_id") or 0), actor=request.user)
            messages.success(request, _("Rule approved; it runs from now on."))
        except DomainError as exc:
            messages.error(request, exc.message(request_lang(request)))
        return redirect("service_rules")
    greetings = []
    for r in GreetingRule.objects.select_related("template").prefetch_related("privileges"):
        when = r.month_day or ", ".join(f"{v}" for _y, v in sorted(r.dates.items()))
        greetings.append({"rule": r, "when": when if r.kind == GreetingRule.Kind.HOLIDAY else _("birthday")})
    reactivation = [
        {
            "rule": r,
            "threshold": fen_to_yuan(r.balance_below_fen) if r.balance_below_fen is not None else None,
        }
        for r in ReactivationRule.objects.select_related("template", "approved_by")
    ]
    return TemplateResponse(
        request,
        "console/service/rules.html",
        _ctx(
            request,
            _("Service rules"),
            handling=HandlingRule.objects.order_by("pk"),
            chain=EscalationStep.objects.order_by("level"),
            greetings=greetings,
            reactivation=reactivation,
            can_approve=request.user.has_perm("service.approve_reactivationrule"),
        ),
    )
