"""/api/v1/service (thin adapters over services and selectors): cases (list, detail, file, assign,
contact log, resolve, escalate, take reviews in), the care and call-case libraries, the handling
table, the escalation chain, greeting and reactivation rules. Writes accept an
``Idempotency-Key``; none moves value by itself (a greeting's gift is issued by the tick)."""

from datetime import datetime
from typing import Any

from ninja import Router, Schema, Status

from laoke.core import clock
from laoke.core.api import idempotent_write, paginate, require
from laoke.core.errors import DomainError
from laoke.core.money import fen_to_yuan

from . import error_codes as E
from . import greetings, libraries, reactivation, selectors, services
from .models import (
    CallCase,
    CareArticle,
    EscalationStep,
    GreetingRule,
    HandlingRule,
    ReactivationRule,
    ServiceCase,
)

router = Router(tags=["service"])
M_READ, M_WRITE = "members:read", "members:write"
C_READ, C_WRITE = "campaigns:read", "campaigns:write"


class CaseIn(Schema):
    member_id: int
    level: str
    text: str = ""
    source: str = "staff"
    order_id: int | None = None


class AssignIn(Schema):
    assignee_id: int


class ContactIn(Schema):
    outcome: str
    note: str = ""
    method: str | None = None


class ResolveIn(Schema):
    outcome: str
    close: bool = False


class EscalateIn(Schema):
    reason: str = ""


class HandlingIn(Schema):
    method: str
    due_hours: int


class CareIn(Schema):
    category: str
    title: str
    body: str
    tags: list[str] = []
    is_active: bool = True


class CategoryIn(Schema):
    name: str
    parent_id: int | None = None


class CallCaseIn(Schema):
    category_id: int
    question: str
    answer: str
    tags: list[str] = []


class PrivilegeIn(Schema):
    name: str = ""
    min_points: int
    coupon_template_id: int


class GreetingIn(Schema):
    name: str
    kind: str
    template_id: int
    month_day: str = ""
    dates: dict[str, str] = {}
    days_before: int = 0
    is_active: bool = True
    privileges: list[PrivilegeIn] | None = None


class ReactivationIn(Schema):
    name: str
    kind: str
    template_id: int
    idle_days: int = 30
    balance_below_fen: int | None = None
    offer_id: int | None = None
    holdout_bp: int = 1000


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _case_out(c: ServiceCase, *, contacts: bool = False) -> dict[str, Any]:
    out = {
        "id": c.pk,
        "member_id": c.member_id,
        "member_code": c.member.code,
        "order_id": c.order_id,
        "review_id": c.review_id,
        "source": c.source,
        "level": c.level,
        "text": c.text,
        "method": c.method,
        "state": c.state,
        "assignee_id": c.assignee_id,
        "assignee": c.assignee.get_username() if c.assignee_id else None,
        "escalation_level": c.escalation_level,
        "due_at": _iso(c.due_at),
        "overdue": bool(c.due_at and c.state in services.OPEN_STATES and c.due_at <= clock.now()),
        "outcome": c.outcome,
        "created_at": _iso(c.created_at),
        "resolved_at": _iso(c.resolved_at),
    }
    if contacts:
        out["contacts"] = [
            {
                "at": _iso(x.at),
                "by": x.by.get_username() if x.by_id else None,
                "method": x.method,
                "outcome": x.outcome,
                "note": x.note,
            }
            for x in c.contacts.select_related("by")
        ]
    return out


def _case(request, case_id: int) -> ServiceCase:
    case = selectors.case_get(request.user, case_id)
    if case is None:
        raise DomainError(E.CASE_NOT_FOUND, field="case_id")
    return case


def _write(request, scope: str, payload: Any, call, render):
    return idempotent_write(request, scope=f"service.{scope}", payload=payload, call=call, render=render)


# --- cases ---------------------------------------------------------------------------------------


@router.get("/cases")
@require("service.view_servicecase", M_READ)
def case_list(
    request, state: str = "", level: str = "", mine: bool = False, cursor: str | None = None, limit: int = 50
):
    """The cases the caller may see, newest first (``state=open``: open and in progress)."""
    qs = selectors.cases_visible(request.user)
    if mine:
        qs = qs.filter(assignee=request.user)
    if state == "open":
        qs = qs.filter(state__in=services.OPEN_STATES)
    elif state:
        qs = qs.filter(state=state)
    if level:
        qs = qs.filter(level=level)
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_case_out(c) for c in rows], "next_cursor": next_cursor}


@router.post("/cases", response={201: dict})
@require("service.add_servicecase", M_WRITE)
def case_create(request, payload: CaseIn):
    """File a case (phone, H5, staff): handled, assigned and due by its level."""
    data = payload.dict()

    def call(idem):
        return services.case_file(**data, actor=request.user, idem=idem)

    return _write(request, "case.file", data, call, lambda c: (201, _case_out(c)))


@router.post("/cases/from-reviews")
@require("service.assign_servicecase", M_WRITE)
def case_from_reviews(request):
    """Take the order reviews that have no case yet into the list now (the tick does it too)."""
    return {"created": services.cases_from_reviews()}


@router.get("/cases/{int:case_id}")
@require("service.view_servicecase", M_READ)
def case_detail(request, case_id: int):
    return _case_out(_case(request, case_id), contacts=True)


@router.post("/cases/{int:case_id}/assign")
@require("service.assign_servicecase", M_WRITE)
def case_assign(request, case_id: int, payload: AssignIn):
    _case(request, case_id)
    data = {"case_id": case_id, **payload.dict()}

    def call(idem):
        return services.case_assign(**data, actor=request.user, idem=idem)

    return _write(request, "case.assign", data, call, lambda c: (200, _case_out(c)))


@router.post("/cases/{int:case_id}/contact", response={201: dict})
@require("service.handle_servicecase", M_WRITE)
def case_contact(request, case_id: int, payload: ContactIn):
    """Log a call, visit or text reply and its result."""
    _case(request, case_id)
    data = {"case_id": case_id, **payload.dict()}

    def call(idem):
        return services.case_contact(**data, actor=request.user, idem=idem)

    return _write(
        request,
        "case.contact",
        data,
        call,
        lambda x: (201, _case_out(_case(request, case_id), contacts=True)),
    )


@router.post("/cases/{int:case_id}/resolve")
@require("service.handle_servicecase", M_WRITE)
def case_resolve(request, case_id: int, payload: ResolveIn):
    """Resolved with its outcome (``close``: closed, nothing more to do)."""
    _case(request, case_id)
    data = {"case_id": case_id, **payload.dict()}

    def call(idem):
        return services.case_resolve(**data, actor=request.user, idem=idem)

    return _write(request, "case.resolve", data, call, lambda c: (200, _case_out(c)))


@router.post("/cases/{int:case_id}/escalate")
@require("service.handle_servicecase", M_WRITE)
def case_escalate(request, case_id: int, payload: EscalateIn):
    """One level up the chain now."""
    _case(request, case_id)
    data = {"case_id": case_id, **payload.dict()}

    def call(idem):
        return services.case_escalate(**data, actor=request.user, idem=idem)

    return _write(request, "case.escalate", data, call, lambda c: (200, _case_out(c)))


# --- handling table and chain --------------------------------------------------------------------


@router.get("/handling-rules")
@require("service.view_handlingrule", C_READ)
def handling_rules(request):
    return [
        {"level": r.level, "method": r.method, "due_hours": r.due_hours}
        for r in HandlingRule.objects.order_by("pk")
    ]


@router.put("/handling-rules/{level}")
@require("service.change_handlingrule", C_WRITE)
def handling_rule_set(request, level: str, payload: HandlingIn):
    r = services.handling_rule_set(level=level, **payload.dict(), actor=request.user)
    return {"level": r.level, "method": r.method, "due_hours": r.due_hours}


@router.get("/escalation-steps")
@require("service.view_escalationstep", C_READ)
def escalation_steps(request):
    return [
        {"level": s.level, "name": s.name, "role": s.role, "hours": s.hours}
        for s in EscalationStep.objects.order_by("level")
    ]


# --- libraries -----------------------------------------------------------------------------------


def _care_out(a: CareArticle) -> dict[str, Any]:
    return {
        "id": a.pk,
        "category": a.category,
        "title": a.title,
        "body": a.body,
        "tags": a.tags,
        "is_active": a.is_active,
    }


def _call_out(c: CallCase) -> dict[str, Any]:
    return {
        "id": c.pk,
        "category_id": c.category_id,
        "category": f"{c.category.parent.name} / {c.category.name}"
        if c.category.parent_id
        else c.category.name,
        "question": c.question,
        "answer": c.answer,
        "tags": c.tags,
    }


@router.get("/care-articles")
@require("service.view_carearticle", M_READ)
def care_list(request, q: str = "", category: str = ""):
    return [_care_out(a) for a in libraries.care_articles(q=q, category=category)[:200]]


@router.post("/care-articles", response={201: dict})
@require("service.add_carearticle", M_WRITE)
def care_create(request, payload: CareIn):
    data = payload.dict()

    def call(idem):
        return libraries.care_article_save(**data, actor=request.user, idem=idem)

    return _write(request, "care.create", data, call, lambda a: (201, _care_out(a)))


@router.get("/case-categories")
@require("service.view_casecategory", M_READ)
def categories(request):
    return libraries.category_tree()


@router.post("/case-categories", response={201: dict})
@require("service.add_casecategory", M_WRITE)
def category_create(request, payload: CategoryIn):
    data = payload.dict()

    def call(idem):
        return libraries.case_category_create(**data, actor=request.user, idem=idem)

    return _write(
        request,
        "category.create",
        data,
        call,
        lambda c: (201, {"id": c.pk, "name": c.name, "parent_id": c.parent_id}),
    )


@router.get("/call-cases")
@require("service.view_callcase", M_READ)
def call_cases(request, q: str = "", category_id: int | None = None):
    return [_call_out(c) for c in libraries.call_cases(q=q, category_id=category_id)[:200]]


@router.post("/call-cases", response={201: dict})
@require("service.add_callcase", M_WRITE)
def call_case_create(request, payload: CallCaseIn):
    data = payload.dict()

    def call(idem):
        return libraries.call_case_create(**data, actor=request.user, idem=idem)

    return _write(
        request,
        "callcase.create",
        data,
        call,
        lambda c: (201, _call_out(CallCase.objects.select_related("category__parent").get(pk=c.pk))),
    )


# --- greeting and reactivation rules -------------------------------------------------------------


def _greeting_out(r: GreetingRule) -> dict[str, Any]:
    return {
        "id": r.pk,
        "name": r.name,
        "kind": r.kind,
        "month_day": r.month_day,
        "dates": r.dates,
        "days_before": r.days_before,
        "template_id": r.template_id,
        "is_active": r.is_active,
        "privileges": [
            {"name": p.name, "min_points": p.min_points, "coupon_template_id": p.coupon_template_id}
            for p in r.privileges.all()
        ],
    }


def _reactivation_out(r: ReactivationRule) -> dict[str, Any]:
    return {
        "id": r.pk,
        "name": r.name,
        "kind": r.kind,
        "idle_days": r.idle_days,
        "balance_below_yuan": str(fen_to_yuan(r.balance_below_fen))
        if r.balance_below_fen is not None
        else None,
        "template_id": r.template_id,
        "offer_id": r.offer_id,
        "holdout_bp": r.holdout_bp,
        "is_active": r.is_active,
        "approved_at": _iso(r.approved_at),
        "covered_until": _iso(r.covered_until),
    }


@router.get("/greeting-rules")
@require("service.view_greetingrule", C_READ)
def greeting_list(request):
    return [_greeting_out(r) for r in GreetingRule.objects.prefetch_related("privileges")]


@router.post("/greeting-rules", response={201: dict})
@require("service.add_greetingrule", C_WRITE)
def greeting_create(request, payload: GreetingIn):
    data = payload.dict()
    if data["privileges"] is not None:
        data["privileges"] = [dict(p) for p in data["privileges"]]
    return Status(201, _greeting_out(greetings.greeting_rule_save(**data, actor=request.user)))


@router.get("/reactivation-rules")
@require("service.view_reactivationrule", C_READ)
def reactivation_list(request):
    return [_reactivation_out(r) for r in ReactivationRule.objects.all()]


@router.post("/reactivation-rules", response={201: dict})
@require("service.add_reactivationrule", C_WRITE)
def reactivation_create(request, payload: ReactivationIn):
    """A new rule; it runs once someone of another department approved it."""
    return Status(
        201, _reactivation_out(reactivation.reactivation_rule_save(**payload.dict(), actor=request.user))
    )


@router.post("/reactivation-rules/{int:rule_id}/approve")
@require("service.approve_reactivationrule", C_WRITE)
def reactivation_approve(request, rule_id: int):
    return _reactivation_out(reactivation.reactivation_rule_approve(rule_id=rule_id, actor=request.user))
