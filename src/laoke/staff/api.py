"""/api/v1/staff (thin adapters over services and selectors): quotas, a rep's day, work logs,
visit cadences, customers, plans, prospects with their pending list and monthly report, monthly
assessments with their xlsx and the manager's sign-off.

Object rule: every read and write is limited to the reps the caller may see (own work for a rep,
the branch's reps for a sales manager, everyone for the general manager and the admin); another
rep's prospect is a 404, another rep's ``rep_id`` a 403 STAFF_REP_NOT_VISIBLE. Writes accept an
``Idempotency-Key`` (none moves value)."""

from datetime import date, datetime

from django.http import HttpResponse
from ninja import Router, Schema, Status

from laoke.core.api import idempotent_write, paginate, require
from laoke.core.errors import NOT_FOUND, DomainError

from . import selectors, services
from .models import Account, Assessment, Prospect, WorkLog

router = Router(tags=["staff"])
READ, WRITE = "members:read", "members:write"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class QuotaIn(Schema):
    rep_id: int | None = None
    store_id: int | None = None
    new_visits: int
    old_visits: int
    calls: int
    working_days: str = "12345"


class LogIn(Schema):
    kind: str
    at: datetime | None = None
    account_id: int | None = None
    prospect_id: int | None = None
    content: str = ""
    result: str = ""
    next_step: str = ""
    next_follow_up_on: date | None = None
    level: str | None = None


class AccountIn(Schema):
    name: str
    rep_id: int | None = None
    size: str = "regular"
    member_id: int | None = None


class PlanItemIn(Schema):
    day: date
    kind: str
    account_id: int | None = None
    prospect_id: int | None = None
    note: str = ""


class ProspectIn(Schema):
    name: str
    phone: str = ""
    source: str = "walk_in"
    interest: str = ""
    level: str = "C"
    key: bool = False
    rep_id: int | None = None


class CloseIn(Schema):
    outcome: str
    lost_reason: str = ""
    note: str = ""
    member_id: int | None = None
    create_member: bool = False


class FileIn(Schema):
    month: str
    rep_id: int | None = None


class SignIn(Schema):
    note: str = ""


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _log_out(log: WorkLog) -> dict:
    return {
        "id": log.pk,
        "rep_id": log.rep_id,
        "at": log.at.isoformat(),
        "kind": log.kind,
        "account_id": log.account_id,
        "prospect_id": log.prospect_id,
        "by_head": log.by_head,
        "content": log.content,
        "result": log.result,
        "next_step": log.next_step,
    }


def _prospect_out(p: Prospect) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "phone": p.phone,
        "source": p.source,
        "interest": p.interest,
        "level": p.level,
        "key": p.key,
        "rep_id": p.rep_id,
        "status": p.status,
        "registered_at": p.registered_at.isoformat(),
        "next_follow_up_on": _iso(p.next_follow_up_on),
        "follow_ups": p.follow_ups,
        "last_follow_up_at": _iso(p.last_follow_up_at),
        "closed_at": _iso(p.closed_at),
        "lost_reason": p.lost_reason,
        "member_id": p.member_id,
    }


def _account_out(a: Account) -> dict:
    return {"id": a.pk, "name": a.name, "size": a.size, "rep_id": a.rep_id, "member_id": a.member_id}


def _cadence_out(row: dict) -> dict:
    return {
        "rule": row["rule"],
        "account_id": row["account"].pk if row["account"] else None,
        "prospect_id": row["prospect"].pk if row["prospect"] else None,
        "name": row["name"],
        "state": row["state"],
        "done": row["done"],
        "times": row["times"],
        "due_by": row["due_by"].isoformat(),
    }


def _assessment_out(a: Assessment) -> dict:
    return {
        "id": a.pk,
        "rep_id": a.rep_id,
        "month": a.month.strftime("%Y-%m"),
        "state": a.state,
        "figures": a.figures,
        "filed_by": a.requested_by_id,
        "signed_by": a.signed_by_id,
        "signed_at": _iso(a.signed_at),
    }


def _write(request, scope: str, payload, call, render):
    return idempotent_write(request, scope=scope, payload=payload, call=call, render=render)


@router.get("/quota")
@require("staff.view_quotaplan", READ)
def quota(request, rep_id: int | None = None):
    """The daily quota that applies to a rep (S0 preset: 2 new visits, 3 old visits, 4 calls)."""
    return selectors.quota_for(selectors.rep_for(request.user, rep_id))


@router.put("/quota")
@require("staff.change_quotaplan", WRITE)
def quota_set(request, data: QuotaIn):
    """Set the quota of a rep, a store, or everyone (neither given)."""
    plan = services.quota_plan_set(actor=request.user, **data.dict())
    return {
        "scope": plan.scope,
        "new_visit": plan.new_visits,
        "old_visit": plan.old_visits,
        "call": plan.calls,
    }


@router.get("/day")
@require("staff.view_worklog", READ)
def day(request, rep_id: int | None = None, day: date | None = None):
    """A rep's day: quota vs logs per kind, follow-ups done, the plan, due cadences, due follow-ups."""
    s = selectors.day_summary(selectors.rep_for(request.user, rep_id), day)
    return {
        "rep_id": s["rep"].pk,
        "day": s["day"].isoformat(),
        "working_day": s["working_day"],
        "quota": s["quota"],
        "completion": s["completion"],
        "done": s["done"],
        "follow_ups": s["follow_ups"],
        "plan": [
            {
                "id": i["item"].pk,
                "kind": i["item"].kind,
                "account_id": i["item"].account_id,
                "prospect_id": i["item"].prospect_id,
                "origin": i["item"].origin,
                "note": i["item"].note,
                "done": i["done"],
            }
            for i in s["plan"]
        ],
        "cadence": [_cadence_out(r) for r in s["cadence"]],
        "pending": [_prospect_out(p) for p in s["pending"]],
    }


@router.get("/logs")
@require("staff.view_worklog", READ)
def logs(
    request,
    rep_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    qs = selectors.logs_visible(request.user)
    if rep_id:
        qs = qs.filter(rep=selectors.rep_for(request.user, rep_id))
    if date_from:
        qs = qs.filter(at__gte=selectors.local_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=selectors.day_range(date_to, date_to)[1])
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_log_out(r) for r in rows], "next_cursor": next_cursor}


@router.post("/logs", response={201: dict})
@require("staff.add_worklog", WRITE)
def log_add(request, data: LogIn):
    """Log a visit, call or other work (工作日志); about a prospect it is a follow-up."""
    return _write(
        request,
        "staff.log",
        data.model_dump(mode="json"),
        lambda idem: services.work_log_add(actor=request.user, idem=idem, **data.dict()),
        lambda log: (201, _log_out(log)),
    )


@router.get("/cadence")
@require("staff.view_worklog", READ)
def cadence(request, rep_id: int | None = None):
    """The visit cadences a rep keeps (own customers 2×/month, key leads 3×/week, big customers
    2×/quarter for a branch head), overdue first."""
    return [_cadence_out(r) for r in selectors.cadence_list(selectors.rep_for(request.user, rep_id))]


@router.get("/accounts")
@require("staff.view_account", READ)
def accounts(request, rep_id: int | None = None):
    qs = Account.objects.filter(rep_id__in=selectors.visible_rep_ids(request.user), active=True)
    if rep_id:
        qs = qs.filter(rep=selectors.rep_for(request.user, rep_id))
    return [_account_out(a) for a in qs.order_by("name", "pk")[:500]]


@router.post("/accounts", response={201: dict})
@require("staff.add_account", WRITE)
def account_add(request, data: AccountIn):
    account = services.account_create(actor=request.user, **data.dict())
    return Status(201, _account_out(account))


@router.post("/plans/items", response={201: dict})
@require("staff.add_dailyplan", WRITE)
def plan_item_add(request, data: PlanItemIn):
    item = services.plan_item_add(actor=request.user, **data.dict())
    return Status(201, {"id": item.pk, "day": item.plan.day.isoformat(), "kind": item.kind})


@router.get("/prospects")
@require("staff.view_prospect", READ)
def prospects(
    request, status: str = "", rep_id: int | None = None, cursor: str | None = None, limit: int | None = None
):
    qs = selectors.prospects_visible(request.user)
    if status:
        qs = qs.filter(status=status)
    if rep_id:
        qs = qs.filter(rep=selectors.rep_for(request.user, rep_id))
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_prospect_out(p) for p in rows], "next_cursor": next_cursor}


@router.post("/prospects", response={201: dict})
@require("staff.add_prospect", WRITE)
def prospect_add(request, data: ProspectIn):
    """Register a prospect (every walk-in)."""
    return _write(
        request,
        "staff.prospect",
        data.model_dump(mode="json"),
        lambda idem: services.prospect_register(actor=request.user, idem=idem, **data.dict()),
        lambda p: (201, _prospect_out(p)),
    )


@router.get("/prospects/pending")
@require("staff.view_prospect", READ)
def prospects_pending(request, day: date | None = None):
    """The week's pending list: open prospects due for a follow-up by Sunday (overdue included)."""
    return [_prospect_out(p) for p in selectors.weekly_pending(request.user, day)[:500]]


@router.get("/prospects/report")
@require("staff.view_prospect", READ)
def prospects_report(request, month: str = ""):
    """The month's registrations, deals and lost prospects by reason (战败原因)."""
    return selectors.prospect_report(request.user, selectors.parse_month(month))


@router.get("/prospects/{int:prospect_id}")
@require("staff.view_prospect", READ)
def prospect(request, prospect_id: int):
    p = selectors.prospects_visible(request.user).filter(pk=prospect_id).first()
    if p is None:
        raise DomainError(NOT_FOUND)
    return {**_prospect_out(p), "logs": [_log_out(log) for log in p.logs.order_by("-at")[:100]]}


@router.post("/prospects/{int:prospect_id}/close")
@require("staff.change_prospect", WRITE)
def prospect_close(request, prospect_id: int, data: CloseIn):
    """A deal (``create_member``: register the prospect as a member unless one has their mobile)
    or lost with a reason."""
    if data.outcome == "won" and data.create_member and not data.member_id:
        p = services.prospect_convert(actor=request.user, prospect_id=prospect_id, note=data.note)
    else:
        p = services.prospect_close(
            actor=request.user,
            prospect_id=prospect_id,
            outcome=data.outcome,
            lost_reason=data.lost_reason,
            note=data.note,
            member_id=data.member_id,
        )
    return _prospect_out(p)


@router.get("/assessments")
@require("staff.view_assessment", READ)
def assessments(request, month: str = ""):
    """Every visible rep's month: quota completion per kind, cadence, prospects, deals; with the
    filed or signed assessment if any."""
    rows = selectors.assessments_for(request.user, selectors.parse_month(month))
    return [
        {**{k: v for k, v in r.items() if k != "assessment"}, "assessment": _assessment_out(r["assessment"])}
        if r["assessment"]
        else {**r, "assessment": None}
        for r in rows
    ]


@router.get("/assessments/export")
@require("staff.view_assessment", READ)
def assessments_export(request, month: str = ""):
    m = selectors.parse_month(month)
    body = selectors.assessment_xlsx(selectors.assessments_for(request.user, m), m)
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="assessment-{m:%Y-%m}.xlsx"'
    return response


@router.post("/assessments", response={201: dict})
@require("staff.add_assessment", WRITE)
def assessment_file(request, data: FileIn):
    """File (or refresh) a rep's monthly assessment for the manager's sign-off."""
    a = services.assessment_file(
        actor=request.user, month=selectors.parse_month(data.month), rep_id=data.rep_id
    )
    return Status(201, _assessment_out(a))


@router.post("/assessments/{int:assessment_id}/sign")
@require("staff.sign_assessment", WRITE)
def assessment_sign(request, assessment_id: int, data: SignIn):
    a = services.assessment_sign(actor=request.user, assessment_id=assessment_id, note=data.note)
    return _assessment_out(a)
