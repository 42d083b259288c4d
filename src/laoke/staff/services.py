"""Writes of staff work. Each public service runs in ``transaction.atomic(durable=True)``, checks
the object rule (a rep writes only their own work; a manager also for the reps they see), and
writes its audit row in the same transaction.

A follow-up is a work log about a prospect: it counts the follow-up and moves the prospect's next
follow-up date (the date given, else by level: presets.FOLLOW_UP_DAYS, a key lead every 2 days).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest

from laoke.core import clock, idempotency
from laoke.core.approvals import approval_check, roles_of
from laoke.core.audit import audit_write
from laoke.core.errors import FIELD_INVALID, FIELD_REQUIRED, NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.members.models import Member
from laoke.members.validation import normalize_mobile

from . import presets, selectors
from .error_codes import (
    STAFF_ASSESSMENT_SIGNED,
    STAFF_LOG_IN_FUTURE,
    STAFF_LOG_SUBJECT,
    STAFF_LOST_REASON_REQUIRED,
    STAFF_MONTH_NOT_OVER,
    STAFF_PROSPECT_CLOSED,
    STAFF_PROSPECT_CONTACT,
    STAFF_QUOTA_INVALID,
    STAFF_REP_NOT_VISIBLE,
)
from .models import (
    Account,
    Assessment,
    DailyPlan,
    LogKind,
    LostReason,
    PlanItem,
    Prospect,
    QuotaPlan,
    WorkLog,
)

SIGN = "staff.sign_assessment"


def _store_of(user):
    return selectors._store_of(user)


def _text(value, field: str, max_len: int, *, required: bool = False) -> str:
    value = (value or "").strip() if isinstance(value, str | type(None)) else None
    if value is None:
        raise DomainError(FIELD_INVALID, field=field)
    if required and not value:
        raise DomainError(FIELD_REQUIRED, field=field)
    return value[:max_len]


def _choice(value, choices, field: str) -> str:
    if value not in choices:
        raise DomainError(FIELD_INVALID, field=field)
    return value


# --- quota ---------------------------------------------------------------------------------------


def quota_plan_set(
    *,
    actor,
    rep_id: int | None = None,
    store_id: int | None = None,
    new_visits: int,
    old_visits: int,
    calls: int,
    working_days: str = presets.WORKING_DAYS,
) -> QuotaPlan:
    """Set the daily quota for one rep, one store, or everyone (neither given)."""
    values = (new_visits, old_visits, calls)
    if any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 50 for v in values):
        raise DomainError(STAFF_QUOTA_INVALID)
    days = "".join(sorted(set(str(working_days or ""))))
    if not days or any(c not in "1234567" for c in days):
        raise DomainError(STAFF_QUOTA_INVALID, field="working_days")
    if rep_id and store_id:
        raise DomainError(FIELD_INVALID, field="store_id")
    with transaction.atomic(durable=True):
        rep = store = None
        if rep_id:
            rep = selectors.rep_for(actor, rep_id)
            scope = f"rep:{rep.pk}"
        elif store_id:
            store = Store.objects.filter(pk=store_id).first()
            if store is None:
                raise DomainError(NOT_FOUND, field="store_id")
            own = _store_of(actor)
            if not actor.has_perm(selectors.VIEW_ALL) and (
                own is None or own.pk not in (store.pk, store.parent_id)
            ):
                raise DomainError(STAFF_REP_NOT_VISIBLE, field="store_id")  # another branch's store
            scope = f"store:{store.pk}"
        else:
            if not actor.has_perm(selectors.VIEW_ALL) and _store_of(actor) is not None:
                raise DomainError(
                    STAFF_REP_NOT_VISIBLE, field="store_id"
                )  # a branch head sets their branch's
            scope = "global"
        before = QuotaPlan.objects.filter(scope=scope).values("new_visits", "old_visits", "calls").first()
        plan, _ = QuotaPlan.objects.update_or_create(
            scope=scope,
            defaults={
                "rep": rep,
                "store": store,
                "new_visits": new_visits,
                "old_visits": old_visits,
                "calls": calls,
                "working_days": days,
                "updated_at": clock.now(),
            },
        )
        audit_write(
            action="staff.quota_set",
            obj=plan,
            before=before,
            after={"scope": scope, "new_visits": new_visits, "old_visits": old_visits, "calls": calls},
            actor=actor,
        )
    return plan


# --- customers and prospects ---------------------------------------------------------------------


def account_create(
    *,
    actor,
    name: str,
    rep_id: int | None = None,
    size: str = Account.Size.REGULAR,
    member_id: int | None = None,
) -> Account:
    name = _text(name, "name", 100, required=True)
    _choice(size, Account.Size.values, "size")
    with transaction.atomic(durable=True):
        rep = selectors.rep_for(actor, rep_id)
        member = None
        if member_id:
            member = Member.objects.filter(pk=member_id).first()
            if member is None:
                raise DomainError(NOT_FOUND, field="member_id")
        account = Account.objects.create(
            name=name, member=member, size=size, rep=rep, store=_store_of(rep), created_at=clock.now()
        )
        audit_write(
            action="staff.account_create", obj=account, after={"name": name, "size": size}, actor=actor
        )
    return account


def _phone(raw: str) -> str:
    """A mobile in the members' form (E.164, so a deal finds the member with it); a landline or
    anything else as written."""
    if not raw:
        return ""
    try:
        return normalize_mobile(raw) or raw
    except DomainError:
        return raw


def _next_follow_up(level: str, key: bool, day: date) -> date:
    days = presets.FOLLOW_UP_DAYS[level]
    if key:
        days = min(days, presets.KEY_LEAD_FOLLOW_UP_DAYS)
    return day + timedelta(days=days)


def prospect_register(
    *,
    actor,
    name: str,
    phone: str = "",
    source: str = Prospect.Source.WALK_IN,
    interest: str = "",
    level: str = Prospect.Level.C,
    key: bool = False,
    rep_id: int | None = None,
    idem: idempotency.Claim | None = None,
) -> Prospect:
    """Register a prospect (every walk-in). The first follow-up is due the next day."""
    name = _text(name, "name", 100)
    if not name:
        raise DomainError(STAFF_PROSPECT_CONTACT, field="name")
    phone = _phone(_text(phone, "phone", 32))
    interest = _text(interest, "interest", 200)
    _choice(source, Prospect.Source.values, "source")
    _choice(level, Prospect.Level.values, "level")
    now = clock.now()
    with transaction.atomic(durable=True):
        rep = selectors.rep_for(actor, rep_id)
        prospect = Prospect.objects.create(
            name=name,
            phone=phone,
            source=source,
            interest=interest,
            level=level,
            key=bool(key),
            rep=rep,
            store=_store_of(rep),
            registered_at=now,
            next_follow_up_on=clock.to_local(now).date() + timedelta(days=1),
        )
        audit_write(
            action="staff.prospect_register",
            obj=prospect,
            after={"name": name, "source": source, "level": level, "key": bool(key), "rep": rep.pk},
            actor=actor,
        )
        idempotency.complete(idem, prospect)
    return prospect


def _visible_prospect(actor, prospect_id: int, *, lock: bool = False) -> Prospect:
    qs = Prospect.objects.filter(pk=prospect_id)
    if lock:
        qs = qs.select_for_update()
    prospect = qs.first()
    if prospect is None:
        raise DomainError(NOT_FOUND, field="prospect_id")
    if prospect.rep_id != actor.pk and prospect.rep_id not in selectors.visible_rep_ids(actor):
        raise DomainError(NOT_FOUND, field="prospect_id")  # not yours: as if it did not exist
    return prospect


def _visible_account(actor, account_id: int) -> Account:
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise DomainError(NOT_FOUND, field="account_id")
    if account.rep_id == actor.pk or account.rep_id in selectors.visible_rep_ids(actor):
        return account
    if account.size == Account.Size.BIG and selectors.is_head(actor):
        if selectors._head_accounts(actor).filter(pk=account.pk).exists():
            return account
    raise DomainError(NOT_FOUND, field="account_id")


def prospect_close(
    *,
    actor,
    prospect_id: int,
    outcome: str,
    lost_reason: str = "",
    note: str = "",
    member_id: int | None = None,
    idem: idempotency.Claim | None = None,
) -> Prospect:
    """A deal (linked to a member: the one given, else the member with the prospect's mobile, if
    any) or lost with a reason from the preset list (战败原因)."""
    _choice(outcome, (Prospect.Status.WON, Prospect.Status.LOST), "outcome")
    note = _text(note, "note", 300)
    if outcome == Prospect.Status.LOST:
        if not lost_reason:
            raise DomainError(STAFF_LOST_REASON_REQUIRED, field="lost_reason")
        _choice(lost_reason, LostReason.values, "lost_reason")
    else:
        lost_reason = ""
    with transaction.atomic(durable=True):
        prospect = _visible_prospect(actor, prospect_id, lock=True)
        if prospect.status != Prospect.Status.OPEN:
            raise DomainError(STAFF_PROSPECT_CLOSED)
        member = None
        if outcome == Prospect.Status.WON:
            if member_id:
                member = Member.objects.filter(pk=member_id).first()
                if member is None:
                    raise DomainError(NOT_FOUND, field="member_id")
            elif prospect.phone:
                member = Member.objects.filter(mobile=prospect.phone).first()
        prospect.status = outcome
        prospect.lost_reason = lost_reason
        prospect.close_note = note
        prospect.closed_at = clock.now()
        prospect.next_follow_up_on = None
        prospect.member = member
        prospect.save(
            update_fields=["status", "lost_reason", "close_note", "closed_at", "next_follow_up_on", "member"]
        )
        audit_write(
            action=f"staff.prospect_{outcome}",
            obj=prospect,
            after={"lost_reason": lost_reason, "member": member.pk if member else None},
            actor=actor,
        )
        idempotency.complete(idem, prospect)
    return prospect


def prospect_convert(*, actor, prospect_id: int, note: str = "") -> Prospect:
    """A deal with a new member: registers the member through members.services.member_create
    (its own transaction: it checks the mobile is free), then closes the prospect linked to it.
    An existing member with the prospect's mobile is linked instead of registering a second one."""
    from laoke.members.services import member_create

    prospect = _visible_prospect(actor, prospect_id)
    if prospect.status != Prospect.Status.OPEN:
        raise DomainError(STAFF_PROSPECT_CLOSED)
    member = Member.objects.filter(mobile=prospect.phone).first() if prospect.phone else None
    if member is None:
        member = member_create(
            name=prospect.name,
            mobile=prospect.phone if prospect.phone.startswith("+") else None,
            home_store=prospect.store,
            notes=f"prospect {prospect.pk}",
            actor=actor,
        )
    return prospect_close(
        actor=actor, prospect_id=prospect_id, outcome=Prospect.Status.WON, note=note, member_id=member.pk
    )


# --- work logs and plans -------------------------------------------------------------------------


def work_log_add(
    *,
    actor,
    kind: str,
    at: datetime | None = None,
    account_id: int | None = None,
    prospect_id: int | None = None,
    content: str = "",
    result: str = "",
    next_step: str = "",
    next_follow_up_on: date | None = None,
    level: str | None = None,
    idem: idempotency.Claim | None = None,
) -> WorkLog:
    """Log a visit, call or other work of the actor (工作日志). About a prospect, it is a
    follow-up: the prospect's count, last follow-up and next due date move (and its level, if
    given)."""
    _choice(kind, LogKind.values, "kind")
    if account_id and prospect_id:
        raise DomainError(STAFF_LOG_SUBJECT)
    now = clock.now()
    at = at or now
    if at.tzinfo is None:
        raise DomainError(FIELD_INVALID, field="at")
    if at > now + timedelta(minutes=5):
        raise DomainError(STAFF_LOG_IN_FUTURE, field="at")
    if level is not None and level != "":
        _choice(level, Prospect.Level.values, "level")
    content = _text(content, "content", 5000)
    result = _text(result, "result", 300)
    next_step = _text(next_step, "next_step", 300)
    with transaction.atomic(durable=True):
        account = _visible_account(actor, account_id) if account_id else None
        prospect = _visible_prospect(actor, prospect_id, lock=True) if prospect_id else None
        if prospect is not None and prospect.status != Prospect.Status.OPEN:
            raise DomainError(STAFF_PROSPECT_CLOSED)
        log = WorkLog.objects.create(
            rep=actor,
            at=at,
            kind=kind,
            account=account,
            prospect=prospect,
            by_head=selectors.is_head(actor),
            content=content,
            result=result,
            next_step=next_step,
            created_at=now,
        )
        if prospect is not None:
            if level:
                prospect.level = level
            day = clock.to_local(at).date()
            Prospect.objects.filter(pk=prospect.pk).update(
                level=prospect.level,
                follow_ups=F("follow_ups") + 1,
                last_follow_up_at=Greatest(Coalesce("last_follow_up_at", Value(at)), Value(at)),
                next_follow_up_on=next_follow_up_on or _next_follow_up(prospect.level, prospect.key, day),
            )
        audit_write(
            action="staff.log_add",
            obj=log,
            after={"kind": kind, "account": account_id, "prospect": prospect_id},
            actor=actor,
        )
        idempotency.complete(idem, log)
    return log


def _plan(rep, day: date) -> DailyPlan:
    plan, _ = DailyPlan.objects.get_or_create(rep=rep, day=day, defaults={"created_at": clock.now()})
    return plan


def plan_item_add(
    *,
    actor,
    day: date,
    kind: str,
    account_id: int | None = None,
    prospect_id: int | None = None,
    note: str = "",
) -> PlanItem:
    """Plan a visit or call for one of the actor's days."""
    _choice(kind, LogKind.values, "kind")
    if account_id and prospect_id:
        raise DomainError(STAFF_LOG_SUBJECT)
    if day < clock.today():
        raise DomainError(FIELD_INVALID, field="day")
    note = _text(note, "note", 200)
    with transaction.atomic(durable=True):
        account = _visible_account(actor, account_id) if account_id else None
        prospect = _visible_prospect(actor, prospect_id) if prospect_id else None
        item = PlanItem.objects.create(
            plan=_plan(actor, day), kind=kind, account=account, prospect=prospect, note=note
        )
        audit_write(
            action="staff.plan_add", obj=item, after={"day": day.isoformat(), "kind": kind}, actor=actor
        )
    return item


def _suggest(rep, day: date) -> tuple[int, int]:
    """Plan suggestions for ``rep`` on ``day``: every cadence due or overdue by then and every
    follow-up due by then (once per subject and day). Returns (items added, overdue cadences)."""
    added = overdue = 0
    plan = None
    for row in selectors.cadence_list(rep, day):
        if row["state"] == "ok":
            continue
        overdue += row["state"] == "overdue"
        plan = plan or _plan(rep, day)
        kind = LogKind.OLD_VISIT if row["account"] is not None else LogKind.NEW_VISIT
        added += _suggest_item(plan, kind, row["account"], row["prospect"], PlanItem.Origin.CADENCE, row)
    for prospect in selectors.pending_follow_ups(None, day, rep=rep):
        plan = plan or _plan(rep, day)
        added += _suggest_item(plan, LogKind.CALL, None, prospect, PlanItem.Origin.FOLLOW_UP, None)
    return added, overdue


def _suggest_item(plan, kind, account, prospect, origin, row) -> int:
    subject = {"account": account} if account is not None else {"prospect": prospect}
    if PlanItem.objects.filter(plan=plan, **subject).exclude(origin=PlanItem.Origin.MANUAL).exists():
        return 0
    note = ""
    if row is not None:
        note = f"{row['rule']} {row['done']}/{row['times']} {row['state']}"
    try:
        with transaction.atomic():
            PlanItem.objects.create(plan=plan, kind=kind, origin=origin, note=note, **subject)
    except IntegrityError:  # a concurrent tick made it
        return 0
    return 1


def staff_tick(now: datetime) -> dict:
    """Prepare today's and the next working day's plan suggestions for every active sales user
    from due/overdue cadences and due follow-ups, and count the overdue cadences. Safe to run
    many times (a suggestion is made once per subject and day)."""
    User = get_user_model()
    today = clock.to_local(now).date()
    reps = list(
        User.objects.filter(groups__name__in=selectors.SALES_ROLES, is_active=True).distinct().order_by("pk")
    )
    totals = {"reps": len(reps), "suggested": 0, "overdue": 0}
    for rep in reps:
        quota = selectors.quota_for(rep)
        days = [today]
        nxt = today + timedelta(days=1)
        while str(nxt.isoweekday()) not in quota["working_days"] and nxt < today + timedelta(days=8):
            nxt += timedelta(days=1)
        days += [nxt][: presets.PLAN_DAYS_AHEAD]
        with transaction.atomic(durable=True):
            for i, day in enumerate(days):
                added, overdue = _suggest(rep, day)
                totals["suggested"] += added
                if i == 0:
                    totals["overdue"] += overdue
    return totals


# --- the monthly assessment ----------------------------------------------------------------------


def assessment_file(*, actor, month: date, rep_id: int | None = None) -> Assessment:
    """File (or refresh while not signed) a rep's monthly assessment with its figures frozen. The
    filer and their roles are stored: the sign-off is an approval step (core.approvals)."""
    month = selectors.parse_month(month)
    with transaction.atomic(durable=True):
        rep = selectors.rep_for(actor, rep_id)
        figures = selectors.month_figures(rep, month)
        existing = Assessment.objects.select_for_update().filter(rep=rep, month=month).first()
        if existing is not None and existing.state == Assessment.State.SIGNED:
            raise DomainError(STAFF_ASSESSMENT_SIGNED)
        values = {
            "figures": figures,
            "requested_by": actor,
            "requester_roles": roles_of(actor),
            "filed_at": clock.now(),
        }
        if existing is None:
            assessment = Assessment.objects.create(rep=rep, month=month, **values)
        else:
            for k, v in values.items():
                setattr(existing, k, v)
            existing.save(update_fields=list(values))
            assessment = existing
        audit_write(
            action="staff.assessment_file",
            obj=assessment,
            after={"month": figures["month"], "overall_pct": figures["overall_pct"]},
            actor=actor,
        )
    return assessment


def assessment_sign(*, actor, assessment_id: int, note: str = "") -> Assessment:
    """A manager signs off a filed assessment of a month that is over. Refused to the filer and to
    anyone holding a role the filer held (a rep cannot sign reps' assessments)."""
    note = _text(note, "note", 300)
    with transaction.atomic(durable=True):
        assessment = Assessment.objects.select_for_update().filter(pk=assessment_id).first()
        if assessment is None or assessment.rep_id not in selectors.visible_rep_ids(actor):
            raise DomainError(NOT_FOUND)
        approval_check(
            actor=actor,
            permission=SIGN,
            requested_by_id=assessment.requested_by_id,
            requester_roles=assessment.requester_roles,
            step="assessment",
        )
        if actor.pk == assessment.rep_id:
            raise DomainError(STAFF_REP_NOT_VISIBLE)  # nobody signs their own month
        if assessment.state == Assessment.State.SIGNED:
            raise DomainError(STAFF_ASSESSMENT_SIGNED)
        if selectors.month_last(assessment.month) >= clock.today():
            raise DomainError(STAFF_MONTH_NOT_OVER)
        assessment.state = Assessment.State.SIGNED
        assessment.signed_by = actor
        assessment.signed_at = clock.now()
        assessment.sign_note = note
        assessment.save(update_fields=["state", "signed_by", "signed_at", "sign_note"])
        audit_write(action="staff.assessment_sign", obj=assessment, after={"note": note}, actor=actor)
    return assessment
