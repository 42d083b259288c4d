"""Console pages of the channels app (content half): the message-template editor with a live SMS
character / segment / cost counter and a server-rendered preview; 客服's call list with outcome
buttons (managers: every task, assign); the direct-mail export download.

Thin over ``laoke.channels`` services and selectors; every write is one service call.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.channels import exports, selectors, services
from laoke.channels.models import MessageTemplate, StaffTask, TemplateChannel, TemplateKind
from laoke.channels.services import OUTCOMES_BY_KIND
from laoke.channels.sms_text import fen_per_segment
from laoke.channels.templating import VARIABLES, render
from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError, ValidationErrors
from laoke.members.selectors import can_see_pii, mask_mobile, member_search

FIELDS = ("name", "channel", "kind", "signature", "subject", "body", "html_body")


def _page(request, page: str, title: str, *, status: int = 200, **extra):
    context = {**admin.site.each_context(request), "title": title, **extra}
    return TemplateResponse(request, page, context, status=status)


# --- templates ------------------------------------------------------------------------------------


@permission_required("channels.view_messagetemplate", raise_exception=True)
def template_list(request):
    rows = selectors.template_list(channel=request.GET.get("channel") or None).order_by("-pk")[:500]
    return _page(
        request,
        "console/channels/template_list.html",
        _("Message templates"),
        rows=rows,
        can_add=request.user.has_perm("channels.add_messagetemplate"),
    )


def _form_of(post) -> dict:
    form = {f: post.get(f, "") for f in FIELDS}
    form["is_active"] = post.get("is_active") == "on"
    form["member"] = post.get("member", "").strip()
    return form


def _form_from(t: MessageTemplate | None) -> dict:
    if t is None:
        return {f: "" for f in FIELDS} | {
            "channel": "sms",
            "kind": "marketing",
            "is_active": True,
            "member": "",
        }
    return {f: getattr(t, f) for f in FIELDS} | {"is_active": t.is_active, "member": ""}


def _preview(request, form: dict) -> dict:
    draft = MessageTemplate(**{f: form[f] for f in FIELDS if f != "name"})
    draft.signature = draft.signature.strip()
    context = selectors.sample_context()
    who = _("sample data")
    if form["member"]:
        found = list(member_search(request.user, q=form["member"])[:2])
        if len(found) == 1:
            context = selectors.template_context(found[0], channel=draft.channel)
            who = found[0].name or found[0].code
    out = render(draft, context)
    problems = services.template_problems(
        channel=draft.channel,
        kind=draft.kind,
        body=draft.body,
        signature=draft.signature,
        subject=draft.subject,
        html_body=draft.html_body,
    )
    lang = request_lang(request)
    return {
        "who": who,
        "out": out,
        "chars": len(out.body),
        "problems": [e.message(lang) for e in problems],
    }


@require_POST
@permission_required("channels.view_messagetemplate", raise_exception=True)
def template_preview(request):
    """The editor's live preview (an htmx partial): the texts being edited, rendered for the
    member typed in the preview field or for sample data, with counts and problems."""
    preview = _preview(request, _form_of(request.POST))
    return TemplateResponse(request, "console/channels/_preview.html", {"preview": preview})


@permission_required("channels.view_messagetemplate", raise_exception=True)
def template_edit(request, template_id: int | None = None):
    template = None
    if template_id is not None:
        template = MessageTemplate.objects.filter(pk=template_id).first()
        if template is None:
            raise Http404
    need = "channels.change_messagetemplate" if template else "channels.add_messagetemplate"
    can_save = request.user.has_perm(need)
    errors: dict[str, list[str]] = {}
    preview = None
    form = _form_from(template)
    if request.method == "POST":
        form = _form_of(request.POST)
        action = request.POST.get("action", "save")
        if action == "preview":
            preview = _preview(request, form)
        else:
            if not can_save:
                raise PermissionDenied
            data = {f: form[f] for f in FIELDS} | {"is_active": form["is_active"]}
            try:
                if template is None:
                    template = services.message_template_create(**data, actor=request.user)
                else:
                    template = services.message_template_update(
                        template_id=template.pk, actor=request.user, **data
                    )
            except ValidationErrors as exc:
                for e in exc.errors:
                    errors.setdefault(e.field or "", []).append(e.message(request_lang(request)))
            except DomainError as exc:
                errors.setdefault(exc.field or "", []).append(exc.message(request_lang(request)))
            else:
                messages.success(request, _("Template saved."))
                return redirect("channels_template_edit", template_id=template.pk)
    return _page(
        request,
        "console/channels/template_edit.html",
        _("Edit message template") if template else _("New message template"),
        template=template,
        form=form,
        errors=errors,
        preview=preview,
        can_save=can_save,
        channels=TemplateChannel.choices,
        kinds=TemplateKind.choices,
        variables=[(k, str(v)) for k, v in VARIABLES.items()],
        fen_per_segment=fen_per_segment(),
        status=422 if errors else 200,
    )


# --- staff tasks ----------------------------------------------------------------------------------


def _assignable_users():
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=["service_agent", "service_manager"])
        .distinct()
        .order_by("username")
    )


@permission_required("channels.view_stafftask", raise_exception=True)
def task_list(request):
    """The call / visit / mail list: open tasks first by due time; an agent sees theirs and the
    unassigned ones, a manager all (``?mine=1`` narrows to one's own)."""
    user = request.user
    if request.method == "POST":
        _task_action(request)
        return redirect(request.get_full_path())
    state = request.GET.get("state", "open")
    kind = request.GET.get("kind") or None
    mine = request.GET.get("mine") == "1"
    qs = selectors.task_list(user, mine=mine, state=state or None, kind=kind).order_by("due_at", "pk")
    pii = can_see_pii(user)
    rows = []
    for t in qs[:200]:
        m = t.member
        rows.append(
            {
                "task": t,
                "member": m,
                "mobile": (m.mobile or "") if pii else mask_mobile(m.mobile) if m.mobile else "",
                "outcomes": [
                    (o.value, o.label) for o in StaffTask.Outcome if o.value in OUTCOMES_BY_KIND[t.kind]
                ],
                "member_url": reverse("member_360", args=[m.pk]),
            }
        )
    manager = user.has_perm("channels.assign_stafftask")
    return _page(
        request,
        "console/channels/task_list.html",
        _("Call and visit list"),
        rows=rows,
        state=state,
        kind=kind or "",
        mine=mine,
        kinds=StaffTask.Kind.choices,
        states=StaffTask.State.choices,
        manager=manager,
        can_complete=user.has_perm("channels.complete_stafftask"),
        can_export=user.has_perm("channels.export_directmail"),
        users=_assignable_users() if manager else [],
        now=clock.now(),
    )


def _task_action(request) -> None:
    user = request.user
    action = request.POST.get("action", "")
    try:
        task_id = int(request.POST.get("task_id", ""))
    except ValueError as exc:
        raise Http404 from exc
    if not selectors.task_list(user).filter(pk=task_id).exists():
        raise Http404
    lang = request_lang(request)
    try:
        if action == "complete":
            if not user.has_perm("channels.complete_stafftask"):
                raise PermissionDenied
            services.staff_task_complete(
                task_id=task_id,
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", "")[:500],
                actor=user,
            )
            messages.success(request, _("Outcome recorded."))
        elif action in ("assign", "cancel"):
            if not user.has_perm("channels.assign_stafftask"):
                raise PermissionDenied
            if action == "assign":
                raw = request.POST.get("assignee_id", "")
                services.staff_task_assign(task_id=task_id, assignee_id=int(raw) if raw else None, actor=user)
                messages.success(request, _("Task assigned."))
            else:
                services.staff_task_cancel(
                    task_id=task_id, note=request.POST.get("note", "")[:500], actor=user
                )
                messages.success(request, _("Task cancelled."))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message(lang))


@permission_required("channels.export_directmail", raise_exception=True)
def mail_export(request):
    prefix = request.GET.get("purpose_prefix", "").strip()
    try:
        data = exports.mail_export(purpose_prefix=prefix, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
        return redirect(reverse("channels_tasks") + "?kind=mail")
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="direct-mail.xlsx"'
    response["Cache-Control"] = "no-store"
    return response
