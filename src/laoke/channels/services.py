"""Writes of the channels app: message templates (validated when saved) and staff tasks.

Templates: every problem is reported at once (``ValidationErrors``) with stable codes — an SMS
signature of 2–12 characters without brackets, the opt-out instruction at the end of a marketing
SMS (patterns in ``LAOKE["SMS_OPT_OUT_PATTERNS"]``), a subject for email, known variables only.

Staff tasks (SPEC 10, S3): one row per (purpose, member), so a campaign wave that is restarted
creates nobody's task twice. ``_staff_task_create`` / ``_staff_tasks_create_bulk`` run inside the
caller's transaction (campaigns materialise a wave in chunks of ≤ 2,000 tagged with a job id);
``staff_task_assign`` / ``staff_task_complete`` / ``staff_task_cancel`` are the public services,
each with an audit row. Every outcome closes the task (a "call back later" is a new task if the
campaign wants one, so each row is one contact attempt and its result).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from laoke.core import clock
from laoke.core.audit import audit_write, diff
from laoke.core.errors import NOT_FOUND, DomainError, ValidationErrors
from laoke.core.validation import check_choice, check_length, require
from laoke.members.models import Consent, Member
from laoke.members.services import member_unsubscribe
from laoke.messaging.services import _messages_cancel_pending

from . import error_codes as E
from .models import MessageTemplate, StaffTask, TemplateChannel, TemplateKind
from .sms_text import has_opt_out, signature_ok, sms_compose
from .templating import check_placeholders
from .unsubscribe import unsubscribe_token_read

CHUNK = 2_000
SMS_TEMPLATE_MAX = 1000  # the outbox refuses longer SMS (≈ 15 segments)
EDITABLE = ("name", "channel", "kind", "signature", "subject", "body", "html_body", "is_active")


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("this helper needs the caller's transaction")


# --- templates ----------------------------------------------------------------------------------


def template_problems(
    *, channel: str, kind: str, body: str, signature: str = "", subject: str = "", html_body: str = ""
) -> list[DomainError]:
    """Every problem of a template's content (empty = valid). Pure: used by the save services,
    the API preview and the console's live check."""
    errors: list[DomainError] = []
    if channel == TemplateChannel.SMS:
        if not signature_ok(signature):
            errors.append(DomainError(E.SMS_SIGNATURE_INVALID, field="signature"))
        if kind == TemplateKind.MARKETING and not has_opt_out(body):
            errors.append(DomainError(E.SMS_OPT_OUT_MISSING, field="body"))
        if len(sms_compose(signature, body)) > SMS_TEMPLATE_MAX:
            errors.append(DomainError(E.SMS_TOO_LONG, field="body", max=SMS_TEMPLATE_MAX))
    if channel == TemplateChannel.EMAIL and not (subject or "").strip():
        errors.append(DomainError(E.TEMPLATE_SUBJECT_REQUIRED, field="subject"))
    for field, text in (("subject", subject), ("body", body), ("html_body", html_body)):
        errors.extend(check_placeholders(field, text or ""))
    return errors


def _check_template(data: dict) -> None:
    require("name", data.get("name"))
    check_length("name", data["name"], 100)
    check_choice("channel", data.get("channel"), TemplateChannel.values)
    check_choice("kind", data.get("kind"), TemplateKind.values)
    require("body", data.get("body"))
    check_length("subject", data.get("subject") or "", 200)
    check_length("body", data["body"], 200_000)
    check_length("html_body", data.get("html_body") or "", 500_000)
    if data["channel"] != TemplateChannel.SMS:
        data["signature"] = ""
    errors = template_problems(
        channel=data["channel"],
        kind=data["kind"],
        body=data["body"],
        signature=data.get("signature") or "",
        subject=data.get("subject") or "",
        html_body=data.get("html_body") or "",
    )
    if errors:
        raise ValidationErrors(errors)


def _snapshot(t: MessageTemplate) -> dict:
    return {f: getattr(t, f) for f in EDITABLE}


def message_template_create(
    *,
    name: str,
    channel: str,
    kind: str,
    body: str,
    signature: str = "",
    subject: str = "",
    html_body: str = "",
    is_active: bool = True,
    actor=None,
) -> MessageTemplate:
    data = {
        "name": (name or "").strip(),
        "channel": channel,
        "kind": kind,
        "body": body,
        "signature": (signature or "").strip(),
        "subject": subject or "",
        "html_body": html_body or "",
        "is_active": bool(is_active),
    }
    _check_template(data)
    now = clock.now()
    with transaction.atomic(durable=True):
        if MessageTemplate.objects.filter(name=data["name"]).exists():
            raise ValidationErrors([DomainError(E.TEMPLATE_NAME_TAKEN, field="name")])
        try:
            with transaction.atomic():
                template = MessageTemplate.objects.create(**data, created_at=now, updated_at=now)
        except IntegrityError as exc:  # the same name saved concurrently
            raise ValidationErrors([DomainError(E.TEMPLATE_NAME_TAKEN, field="name")]) from exc
        audit_write(action="channels.template.create", obj=template, after=_snapshot(template), actor=actor)
    return template


def message_template_update(*, template_id: int, actor=None, **changes) -> MessageTemplate:
    """Change the given fields; the result is validated as a whole (changing the kind to
    marketing needs the opt-out already in the body)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError(E.FIELD_UNKNOWN, field=sorted(unknown)[0])
    with transaction.atomic(durable=True):
        template = MessageTemplate.objects.select_for_update().filter(pk=template_id).first()
        if template is None:
            raise DomainError(NOT_FOUND, field="template_id")
        before = _snapshot(template)
        data = {**before, **{k: v for k, v in changes.items() if v is not None}}
        data["name"] = (data["name"] or "").strip()
        data["signature"] = (data["signature"] or "").strip()
        _check_template(data)
        if data["name"] != before["name"] and MessageTemplate.objects.filter(name=data["name"]).exists():
            raise ValidationErrors([DomainError(E.TEMPLATE_NAME_TAKEN, field="name")])
        for field, value in data.items():
            setattr(template, field, value)
        template.updated_at = clock.now()
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError as exc:  # renamed to a name saved concurrently
            raise ValidationErrors([DomainError(E.TEMPLATE_NAME_TAKEN, field="name")]) from exc
        old, new = diff(before, _snapshot(template))
        if new:
            audit_write(action="channels.template.update", obj=template, before=old, after=new, actor=actor)
    return template


def message_template_delete(*, template_id: int, actor=None) -> None:
    """Delete an unused template; one a campaign refers to (a PROTECT foreign key) → 409, to be
    deactivated instead (the exact text a member received stays on the message row anyway)."""
    with transaction.atomic(durable=True):
        template = MessageTemplate.objects.filter(pk=template_id).first()
        if template is None:
            raise DomainError(NOT_FOUND, field="template_id")
        before = _snapshot(template)
        try:
            with transaction.atomic():
                template.delete()
        except ProtectedError as exc:
            raise DomainError(E.TEMPLATE_IN_USE, field="template_id") from exc
        audit_write(
            action="channels.template.delete",
            object_type="channels.messagetemplate",
            object_id=template_id,
            before=before,
            actor=actor,
        )


# --- staff tasks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    """One row of :func:`_staff_tasks_create_bulk`."""

    purpose: str
    member_id: int
    kind: str
    body: str = ""
    due_at: datetime | None = None
    channel_code: str = ""
    assignee_id: int | None = None
    job_id: str = ""


def _check_task(purpose: str, kind: str, channel_code: str, job_id: str) -> None:
    if not purpose or len(purpose) > 120:
        raise DomainError(E.TASK_PURPOSE_INVALID, field="purpose")
    check_choice("kind", kind, StaffTask.Kind.values)
    check_length("channel_code", channel_code, 32)
    check_length("job_id", job_id, 64)


def _staff_task_create(
    *,
    purpose: str,
    member: Member,
    kind: str,
    body: str,
    due_at: datetime | None,
    channel_code: str = "",
    assignee=None,
    job_id: str = "",
) -> StaffTask:
    """Create one task inside the caller's transaction; the same (purpose, member) again
    returns the existing task unchanged."""
    _require_atomic()
    _check_task(purpose, kind, channel_code, job_id)
    existing = StaffTask.objects.filter(purpose=purpose, member=member).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return StaffTask.objects.create(
                purpose=purpose,
                member=member,
                kind=kind,
                body=body or "",
                due_at=due_at,
                channel_code=channel_code,
                assignee=assignee,
                job_id=job_id,
                created_at=clock.now(),
            )
    except IntegrityError:  # created concurrently: that row stands
        return StaffTask.objects.get(purpose=purpose, member=member)


def _staff_tasks_create_bulk(rows: Iterable[TaskRow]) -> int:
    """Create many tasks inside the caller's transaction, ``bulk_create(ignore_conflicts=True)``
    in chunks of 2,000: rows whose (purpose, member) exists are skipped. Returns how many rows
    were offered (SQLite and PostgreSQL do not both report the inserted count; count by purpose
    afterwards when it matters)."""
    _require_atomic()
    now = clock.now()
    batch: list[StaffTask] = []
    offered = 0
    for row in rows:
        _check_task(row.purpose, row.kind, row.channel_code, row.job_id)
        batch.append(
            StaffTask(
                purpose=row.purpose,
                member_id=row.member_id,
                kind=row.kind,
                body=row.body,
                due_at=row.due_at,
                channel_code=row.channel_code,
                assignee_id=row.assignee_id,
                job_id=row.job_id,
                created_at=now,
            )
        )
        offered += 1
        if len(batch) >= CHUNK:
            StaffTask.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        StaffTask.objects.bulk_create(batch, ignore_conflicts=True)
    return offered


def _lock_task(task_id: int) -> StaffTask:
    task = StaffTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise DomainError(NOT_FOUND, field="task_id")
    return task


def _require_open(task: StaffTask) -> None:
    if task.state != StaffTask.State.OPEN:
        raise DomainError(E.TASK_NOT_OPEN, field="task_id")


def staff_task_assign(*, task_id: int, assignee_id: int | None, actor=None) -> StaffTask:
    """Give an open task to a staff user (``None`` = back to the pool)."""
    with transaction.atomic(durable=True):
        task = _lock_task(task_id)
        _require_open(task)
        if assignee_id is not None:
            user = get_user_model().objects.filter(pk=assignee_id, is_active=True, is_staff=True).first()
            if user is None:
                raise DomainError(NOT_FOUND, field="assignee_id")
        before = task.assignee_id
        task.assignee_id = assignee_id
        task.save(update_fields=["assignee"])
        audit_write(
            action="channels.task.assign",
            obj=task,
            before={"assignee_id": before},
            after={"assignee_id": assignee_id},
            actor=actor,
        )
    return task


OUTCOMES_BY_KIND = {
    StaffTask.Kind.CALL: set(StaffTask.Outcome.values) - {StaffTask.Outcome.MAILED},
    StaffTask.Kind.VISIT: set(StaffTask.Outcome.values)
    - {StaffTask.Outcome.MAILED, StaffTask.Outcome.NO_ANSWER},
    StaffTask.Kind.MAIL: {
        StaffTask.Outcome.MAILED,
        StaffTask.Outcome.WRONG_NUMBER,
        StaffTask.Outcome.REFUSED,
    },
}


def staff_task_complete(*, task_id: int, outcome: str, note: str = "", actor=None) -> StaffTask:
    """Record the outcome of an open task. A task assigned to someone else can only be closed
    by a manager (``channels.assign_stafftask``); an unassigned one becomes the actor's."""
    check_choice("outcome", outcome, StaffTask.Outcome.values)
    check_length("note", note or "", 500)
    with transaction.atomic(durable=True):
        task = _lock_task(task_id)
        _require_open(task)
        if outcome not in OUTCOMES_BY_KIND[task.kind]:
            raise DomainError(E.TASK_OUTCOME_INVALID, field="outcome", outcome=outcome)
        actor_id = getattr(actor, "pk", None)
        if (
            task.assignee_id is not None
            and task.assignee_id != actor_id
            and not (actor is not None and actor.has_perm("channels.assign_stafftask"))
        ):
            raise DomainError(E.TASK_NOT_YOURS, field="task_id")
        if task.assignee_id is None and actor_id is not None:
            task.assignee_id = actor_id
        task.state = StaffTask.State.DONE
        task.outcome = outcome
        task.note = note or ""
        task.done_at = clock.now()
        task.done_by_id = actor_id
        task.save(update_fields=["state", "outcome", "note", "done_at", "done_by", "assignee"])
        audit_write(
            action="channels.task.complete",
            obj=task,
            before={"state": StaffTask.State.OPEN},
            after={"state": task.state, "outcome": outcome},
            actor=actor,
        )
    return task


def staff_task_cancel(*, task_id: int, note: str = "", actor=None) -> StaffTask:
    check_length("note", note or "", 500)
    with transaction.atomic(durable=True):
        task = _lock_task(task_id)
        _require_open(task)
        task.state = StaffTask.State.CANCELLED
        task.note = note or ""
        task.save(update_fields=["state", "note"])
        audit_write(
            action="channels.task.cancel",
            obj=task,
            before={"state": "open"},
            after={"state": task.state},
            actor=actor,
        )
    return task


_FORGOTTEN = "member anonymised"


def staff_tasks_privacy_tick(now: datetime, *, chunk: int = CHUNK) -> int:
    """PIPL deletion reaches the work lists: open tasks of anonymised members are cancelled,
    and every task of theirs loses its script and note (the row, purpose, outcome and dates stay
    for counts). members.member_forget cannot call up into channels (layers), so this tick does
    it. Returns the number of rows scrubbed."""
    scrubbed = 0
    forgotten = (
        StaffTask.objects.filter(member__status=Member.Status.ANONYMISED)
        .exclude(state=StaffTask.State.CANCELLED, body="", note=_FORGOTTEN)
        .exclude(state=StaffTask.State.DONE, body="", note="")
    )
    while True:
        with transaction.atomic():
            ids = list(forgotten.order_by("pk").values_list("pk", flat=True)[:chunk])
            if not ids:
                return scrubbed
            StaffTask.objects.filter(pk__in=ids, state=StaffTask.State.OPEN).update(
                state=StaffTask.State.CANCELLED, note=_FORGOTTEN
            )
            StaffTask.objects.filter(pk__in=ids, state=StaffTask.State.DONE).update(note="")
            scrubbed += StaffTask.objects.filter(pk__in=ids).update(body="")
            StaffTask.objects.filter(pk__in=ids, state=StaffTask.State.CANCELLED).exclude(
                note=_FORGOTTEN
            ).update(note=_FORGOTTEN)


# --- unsubscribe links ----------------------------------------------------------------------------

# consent channel → what stops with it: outbox channel (marketing rows still waiting) and staff
# task kinds (open tasks; a campaign's calls and mail are marketing by nature)
_STOPS = {
    "sms": ("sms", ()),
    "email": ("email", ()),
    "app_push": ("webhook", ()),
    "phone": (None, (StaffTask.Kind.CALL,)),
    "direct_mail": (None, (StaffTask.Kind.MAIL,)),
}
UNSUBSCRIBE_SOURCE = "unsubscribe-link"


def unsubscribe_by_token(*, token: str, note: str = "") -> Consent:
    """A signed unsubscribe link was confirmed (page or RFC 8058 one-click): withdraw the
    consent (``members.member_unsubscribe``, which never refuses an opt-out and follows a merged
    member), then stop what is still pending on that channel — waiting marketing messages, open
    call or mail tasks — like an SMS 退订 reply does. Two transactions: a crash between them leaves
    waiting rows that the sender's consent re-check after the claim stops anyway."""
    member_id, channel = unsubscribe_token_read(token)
    consent = member_unsubscribe(member_id=member_id, channel=channel, source=UNSUBSCRIBE_SOURCE, note=note)
    outbox_channel, task_kinds = _STOPS[channel]
    with transaction.atomic(durable=True):
        if outbox_channel:
            _messages_cancel_pending(
                member_id=consent.member_id, channel=outbox_channel, reason="unsubscribed"
            )
        if task_kinds:
            StaffTask.objects.filter(
                member_id=consent.member_id, kind__in=task_kinds, state=StaffTask.State.OPEN
            ).update(state=StaffTask.State.CANCELLED, note="unsubscribed")
    return consent
