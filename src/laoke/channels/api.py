"""/api/v1/channels: message templates (CRUD + preview), staff tasks (work list, complete, assign,
cancel), the direct-mail export. Thin over services and selectors.

Scopes: templates and tasks read with ``members:read`` and write with ``members:write`` (a task
is work on a member; a template is what members receive); the direct-mail export needs
``members:pii`` (names, mobiles and addresses leave the system).
"""

from datetime import datetime

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from laoke.core.api import paginate, require
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.members.selectors import can_see_pii, mask_mobile, member_visible_queryset

from . import exports, selectors, services
from .models import MessageTemplate, StaffTask, TemplateChannel, TemplateKind
from .templating import render

router = Router(tags=["channels"])

READ, WRITE = "members:read", "members:write"


class TemplateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    channel: TemplateChannel
    kind: TemplateKind
    signature: str = Field("", max_length=40)
    subject: str = Field("", max_length=200)
    body: str = Field(..., min_length=1, max_length=200_000)
    html_body: str = Field("", max_length=500_000)
    is_active: bool = True


class TemplatePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    channel: TemplateChannel | None = None
    kind: TemplateKind | None = None
    signature: str | None = Field(None, max_length=40)
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=200_000)
    html_body: str | None = Field(None, max_length=500_000)
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str
    channel: str
    kind: str
    signature: str
    subject: str
    body: str
    html_body: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class TemplatePage(Schema):
    items: list[TemplateOut]
    next_cursor: str | None


def _template(template_id: int) -> MessageTemplate:
    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise DomainError(NOT_FOUND, field="template_id")
    return template


@router.get("/templates", response=TemplatePage, summary="Message templates, newest first")
@require("channels.view_messagetemplate", READ)
def template_list(
    request,
    channel: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    rows, next_cursor = paginate(
        selectors.template_list(channel=channel, active=active), cursor=cursor, limit=limit
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/templates", response={201: TemplateOut}, summary="Create a message template (validated)")
@require("channels.add_messagetemplate", WRITE)
def template_create(request, payload: TemplateIn):
    return Status(201, services.message_template_create(**payload.dict(), actor=request.user))


class PreviewIn(Schema):
    """Either a saved template (``template_id``) or the texts being edited; a member to render
    for (their real name, tier, balance, points) or the sample context; ``extra`` values (coupon,
    campaign name) are merged over it."""

    template_id: int | None = None
    channel: TemplateChannel = TemplateChannel.SMS
    kind: TemplateKind = TemplateKind.MARKETING
    signature: str = Field("", max_length=40)
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=200_000)
    html_body: str = Field("", max_length=500_000)
    member_id: int | None = None
    extra: dict[str, str] = {}


class ProblemOut(Schema):
    field: str | None
    code: str
    message: str


class PreviewOut(Schema):
    subject: str
    body: str
    html_body: str
    chars: int
    segments: int
    cost_fen: int
    problems: list[ProblemOut]


@router.post(
    "/templates/preview", response=PreviewOut, summary="Render a template for a member or sample data"
)
@require("channels.change_messagetemplate", WRITE)
def template_preview(request, payload: PreviewIn):
    from laoke.core.api import lang_of

    if payload.template_id is not None:
        source = _template(payload.template_id)
    else:
        source = MessageTemplate(
            channel=payload.channel,
            kind=payload.kind,
            signature=payload.signature.strip(),
            subject=payload.subject,
            body=payload.body,
            html_body=payload.html_body,
        )
    problems = services.template_problems(
        channel=source.channel,
        kind=source.kind,
        body=source.body,
        signature=source.signature,
        subject=source.subject,
        html_body=source.html_body,
    )
    if payload.member_id is not None:
        member = get_object_or_404(member_visible_queryset(request.user), pk=payload.member_id)
        context = selectors.template_context(member, extra=payload.extra, channel=source.channel)
    else:
        context = {**selectors.sample_context(), **payload.extra}
    out = render(source, context)
    lang = lang_of(request)
    return {
        "subject": out.subject,
        "body": out.body,
        "html_body": out.html_body,
        "chars": len(out.body),
        "segments": out.segments,
        "cost_fen": out.cost_fen,
        "problems": [{"field": e.field, "code": e.code, "message": e.message(lang)} for e in problems],
    }


@router.get("/templates/{int:template_id}", response=TemplateOut, summary="A message template")
@require("channels.view_messagetemplate", READ)
def template_get(request, template_id: int):
    return _template(template_id)


@router.patch("/templates/{int:template_id}", response=TemplateOut, summary="Change a message template")
@require("channels.change_messagetemplate", WRITE)
def template_update(request, template_id: int, payload: TemplatePatch):
    _template(template_id)
    return services.message_template_update(
        template_id=template_id, actor=request.user, **payload.dict(exclude_unset=True)
    )


@router.delete("/templates/{int:template_id}", response={204: None}, summary="Delete an unused template")
@require("channels.delete_messagetemplate", WRITE)
def template_delete(request, template_id: int):
    services.message_template_delete(template_id=template_id, actor=request.user)
    return Status(204, None)


# --- staff tasks ----------------------------------------------------------------------------------


class TaskOut(Schema):
    id: int
    kind: str
    purpose: str
    member_id: int
    member_code: str
    member_name: str
    mobile: str
    body: str
    channel_code: str
    assignee_id: int | None
    assignee: str
    due_at: datetime | None
    state: str
    outcome: str
    note: str
    created_at: datetime
    done_at: datetime | None


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


def _task_dict(task: StaffTask, *, pii: bool) -> dict:
    m = task.member
    return {
        "id": task.pk,
        "kind": task.kind,
        "purpose": task.purpose,
        "member_id": m.pk,
        "member_code": m.code,
        "member_name": m.name,
        "mobile": (m.mobile or "") if pii else mask_mobile(m.mobile) if m.mobile else "",
        "body": task.body,
        "channel_code": task.channel_code,
        "assignee_id": task.assignee_id,
        "assignee": task.assignee.get_username() if task.assignee_id else "",
        "due_at": task.due_at,
        "state": task.state,
        "outcome": task.outcome,
        "note": task.note,
        "created_at": task.created_at,
        "done_at": task.done_at,
    }


def _visible_task(request, task_id: int) -> StaffTask:
    task = selectors.task_list(request.user).filter(pk=task_id).first()
    if task is None:
        raise DomainError(NOT_FOUND, field="task_id")
    return task


@router.get("/tasks", response=TaskPage, summary="Staff tasks (call / visit / mail) this user may see")
@require("channels.view_stafftask", READ)
def task_list(
    request,
    mine: bool = False,
    state: StaffTask.State | None = None,
    kind: StaffTask.Kind | None = None,
    purpose_prefix: str = "",
    cursor: str | None = None,
    limit: int | None = None,
):
    qs = selectors.task_list(request.user, mine=mine, state=state, kind=kind, purpose_prefix=purpose_prefix)
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    pii = can_see_pii(request.user)
    return {"items": [_task_dict(t, pii=pii) for t in rows], "next_cursor": next_cursor}


class CompleteIn(Schema):
    outcome: StaffTask.Outcome
    note: str = Field("", max_length=500)


@router.post("/tasks/{int:task_id}/complete", response=TaskOut, summary="Record a task's outcome")
@require("channels.complete_stafftask", WRITE)
def task_complete(request, task_id: int, payload: CompleteIn):
    _visible_task(request, task_id)
    task = services.staff_task_complete(
        task_id=task_id, outcome=payload.outcome, note=payload.note, actor=request.user
    )
    return _task_dict(_visible_task(request, task.pk), pii=can_see_pii(request.user))


class AssignIn(Schema):
    assignee_id: int | None


@router.post(
    "/tasks/{int:task_id}/assign", response=TaskOut, summary="Assign a task (null: back to the pool)"
)
@require("channels.assign_stafftask", WRITE)
def task_assign(request, task_id: int, payload: AssignIn):
    _visible_task(request, task_id)
    services.staff_task_assign(task_id=task_id, assignee_id=payload.assignee_id, actor=request.user)
    return _task_dict(_visible_task(request, task_id), pii=can_see_pii(request.user))


class CancelIn(Schema):
    note: str = Field("", max_length=500)


@router.post("/tasks/{int:task_id}/cancel", response=TaskOut, summary="Cancel an open task")
@require("channels.assign_stafftask", WRITE)
def task_cancel(request, task_id: int, payload: CancelIn):
    _visible_task(request, task_id)
    services.staff_task_cancel(task_id=task_id, note=payload.note, actor=request.user)
    return _task_dict(_visible_task(request, task_id), pii=can_see_pii(request.user))


@router.get("/mail-export", summary="Direct-mail list (xlsx): name, mobile, full address, channel code")
@require("channels.export_directmail", "members:pii")
def mail_export(request, purpose_prefix: str = "", task_ids: str = ""):
    try:
        ids = [int(x) for x in task_ids.split(",") if x.strip()]
    except ValueError as exc:
        raise DomainError(exports.EXPORT_EMPTY_SELECTION, field="task_ids") from exc
    data = exports.mail_export(purpose_prefix=purpose_prefix, task_ids=ids or None, actor=request.user)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="direct-mail.xlsx"'
    response["Cache-Control"] = "no-store"
    return response
