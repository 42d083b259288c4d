"""Writes of appreciation events (答谢会) and member forums (座谈会), seed 002.

Workflow: the planning department (营销/企划部) creates the event (programme, budget lines and the
event's lottery come with it); departments propose invitees; the list is submitted and approved by
the general manager (``core.approvals``: the submitting department cannot approve its own list);
each invitee goes through the invitation funnel (phone interview → favourable ones visited →
invitation letter → phone confirmation) and answers (RSVP, due 2 days before); on the day the
guest signs in (business card), gets one gift voucher and one lottery ticket (idempotent).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F

from laoke.catalog.models import Store
from laoke.core import clock, idempotency
from laoke.core.approvals import approval_check, roles_of
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.ledger.models import Account
from laoke.members.models import Member
from laoke.promotions.models import CouponTemplate
from laoke.promotions.services import _coupon_issue

from .error_codes import (
    EVENT_INVALID,
    EVENT_LIST_EMPTY,
    EVENT_LIST_STATE,
    FORUM_SELECTION_INVALID,
    FUNNEL_STEP_INVALID,
    INVITEE_DUPLICATE,
    INVITEE_NOT_APPROVED,
    RSVP_CLOSED,
    RSVP_INVALID,
    SIGNIN_NOT_OPEN,
)
from .models import (
    RSVP_DAYS_BEFORE,
    BudgetLine,
    DeptTask,
    Entry,
    Event,
    Invitee,
    Lottery,
    ProgrammeItem,
    StaffTarget,
    Suggestion,
)
from .services import _lottery_create, _lottery_open

L = Event.ListState
APPROVE_PERM = "events.approve_invitees"

# Seed 002 (a 2009 appreciation evening): sign-in → show → expert talk → lottery → on-site
# promotion (买几送几) → gifts. A forum (座谈会) on member day: sign-in → discussion.
PROGRAMME = {
    Event.Kind.APPRECIATION: [
        ("sign_in", "Sign-in and welcome", 30),
        ("show", "Show", 30),
        ("talk", "Expert talk", 30),
        ("lottery", "Lottery", 20),
        ("promotion", "On-site promotion", 40),
        ("gifts", "Gifts and farewell", 15),
    ],
    Event.Kind.FORUM: [("sign_in", "Sign-in", 15), ("forum", "Discussion and suggestions", 90)],
}
# Staff rewards by achievement of the sales target (basis points → fen): the highest reached pays.
REWARD_RULES_PRESET = [[10_000, 20_000], [8_000, 10_000]]
FUNNEL = ("interview", "visit", "letter", "confirm")
# Test-only hooks for the negative control of the race test: skip the invitee row lock, and
# pause after reading so concurrent sign-ins interleave every run.
_UNLOCKED_FOR_TESTS = False
_UNLOCKED_PAUSE = 0.0


def _lock_event(event_id: int) -> Event:
    try:
        return Event.objects.select_for_update().get(pk=event_id)
    except (Event.DoesNotExist, ValueError, TypeError):
        raise DomainError(NOT_FOUND) from None


def _lock_invitee(invitee_id: int) -> Invitee:
    qs = Invitee.objects.all() if _UNLOCKED_FOR_TESTS else Invitee.objects.select_for_update()
    try:
        inv = qs.select_related("event", "member").get(pk=invitee_id)
    except (Invitee.DoesNotExist, ValueError, TypeError):
        raise DomainError(NOT_FOUND) from None
    if _UNLOCKED_FOR_TESTS and _UNLOCKED_PAUSE:
        time.sleep(_UNLOCKED_PAUSE)
    return inv


def _text(value, field: str, max_len: int, *, required: bool = True) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if (required and not value) or len(value) > max_len:
        raise DomainError(EVENT_INVALID, field=field)
    return value


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def event_create(
    *,
    name: str,
    starts_at: datetime,
    venue_store: Store,
    kind: str = Event.Kind.APPRECIATION,
    rsvp_deadline: datetime | None = None,
    voucher_template: CouponTemplate | None = None,
    promotion: str = "",
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Event:
    """An event with its preset programme, the four budget lines and (for an appreciation event)
    its lottery, open for the tickets handed out at sign-in. RSVP due 2 days before (preset)."""
    name = _text(name, "name", 120)
    if kind not in Event.Kind.values:
        raise DomainError(EVENT_INVALID, field="kind")
    if not isinstance(starts_at, datetime):
        raise DomainError(EVENT_INVALID, field="starts_at")
    if not isinstance(venue_store, Store):
        raise DomainError(EVENT_INVALID, field="venue_store")
    rsvp_deadline = rsvp_deadline or starts_at - timedelta(days=RSVP_DAYS_BEFORE)
    if rsvp_deadline > starts_at:
        raise DomainError(EVENT_INVALID, field="rsvp_deadline")
    promotion = _text(promotion, "promotion", 200, required=False)
    now = clock.now()
    with transaction.atomic(durable=True):
        event = Event.objects.create(
            name=name,
            kind=kind,
            starts_at=starts_at,
            venue_store=venue_store,
            rsvp_deadline=rsvp_deadline,
            voucher_template=voucher_template,
            promotion=promotion,
            created_by=_user(actor),
            created_at=now,
        )
        ProgrammeItem.objects.bulk_create(
            [
                ProgrammeItem(event=event, position=i + 1, kind=k, title=t, minutes=m)
                for i, (k, t, m) in enumerate(PROGRAMME[kind])
            ]
        )
        BudgetLine.objects.bulk_create(
            [BudgetLine(event=event, category=c) for c in BudgetLine.Category.values]
        )
        if kind == Event.Kind.APPRECIATION:
            lottery = _lottery_create(
                name=f"{name} · 抽奖"[:120],
                kind=Lottery.Kind.EVENT,
                entry_opens_at=min(now, starts_at - timedelta(days=1)),
                entry_closes_at=starts_at + timedelta(days=1),
                store=venue_store,
                event=event,
                actor=actor,
            )
            _lottery_open(lottery, actor)
        audit_write(
            action="event.create",
            obj=event,
            after={"name": name, "kind": kind, "starts_at": starts_at.isoformat()},
            actor=actor,
        )
        idempotency.complete(idem, event)
    return event


def budget_line_set(
    *,
    event_id: int,
    category: str,
    planned_fen: int | None = None,
    actual_fen: int | None = None,
    note: str | None = None,
    actor=None,
) -> BudgetLine:
    if category not in BudgetLine.Category.values:
        raise DomainError(EVENT_INVALID, field="category")
    for field, v in (("planned_fen", planned_fen), ("actual_fen", actual_fen)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10**12):
            raise DomainError(EVENT_INVALID, field=field)
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        line, _ = BudgetLine.objects.get_or_create(event=event, category=category)
        before = {"planned_fen": line.planned_fen, "actual_fen": line.actual_fen}
        if planned_fen is not None:
            line.planned_fen = planned_fen
        if actual_fen is not None:
            line.actual_fen = actual_fen
        if note is not None:
            line.note = _text(note, "note", 200, required=False)
        line.save()
        audit_write(
            action="event.budget",
            obj=event,
            before=before,
            after={"category": category, "planned_fen": line.planned_fen, "actual_fen": line.actual_fen},
            actor=actor,
        )
    return line


def task_add(
    *, event_id: int, department: str, title: str, due_at: datetime, owner=None, actor=None
) -> DeptTask:
    department = _text(department, "department", 40)
    title = _text(title, "title", 200)
    if not isinstance(due_at, datetime):
        raise DomainError(EVENT_INVALID, field="due_at")
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        task = DeptTask.objects.create(
            event=event, department=department, title=title, owner=owner, due_at=due_at
        )
        audit_write(action="event.task_add", obj=event, after={"task": task.pk, "title": title}, actor=actor)
    return task


def task_done(*, task_id: int, actor=None) -> DeptTask:
    with transaction.atomic(durable=True):
        task = DeptTask.objects.select_for_update().filter(pk=task_id).first()
        if task is None:
            raise DomainError(NOT_FOUND)
        if task.done_at is None:
            task.done_at = clock.now()
            task.save(update_fields=["done_at"])
            audit_write(action="event.task_done", obj=task, after={"done": True}, actor=actor)
    return task


def target_set(
    *, event_id: int, user, sales_target_fen: int, reward_rules: list | None = None, actor=None
) -> StaffTarget:
    if isinstance(sales_target_fen, bool) or not isinstance(sales_target_fen, int) or sales_target_fen <= 0:
        raise DomainError(EVENT_INVALID, field="sales_target_fen")
    rules = REWARD_RULES_PRESET if reward_rules is None else reward_rules
    try:
        rules = sorted(([int(a), int(b)] for a, b in rules), reverse=True)
    except (TypeError, ValueError):
        raise DomainError(EVENT_INVALID, field="reward_rules") from None
    if any(a <= 0 or b < 0 for a, b in rules):
        raise DomainError(EVENT_INVALID, field="reward_rules")
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        target, _ = StaffTarget.objects.update_or_create(
            event=event, user=user, defaults={"sales_target_fen": sales_target_fen, "reward_rules": rules}
        )
        audit_write(
            action="event.target",
            obj=event,
            after={"user": user.pk, "sales_target_fen": sales_target_fen, "reward_rules": rules},
            actor=actor,
        )
    return target


# --- invitee list and its approval ---------------------------------------------------------------


def _list_editable(event: Event) -> None:
    if event.list_state not in (L.DRAFT, L.REJECTED):
        raise DomainError(EVENT_LIST_STATE, state=event.get_list_state_display())


def _invitee_add(event: Event, member: Member, department: str, actor, now: datetime) -> Invitee:
    if Invitee.objects.filter(event=event, member=member).exists():
        raise DomainError(INVITEE_DUPLICATE, field="member")
    return Invitee.objects.create(
        event=event, member=member, department=department, proposed_by=_user(actor), created_at=now
    )


def invitee_add(*, event_id: int, member: Member, department: str, actor=None) -> Invitee:
    """A department proposes a member for the list (while it is being compiled)."""
    department = _text(department, "department", 40)
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        _list_editable(event)
        inv = _invitee_add(event, member, department, actor, clock.now())
        audit_write(
            action="event.invitee_add",
            obj=event,
            after={"member": member.pk, "department": department},
            actor=actor,
        )
    return inv


def forum_invitees_select(
    *,
    event_id: int,
    by: str,
    limit: int = 20,
    age_min: int | None = None,
    age_max: int | None = None,
    actor=None,
) -> list[Invitee]:
    """Forum invitees (座谈会): the ``limit`` members holding the most points, or the members whose
    age on the event day is within [age_min, age_max] (by birthday; lowest member number first).
    Members already on the list are skipped."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise DomainError(FORUM_SELECTION_INVALID, field="limit")
    if by == "age_band":
        if not all(isinstance(a, int) and 0 <= a <= 120 for a in (age_min, age_max)) or age_min > age_max:
            raise DomainError(FORUM_SELECTION_INVALID, field="age_min")
    elif by != "top_points":
        raise DomainError(FORUM_SELECTION_INVALID, field="by")
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        _list_editable(event)
        taken = Invitee.objects.filter(event=event).values("member_id")
        active = Member.objects.filter(status=Member.Status.ACTIVE).exclude(pk__in=taken)
        if by == "top_points":
            ids = list(
                Account.objects.filter(kind=Account.Kind.POINTS, member__in=active, balance__gt=0)
                .order_by("-balance", "member_id")
                .values_list("member_id", flat=True)[:limit]
            )
        else:
            day = clock.to_local(event.starts_at).date()
            youngest = _years_before(day, age_min)  # born on or before → at least age_min
            oldest = _years_before(day, age_max + 1) + timedelta(days=1)  # born after → at most age_max
            ids = list(
                active.filter(birthday__lte=youngest, birthday__gte=oldest)
                .order_by("code")
                .values_list("pk", flat=True)[:limit]
            )
        members = {m.pk: m for m in Member.objects.filter(pk__in=ids)}
        now = clock.now()
        out = [_invitee_add(event, members[i], "forum", actor, now) for i in ids]
        audit_write(
            action="event.forum_select",
            obj=event,
            after={"by": by, "limit": limit, "age_min": age_min, "age_max": age_max, "count": len(out)},
            actor=actor,
        )
    return out


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def invitee_list_submit(*, event_id: int, actor=None) -> Event:
    """Submit the compiled list to the general manager; the requester and their roles are kept."""
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        _list_editable(event)
        if not Invitee.objects.filter(event=event).exists():
            raise DomainError(EVENT_LIST_EMPTY)
        event.list_state = L.SUBMITTED
        event.list_requested_by = _user(actor)
        event.list_requester_roles = roles_of(actor)
        event.list_decided_by = None
        event.list_decided_at = None
        event.save()
        audit_write(
            action="event.list_submit",
            obj=event,
            after={"state": L.SUBMITTED, "roles": event.list_requester_roles},
            actor=actor,
        )
    return event


def invitee_list_decide(*, event_id: int, approve: bool, note: str = "", actor=None) -> Event:
    """The general manager approves (or sends back) the submitted list."""
    note = _text(note, "note", 200, required=False)
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        if event.list_state != L.SUBMITTED:
            raise DomainError(EVENT_LIST_STATE, state=event.get_list_state_display())
        approval_check(
            actor=actor,
            permission=APPROVE_PERM,
            requested_by_id=event.list_requested_by_id,
            requester_roles=event.list_requester_roles,
            step="invitee_list",
        )
        event.list_state = L.APPROVED if approve else L.REJECTED
        event.list_decided_by = actor
        event.list_decided_at = clock.now()
        event.list_note = note
        event.save()
        audit_write(
            action="event.list_decide",
            obj=event,
            before={"state": L.SUBMITTED.value},
            after={"state": event.list_state, "note": note},
            actor=actor,
        )
    return event


# --- funnel, RSVP, sign-in --------------------------------------------------------------------------


def invitee_funnel(*, invitee_id: int, step: str, favourable: bool | None = None, actor=None) -> Invitee:
    """Record one step of the invitation funnel, in order; a visit only for a favourable interview;
    letters and confirmations only once the general manager approved the list."""
    if step not in FUNNEL:
        raise DomainError(FUNNEL_STEP_INVALID, field="step")
    with transaction.atomic(durable=True):
        inv = _lock_invitee(invitee_id)
        now = clock.now()
        if step == "interview":
            if favourable is None or not isinstance(favourable, bool):
                raise DomainError(FUNNEL_STEP_INVALID, field="favourable")
            inv.interviewed_at = inv.interviewed_at or now
            inv.favourable = favourable
        elif step == "visit":
            if not inv.favourable:
                raise DomainError(FUNNEL_STEP_INVALID, field="step")
            inv.visited_at = inv.visited_at or now
        else:
            if inv.event.list_state != L.APPROVED:
                raise DomainError(INVITEE_NOT_APPROVED)
            if step == "letter":
                inv.letter_at = inv.letter_at or now
            else:
                if inv.letter_at is None:
                    raise DomainError(FUNNEL_STEP_INVALID, field="step")
                inv.confirmed_at = inv.confirmed_at or now
        inv.save()
        audit_write(
            action="event.funnel", obj=inv, after={"step": step, "favourable": favourable}, actor=actor
        )
    return inv


def invitee_rsvp(*, invitee_id: int, answer: str, party_size: int = 1, actor=None) -> Invitee:
    if answer not in (Invitee.Rsvp.YES, Invitee.Rsvp.NO, Invitee.Rsvp.MAYBE):
        raise DomainError(RSVP_INVALID, field="answer")
    if isinstance(party_size, bool) or not isinstance(party_size, int) or not 1 <= party_size <= 20:
        raise DomainError(RSVP_INVALID, field="party_size")
    with transaction.atomic(durable=True):
        inv = _lock_invitee(invitee_id)
        now = clock.now()
        if now > inv.event.rsvp_deadline:
            raise DomainError(RSVP_CLOSED)
        before = {"rsvp": inv.rsvp, "party_size": inv.party_size}
        inv.rsvp, inv.party_size, inv.rsvp_at = answer, party_size, now
        inv.save(update_fields=["rsvp", "party_size", "rsvp_at"])
        audit_write(
            action="event.rsvp",
            obj=inv,
            before=before,
            after={"rsvp": answer, "party_size": party_size},
            actor=actor,
        )
    return inv


def invitee_sign_in(
    *, invitee_id: int, business_card: str = "", actor=None, idem: idempotency.Claim | None = None
) -> Invitee:
    """签到 on the event day: record the business card, hand out one gift voucher (a coupon of the
    event's template, key ``event:{id}:voucher:{member}``) and one lottery ticket (an entry of the
    event's lottery). Signing in again returns the same voucher and ticket."""
    business_card = _text(business_card, "business_card", 200, required=False)
    with transaction.atomic(durable=True):
        inv = _lock_invitee(invitee_id)
        event = inv.event
        if inv.signed_in_at is None:
            if event.list_state != L.APPROVED:
                raise DomainError(INVITEE_NOT_APPROVED)
            now = clock.now()
            if clock.to_local(now).date() != clock.to_local(event.starts_at).date():
                raise DomainError(SIGNIN_NOT_OPEN)
            inv.signed_in_at = now
            inv.business_card = business_card
            if event.voucher_template_id:
                inv.voucher = _coupon_issue(
                    template=event.voucher_template,
                    member=inv.member,
                    channel="event",
                    key=f"event:{event.pk}:voucher:{inv.member_id}",
                    now=now,
                )
            lottery = Lottery.objects.filter(event=event, state=Lottery.State.OPEN).first()
            if lottery is not None:
                inv.entry = Entry.objects.create(
                    lottery=lottery,
                    member=inv.member,
                    ticket=f"{event.pk:03d}-{inv.pk:05d}",
                    source=Entry.Source.SIGN_IN,
                    created_at=now,
                )
                Lottery.objects.filter(pk=lottery.pk).update(entrant_count=F("entrant_count") + 1)
            inv.save(update_fields=["signed_in_at", "business_card", "voucher", "entry"])
            audit_write(
                action="event.sign_in",
                obj=inv,
                after={
                    "voucher": inv.voucher_id,
                    "ticket": inv.entry.ticket if inv.entry_id else None,
                    "business_card": business_card,
                },
                actor=actor,
            )
        idempotency.complete(idem, inv)
    return inv


def suggestion_add(*, event_id: int, text: str, member: Member | None = None, actor=None) -> Suggestion:
    text = _text(text, "text", 2000)
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        s = Suggestion.objects.create(
            event=event, member=member, text=text, recorded_by=_user(actor), created_at=clock.now()
        )
        audit_write(action="event.suggestion", obj=event, after={"suggestion": s.pk}, actor=actor)
    return s


def event_review_set(*, event_id: int, review: str, actor=None) -> Event:
    review = _text(review, "review", 4000, required=False)
    with transaction.atomic(durable=True):
        event = _lock_event(event_id)
        event.review = review
        event.save(update_fields=["review"])
        audit_write(action="event.review", obj=event, after={"review": review[:200]}, actor=actor)
    return event
