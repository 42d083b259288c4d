"""Service cases (SPEC 12, seed 003): reviews and complaints handled by level, assigned by member
type, due, escalated along the chain when overdue.

- Handling: the level picks the method and the due time from ``HandlingRule`` (presets: praise →
  online text reply 72 h, neutral → text reply 48 h, dissatisfied → phone call 24 h, criticism →
  visit 48 h).
- Assignment (level 0 of the chain): members of a group account go to a 客服经理 (the group's own
  manager when it has one), individual members to a 客服; among the active users of that role the
  one with the fewest open cases (ties: lowest id, which rotates like round-robin), preferring
  staff of the member's home store when there are any.
- Phone and visit cases put a staff task (call / visit list, channels) on the owner's list; an
  escalation puts one on the new owner's list — that is the notification — and writes an audit row.
- Reviews come in by ``cases_from_reviews`` (called by ``service_tick``): every ``OrderReview``
  without a case, once (the case's one-to-one review is unique). A COD default review (好评 written
  by the system when the member said nothing) is recorded in the same list as a closed case with
  nothing to do, unless its order had a refund: then it is a neutral case to look at.
- ``service_tick(now)`` escalates every open case past its due time one level up (branch head →
  marketing department → leadership), with a new due time of that level's hours.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from laoke.channels.services import _staff_task_create
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.core.validation import check_length
from laoke.members.models import Member
from laoke.orders.models import Order, OrderReview, Refund

from . import error_codes as E
from .models import (
    COMPLAINT_LEVELS,
    CaseContact,
    EscalationStep,
    HandlingRule,
    Level,
    Method,
    ServiceCase,
)

OPEN_STATES = (ServiceCase.State.OPEN, ServiceCase.State.IN_PROGRESS)
FILE_SOURCES = (ServiceCase.Source.PHONE, ServiceCase.Source.H5, ServiceCase.Source.STAFF)
PRESET_HANDLING = {
    Level.PRAISE: (Method.TEXT, 72),
    Level.NEUTRAL: (Method.TEXT, 48),
    Level.DISSATISFIED: (Method.PHONE, 24),
    Level.CRITICISM: (Method.VISIT, 48),
}
CHUNK = 500
# A test-only switch: escalate an overdue case without locking it first (what the lock prevents:
# two workers' ticks escalating the same case twice, each with its own audit row and notice).
_UNLOCKED_FOR_TESTS = False
DEFAULT_OUTCOME = "默认好评（货到付款，会员未评价），无需处理"


def _handling(level: str) -> tuple[str, int]:
    rule = HandlingRule.objects.filter(level=level).first()
    if rule is not None:
        return rule.method, rule.due_hours
    return PRESET_HANDLING[level]


PRESET_CHAIN = (  # seed 003; also in migration 0002 (editable rows)
    (0, "客服/客服经理", "", 24),
    (1, "分公司负责人", "sales_manager", 24),
    (2, "营销部（企划部）", "marketer", 24),
    (3, "公司领导", "general_manager", 48),
)


def _steps() -> dict[int, EscalationStep]:
    """The chain as configured; the seed preset when no row exists (an emptied table)."""
    steps = {s.level: s for s in EscalationStep.objects.order_by("level")}
    if not steps:
        steps = {
            level: EscalationStep(level=level, name=name, role=role, hours=hours)
            for level, name, role, hours in PRESET_CHAIN
        }
    return steps


def _level0_role(member: Member) -> str:
    return "service_manager" if member.group_account_id else "service_agent"


def _least_open(role: str, store_id: int | None):
    """The active user of ``role`` with the fewest open cases, preferring the member's store."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True, groups__name=role)
    if store_id is not None:
        # the member's store first, else its branch (分公司: a branch head sits at the branch)
        parent_id = Store.objects.filter(pk=store_id).values_list("parent_id", flat=True).first()
        for where in (store_id, parent_id):
            local = users.filter(staff_profile__store_id=where) if where is not None else None
            if local is not None and local.exists():
                users = local
                break
    return (
        users.annotate(n=Count("service_cases", filter=Q(service_cases__state__in=OPEN_STATES)))
        .order_by("n", "pk")
        .first()
    )


def _owner_for(member: Member, level: int, steps: dict[int, EscalationStep]):
    store_id = member.home_store_id
    if level == 0:
        role = _level0_role(member)
        group = member.group_account
        if group is not None and group.manager_id is not None:
            manager = group.manager
            if manager.is_active and manager.groups.filter(name=role).exists():
                return manager
            store_id = store_id or group.home_store_id
        return _least_open(role, store_id)
    step = steps.get(level)
    return _least_open(step.role, store_id) if step is not None and step.role else None


def _task_kind(method: str) -> str:
    return "visit" if method == Method.VISIT else "call"


def _notify(case: ServiceCase, body: str) -> None:
    """The owner's call/visit list gets the case (one task per case and chain level)."""
    if case.assignee_id is None:
        return
    _staff_task_create(
        purpose=f"service:case:{case.pk}:{case.escalation_level}",
        member=case.member,
        kind=_task_kind(case.method),
        body=body[:2000],
        due_at=case.due_at,
        assignee=case.assignee,
        job_id=f"service-case-{case.pk}",
    )


def _snap(case: ServiceCase) -> dict[str, Any]:
    return {
        "level": case.level,
        "method": case.method,
        "state": case.state,
        "assignee": case.assignee_id,
        "escalation_level": case.escalation_level,
        "due_at": case.due_at.isoformat() if case.due_at else None,
    }


def _case_create(
    *,
    member: Member,
    level: str,
    text: str,
    source: str,
    order: Order | None,
    review: OrderReview | None,
    now: datetime,
    actor,
) -> ServiceCase:
    method, hours = _handling(level)
    case = ServiceCase(
        member=member,
        order=order,
        review=review,
        source=source,
        level=level,
        text=text[:2000],
        method=method,
        store_id=member.home_store_id or (order.store_id if order is not None else None),
        created_at=now,
        updated_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if source == ServiceCase.Source.DEFAULT_REVIEW and level == Level.PRAISE:
        case.state, case.outcome, case.resolved_at = ServiceCase.State.CLOSED, DEFAULT_OUTCOME, now
        case.save()
    else:
        case.assignee = _owner_for(member, 0, {})
        case.due_at = now + timedelta(hours=hours)
        case.save()
        if method != Method.TEXT:  # a text reply is answered from the queue, not the call list
            _notify(case, f"[{case.get_level_display()}] {case.get_method_display()}: {text[:500]}")
    audit_write(action="service.case.file", obj=case, after=_snap(case), actor=actor)
    return case


def case_file(
    *,
    member_id: int,
    level: str,
    text: str = "",
    source: str = ServiceCase.Source.STAFF,
    order_id: int | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> ServiceCase:
    """File a case directly (a phone call, the member's H5 page, a staff member's note)."""
    if level not in Level.values:
        raise DomainError(E.CASE_LEVEL, field="level")
    if source not in FILE_SOURCES:
        raise DomainError(E.CASE_SOURCE, field="source")
    check_length("text", text or "", 2000)
    now = clock.now()
    with transaction.atomic(durable=True):
        member = Member.objects.filter(pk=member_id, status=Member.Status.ACTIVE).first()
        if member is None:
            raise DomainError(NOT_FOUND, field="member_id")
        order = None
        if order_id is not None:
            order = Order.objects.filter(pk=order_id).first()
            if order is None:
                raise DomainError(NOT_FOUND, field="order_id")
            if order.member_id != member.pk:
                raise DomainError(E.CASE_ORDER_MEMBER, field="order_id")
        case = _case_create(
            member=member,
            level=level,
            text=text or "",
            source=source,
            order=order,
            review=None,
            now=now,
            actor=actor,
        )
        idempotency.complete(idem, case)
    return case


def cases_from_reviews(*, now: datetime | None = None, limit: int = 20 * CHUNK) -> int:
    """Take every order review without a case into the list (idempotent: one case per review).
    Each chunk of ≤ 500 reviews is one short transaction. Returns how many cases were made."""
    now = now or clock.now()
    made = 0
    last = 0
    while made < limit:
        ids = list(
            OrderReview.objects.filter(pk__gt=last, service_case__isnull=True, order__member__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            break
        last = ids[-1]
        with transaction.atomic(durable=True):
            reviews = (
                OrderReview.objects.filter(pk__in=ids, service_case__isnull=True)
                .select_related("order__member__group_account")
                .order_by("pk")
            )
            refunded = set(
                Refund.objects.filter(order__review__pk__in=ids).values_list("order_id", flat=True)
            )
            for review in reviews:
                level = review.level
                if review.is_default and level == Level.PRAISE and review.order_id in refunded:
                    level = Level.NEUTRAL  # a default 好评 on a refunded order: have a look
                try:
                    with transaction.atomic():
                        _case_create(
                            member=review.order.member,
                            level=level,
                            text=review.text or "",
                            source=(
                                ServiceCase.Source.DEFAULT_REVIEW
                                if review.is_default
                                else ServiceCase.Source.REVIEW
                            ),
                            order=review.order,
                            review=review,
                            now=now,
                            actor=None,
                        )
                except IntegrityError:  # taken in concurrently: that case stands
                    continue
                made += 1
    return made


def _locked(case_id: int) -> ServiceCase:
    case = ServiceCase.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise DomainError(E.CASE_NOT_FOUND, field="case_id")
    return case


def _require_open(case: ServiceCase) -> None:
    if case.state not in OPEN_STATES:
        raise DomainError(E.CASE_STATE, state=case.get_state_display())


def _eligible_owner(user_id: int, steps: dict[int, EscalationStep]):
    roles = {"service_agent", "service_manager", "admin"} | {s.role for s in steps.values() if s.role}
    user = (
        get_user_model()
        .objects.filter(pk=user_id, is_active=True, is_staff=True, groups__name__in=roles)
        .first()
    )
    if user is None:
        raise DomainError(E.CASE_ASSIGNEE_INVALID, field="assignee_id")
    return user


def case_assign(
    *, case_id: int, assignee_id: int, actor=None, idem: idempotency.Claim | None = None
) -> ServiceCase:
    """Give an open case to someone else (same chain level, same due time)."""
    with transaction.atomic(durable=True):
        case = _locked(case_id)
        _require_open(case)
        before = _snap(case)
        case.assignee = _eligible_owner(assignee_id, _steps())
        case.updated_at = clock.now()
        case.save(update_fields=["assignee", "updated_at"])
        _staff_task_create(
            purpose=f"service:case:{case.pk}:{case.escalation_level}:to:{case.assignee_id}",
            member=case.member,
            kind=_task_kind(case.method),
            body=f"[{case.get_level_display()}] {case.text[:500]}",
            due_at=case.due_at,
            assignee=case.assignee,
            job_id=f"service-case-{case.pk}",
        )
        audit_write(action="service.case.assign", obj=case, before=before, after=_snap(case), actor=actor)
        idempotency.complete(idem, case)
    return case


def case_contact(
    *,
    case_id: int,
    outcome: str,
    note: str = "",
    method: str | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> CaseContact:
    """Log a contact (call, visit, text reply); the case is in progress from the first one."""
    if outcome not in CaseContact.Outcome.values:
        raise DomainError(
            FIELD_INVALID, field="outcome", details={"allowed": list(CaseContact.Outcome.values)}
        )
    check_length("note", note or "", 1000)
    if method is not None and method not in Method.values:
        raise DomainError(E.HANDLING_INVALID, field="method")
    now = clock.now()
    with transaction.atomic(durable=True):
        case = _locked(case_id)
        _require_open(case)
        contact = CaseContact.objects.create(
            case=case,
            at=now,
            by=actor if getattr(actor, "pk", None) else None,
            method=method or case.method,
            outcome=outcome,
            note=note or "",
        )
        if case.state == ServiceCase.State.OPEN:
            case.state = ServiceCase.State.IN_PROGRESS
        case.updated_at = now
        case.save(update_fields=["state", "updated_at"])
        audit_write(
            action="service.case.contact",
            obj=case,
            after={"contact": contact.pk, "outcome": outcome, "method": contact.method},
            actor=actor,
        )
        idempotency.complete(idem, contact)
    return contact


def case_resolve(
    *, case_id: int, outcome: str, close: bool = False, actor=None, idem: idempotency.Claim | None = None
) -> ServiceCase:
    """Resolved (handled, with its outcome) or closed (nothing more to do)."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise DomainError(E.CASE_OUTCOME_REQUIRED, field="outcome")
    check_length("outcome", outcome, 500)
    now = clock.now()
    with transaction.atomic(durable=True):
        case = _locked(case_id)
        _require_open(case)
        before = _snap(case)
        case.state = ServiceCase.State.CLOSED if close else ServiceCase.State.RESOLVED
        case.outcome, case.resolved_at, case.updated_at = outcome, now, now
        case.save(update_fields=["state", "outcome", "resolved_at", "updated_at"])
        audit_write(
            action="service.case.resolve",
            obj=case,
            before=before,
            after={**_snap(case), "outcome": outcome},
            actor=actor,
        )
        idempotency.complete(idem, case)
    return case


def _escalate(
    case: ServiceCase, steps: dict[int, EscalationStep], now: datetime, *, reason: str, actor
) -> bool:
    top = max(steps) if steps else 0
    if case.escalation_level >= top:
        return False
    before = _snap(case)
    level = case.escalation_level + 1
    step = steps.get(level)
    case.escalation_level = level
    case.assignee = _owner_for(case.member, level, steps) or case.assignee
    case.due_at = now + timedelta(hours=step.hours if step is not None else 24)
    case.updated_at = now
    case.save(update_fields=["escalation_level", "assignee", "due_at", "updated_at"])
    name = step.name if step is not None else str(level)
    _notify(case, f"[升级至{name}] [{case.get_level_display()}] {reason}: {case.text[:500]}")
    audit_write(
        action="service.case.escalate",
        obj=case,
        before=before,
        after={**_snap(case), "reason": reason[:200], "step": name},
        actor=actor,
    )
    return True


def case_escalate(
    *, case_id: int, reason: str = "", actor=None, idem: idempotency.Claim | None = None
) -> ServiceCase:
    """Send an open case one level up the chain at once (the owner cannot settle it)."""
    check_length("reason", reason or "", 200)
    now = clock.now()
    with transaction.atomic(durable=True):
        case = _locked(case_id)
        _require_open(case)
        if not _escalate(case, _steps(), now, reason=reason or "manual", actor=actor):
            raise DomainError(E.CASE_TOP_LEVEL)
        idempotency.complete(idem, case)
    return case


def _escalate_overdue(now: datetime) -> int:
    steps = _steps()
    top = max(steps) if steps else 0
    due = list(
        ServiceCase.objects.filter(state__in=OPEN_STATES, due_at__lte=now, escalation_level__lt=top)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:2000]
    )
    moved = 0
    for pk in due:
        with transaction.atomic(durable=True):
            cases = ServiceCase.objects.select_related("member")
            if _UNLOCKED_FOR_TESTS:  # the negative control of the race test: read, pause, write
                case = cases.get(pk=pk)
                time.sleep(0.05)
            else:
                case = cases.select_for_update(of=("self",)).get(pk=pk)
            if case.state not in OPEN_STATES or case.due_at is None or case.due_at > now:
                continue  # handled or moved meanwhile
            moved += _escalate(case, steps, now, reason="overdue", actor=None)
    return moved


def service_tick(now: datetime) -> dict[str, int]:
    """Reviews into the list, then overdue cases one level up the chain."""
    return {"from_reviews": cases_from_reviews(now=now), "escalated": _escalate_overdue(now)}


def open_complaints(member_ids) -> dict[int, str]:
    """Members with an open complaint (dissatisfied or criticism, not resolved)."""
    found = ServiceCase.objects.filter(
        member_id__in=list(member_ids), level__in=COMPLAINT_LEVELS, state__in=OPEN_STATES
    ).values_list("member_id", flat=True)
    return dict.fromkeys(found, "open complaint")


def handling_rule_set(*, level: str, method: str, due_hours: int, actor=None) -> HandlingRule:
    if level not in Level.values:
        raise DomainError(E.CASE_LEVEL, field="level")
    if method not in Method.values or not isinstance(due_hours, int) or not 1 <= due_hours <= 720:
        raise DomainError(E.HANDLING_INVALID, field="method")
    with transaction.atomic(durable=True):
        rule, _ = HandlingRule.objects.select_for_update().get_or_create(
            level=level, defaults={"method": method, "due_hours": due_hours}
        )
        before = {"method": rule.method, "due_hours": rule.due_hours}
        rule.method, rule.due_hours = method, due_hours
        rule.save()
        audit_write(
            action="service.handling.set",
            obj=rule,
            before=before,
            after={"method": method, "due_hours": due_hours},
            actor=actor,
        )
    return rule
