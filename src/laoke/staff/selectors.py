"""Reads of staff work: who may see whom (the object rule), quotas, a rep's day, visit cadences,
prospects' pending lists and monthly report, the monthly assessment and its xlsx.

Object rule: a rep sees only their own work; a sales manager (``staff.view_team``) also sees the
reps of their store and of the stores under it (all reps if the manager has no store); the
general manager and the admin (``staff.view_all``) see everyone.

Days are the shop's business days (Asia/Shanghai): a day's logs are those with ``at`` between its
local midnights.
"""

from __future__ import annotations

import calendar
import io
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from laoke.core import clock
from laoke.core.errors import DomainError

from . import presets
from .error_codes import STAFF_MONTH_INVALID, STAFF_REP_NOT_VISIBLE
from .models import (
    QUOTA_KINDS,
    VISIT_KINDS,
    Account,
    Assessment,
    DailyPlan,
    LostReason,
    Prospect,
    QuotaPlan,
    WorkLog,
)

SALES_ROLES = ("sales_rep", "sales_manager")
VIEW_TEAM, VIEW_ALL = "staff.view_team", "staff.view_all"


# --- time ----------------------------------------------------------------------------------------


def local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.shop_tz())


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in aware datetimes covering the local days first..last."""
    return local_start(first), local_start(last + timedelta(days=1))


def parse_month(value: str | date | None) -> date:
    if isinstance(value, date):
        return value.replace(day=1)
    if not value:
        return clock.today().replace(day=1)
    try:
        year, month = str(value).split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise DomainError(STAFF_MONTH_INVALID, field="month") from exc


def month_last(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def period_bounds(period: str, day: date) -> tuple[date, date]:
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        return day.replace(day=1), month_last(day)
    if period == "quarter":
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = date(day.year, first_month, 1)
        return start, month_last(date(day.year, first_month + 2, 1))
    raise ValueError(period)


# --- the object rule -----------------------------------------------------------------------------


def _store_of(user):
    profile = getattr(user, "staff_profile", None) if user is not None else None
    return profile.store if profile is not None else None


def visible_reps(user):
    """The staff users whose work ``user`` may see (always including themself)."""
    User = get_user_model()
    if user is None or not getattr(user, "pk", None):
        return User.objects.none()
    sales = User.objects.filter(groups__name__in=SALES_ROLES, is_active=True)
    if user.has_perm(VIEW_ALL):
        return User.objects.filter(Q(pk__in=sales.values("pk")) | Q(pk=user.pk)).order_by("username")
    if user.has_perm(VIEW_TEAM):
        store = _store_of(user)
        if store is not None:
            sales = sales.filter(Q(staff_profile__store=store) | Q(staff_profile__store__parent=store))
        return User.objects.filter(Q(pk__in=sales.values("pk")) | Q(pk=user.pk)).order_by("username")
    return User.objects.filter(pk=user.pk)


def rep_for(user, rep_id: int | None):
    """The rep ``user`` asks about (themself when ``rep_id`` is empty), or STAFF_REP_NOT_VISIBLE."""
    if not rep_id or rep_id == user.pk:
        return user
    rep = visible_reps(user).filter(pk=rep_id).first()
    if rep is None:
        raise DomainError(STAFF_REP_NOT_VISIBLE, field="rep_id")
    return rep


def visible_rep_ids(user) -> list[int]:
    return list(visible_reps(user).values_list("pk", flat=True))


def is_head(user) -> bool:
    """A branch head (sales manager; admin too) — whose visits count for big customers."""
    return bool(user is not None and user.has_perm(VIEW_TEAM))


# --- quota ---------------------------------------------------------------------------------------


def quota_for(rep) -> dict:
    """The daily quota that applies to ``rep``: their own plan, else their store's, else the
    global one, else the S0 preset."""
    store = _store_of(rep)
    scopes = [f"rep:{rep.pk}"] + ([f"store:{store.pk}"] if store else []) + ["global"]
    plans = {p.scope: p for p in QuotaPlan.objects.filter(scope__in=scopes)}
    for scope in scopes:
        plan = plans.get(scope)
        if plan is not None:
            return {
                "new_visit": plan.new_visits,
                "old_visit": plan.old_visits,
                "call": plan.calls,
                "working_days": plan.working_days,
                "scope": scope,
            }
    return {**presets.DAILY_QUOTA, "working_days": presets.WORKING_DAYS, "scope": "preset"}


def working_days(first: date, last: date, weekdays: str) -> int:
    n, day = 0, first
    while day <= last:
        n += str(day.isoweekday()) in weekdays
        day += timedelta(days=1)
    return n


def log_counts(rep_id: int, first: date, last: date) -> dict[str, int]:
    start, end = day_range(first, last)
    rows = (
        WorkLog.objects.filter(rep_id=rep_id, at__gte=start, at__lt=end)
        .values("kind")
        .annotate(n=Count("id"))
    )
    counts = {k: 0 for k in ("new_visit", "old_visit", "call", "other")}
    counts.update({r["kind"]: r["n"] for r in rows})
    return counts


def completion(done: dict[str, int], target: dict[str, int]) -> dict:
    """Per kind: done, target, pct (capped at 100: more calls do not make up missing visits);
    overall: Σ min(done, target) / Σ target."""
    kinds = {}
    for k in QUOTA_KINDS:
        t, d = target[k], done.get(k, 0)
        kinds[k] = {"done": d, "target": t, "pct": round(100 * min(d, t) / t, 1) if t else 100.0}
    total_t = sum(target[k] for k in QUOTA_KINDS)
    overall = sum(min(done.get(k, 0), target[k]) for k in QUOTA_KINDS)
    return {"kinds": kinds, "overall_pct": round(100 * overall / total_t, 1) if total_t else 100.0}


# --- cadence -------------------------------------------------------------------------------------


def cadence_state(*, done: int, times: int, first: date, last: date, today: date) -> dict:
    """Visits spread evenly: the period is cut into ``times`` equal slices and the i-th visit is
    due by the end of the i-th slice. Overdue when fewer visits than slices already over; due when
    the current slice still wants its visit; ok otherwise."""
    length = (last - first).days + 1
    elapsed = min(max((today - first).days, 0), length)  # whole days before today
    expected = elapsed * times // length
    wanted_now = min(times, expected + 1)
    if done < expected:
        state = "overdue"
    elif done < wanted_now:
        state = "due"
    else:
        state = "ok"
    # the day by which the next visit is due (end of its slice)
    nth = min(done + 1, times)
    due_by = first + timedelta(days=-(-nth * length // times) - 1)
    return {"state": state, "done": done, "times": times, "due_by": due_by, "expected_by_now": expected}


def _visits(field: str, ids: list[int], first: date, last: date, *, head: bool | None, rep_of=None) -> dict:
    if not ids:
        return {}
    start, end = day_range(first, last)
    qs = WorkLog.objects.filter(**{f"{field}__in": ids}, kind__in=VISIT_KINDS, at__gte=start, at__lt=end)
    if head is not None:
        qs = qs.filter(by_head=head)
    if rep_of is not None:
        rows = qs.values(field, "rep_id").annotate(n=Count("id"))
        out: dict[int, int] = {}
        for r in rows:
            if rep_of.get(r[field]) == r["rep_id"]:
                out[r[field]] = out.get(r[field], 0) + r["n"]
        return out
    return {r[field]: r["n"] for r in qs.values(field).annotate(n=Count("id"))}


def _head_accounts(user):
    """The big customers a branch head looks after: those of their store and the stores under it
    (all, for a head without a store)."""
    qs = Account.objects.filter(active=True, size=Account.Size.BIG)
    store = _store_of(user)
    if store is not None:
        qs = qs.filter(Q(store=store) | Q(store__parent=store) | Q(rep_id__in=visible_rep_ids(user)))
    return qs


def cadence_list(rep, today: date | None = None) -> list[dict]:
    """The visit cadences ``rep`` must keep, each with its state (ok / due / overdue): own
    customers (2×/month), key leads (3×/week) and, for a branch head, big customers (2×/quarter)."""
    today = today or clock.today()
    rows: list[dict] = []
    own = presets.CADENCES["own_customer"]
    accounts = list(Account.objects.filter(rep=rep, active=True).order_by("name", "pk"))
    first, last = period_bounds(own.period, today)
    done = _visits(
        "account", [a.pk for a in accounts], first, last, head=None, rep_of={a.pk: rep.pk for a in accounts}
    )
    for a in accounts:
        st = cadence_state(done=done.get(a.pk, 0), times=own.times, first=first, last=last, today=today)
        rows.append({"rule": own.key, "account": a, "prospect": None, "name": a.name, **st})
    lead = presets.CADENCES["key_lead"]
    leads = list(
        Prospect.objects.filter(rep=rep, key=True, status=Prospect.Status.OPEN).order_by("name", "pk")
    )
    first, last = period_bounds(lead.period, today)
    done = _visits("prospect", [p.pk for p in leads], first, last, head=None)
    for p in leads:
        st = cadence_state(done=done.get(p.pk, 0), times=lead.times, first=first, last=last, today=today)
        rows.append({"rule": lead.key, "account": None, "prospect": p, "name": p.name, **st})
    if is_head(rep):
        big = presets.CADENCES["big_customer"]
        accounts = list(_head_accounts(rep).order_by("name", "pk"))
        first, last = period_bounds(big.period, today)
        done = _visits("account", [a.pk for a in accounts], first, last, head=True)
        for a in accounts:
            st = cadence_state(done=done.get(a.pk, 0), times=big.times, first=first, last=last, today=today)
            rows.append({"rule": big.key, "account": a, "prospect": None, "name": a.name, **st})
    order = {"overdue": 0, "due": 1, "ok": 2}
    rows.sort(key=lambda r: (order[r["state"]], r["due_by"], r["name"]))
    return rows


# --- prospects -----------------------------------------------------------------------------------


def prospects_visible(user):
    return Prospect.objects.filter(rep_id__in=visible_rep_ids(user)).select_related("rep", "member")


def pending_follow_ups(user, day: date | None = None, *, rep=None):
    """Open prospects whose follow-up is due by ``day`` (overdue first)."""
    day = day or clock.today()
    qs = prospects_visible(user) if rep is None else Prospect.objects.filter(rep=rep)
    return qs.filter(status=Prospect.Status.OPEN, next_follow_up_on__lte=day).order_by(
        "next_follow_up_on", "pk"
    )


def weekly_pending(user, day: date | None = None):
    """The week's pending list (seed 002, weekly: 查看潜客系统，看是否有需要跟进的客户): open prospects
    due for a follow-up by the end of this week (Sunday), overdue ones included."""
    _first, last = period_bounds("week", day or clock.today())
    return pending_follow_ups(user, last)


def follow_ups_done(rep_id: int, day: date) -> int:
    start, end = day_range(day, day)
    return WorkLog.objects.filter(rep_id=rep_id, prospect__isnull=False, at__gte=start, at__lt=end).count()


def prospect_report(user, month: date, *, rep_ids: list[int] | None = None) -> dict:
    """The month's prospects (seed 002, monthly: 客户成交量，客户战败原因): registered, deals, lost by
    reason, conversion rate of the month's closed prospects."""
    start, end = day_range(month, month_last(month))
    ids = rep_ids if rep_ids is not None else visible_rep_ids(user)
    qs = Prospect.objects.filter(rep_id__in=ids)
    registered = qs.filter(registered_at__gte=start, registered_at__lt=end).count()
    closed = qs.filter(closed_at__gte=start, closed_at__lt=end)
    won = closed.filter(status=Prospect.Status.WON).count()
    lost_rows = closed.filter(status=Prospect.Status.LOST).values("lost_reason").annotate(n=Count("id"))
    lost = {r["lost_reason"]: r["n"] for r in lost_rows}
    lost_total = sum(lost.values())
    labels = dict(LostReason.choices)
    return {
        "month": month.strftime("%Y-%m"),
        "registered": registered,
        "deals": won,
        "lost": lost_total,
        "conversion_pct": round(100 * won / (won + lost_total), 1) if won + lost_total else None,
        "lost_by_reason": [
            {"reason": k, "label": str(labels[k]), "count": lost[k]} for k in LostReason.values if lost.get(k)
        ],
    }


# --- a rep's day ---------------------------------------------------------------------------------


def day_summary(rep, day: date | None = None) -> dict:
    """My day: the quota vs the logs, the planned items (done when a log of that kind about that
    subject exists that day), due cadences and pending follow-ups."""
    day = day or clock.today()
    quota = quota_for(rep)
    working = str(day.isoweekday()) in quota["working_days"]
    target = {k: (quota[k] if working else 0) for k in QUOTA_KINDS}
    done = log_counts(rep.pk, day, day)
    start, end = day_range(day, day)
    logged = set(
        WorkLog.objects.filter(rep=rep, at__gte=start, at__lt=end).values_list(
            "kind", "account_id", "prospect_id"
        )
    )
    plan = DailyPlan.objects.filter(rep=rep, day=day).first()
    items = []
    if plan is not None:
        for it in plan.items.select_related("account", "prospect").order_by("pk"):
            items.append({"item": it, "done": (it.kind, it.account_id, it.prospect_id) in logged})
    return {
        "rep": rep,
        "day": day,
        "working_day": working,
        "quota": quota,
        "completion": completion(done, target),
        "done": done,
        "follow_ups": {"done": follow_ups_done(rep.pk, day), "target": list(presets.FOLLOW_UPS_PER_DAY)},
        "plan": items,
        "cadence": [r for r in cadence_list(rep, day) if r["state"] != "ok"],
        "pending": list(pending_follow_ups(None, day, rep=rep)[:50]),
    }


def logs_visible(user):
    return WorkLog.objects.filter(rep_id__in=visible_rep_ids(user)).select_related(
        "rep", "account", "prospect"
    )


# --- the monthly assessment ----------------------------------------------------------------------


def month_figures(rep, month: date, *, today: date | None = None) -> dict:
    """A rep's month (S0: 以月度任务完成情况及工作日志综合考核): quota completion per kind over the
    month's working days (up to today in the current month), own-customer cadence compliance
    (share of the rep's customers visited ≥ 2 times in the month by the rep), prospects registered,
    follow-ups, deals and lost."""
    return month_figures_many([rep], month, today=today)[0]


def _quotas(reps) -> dict[int, dict]:
    plans = {p.scope: p for p in QuotaPlan.objects.all()}
    out = {}
    for rep in reps:
        store = _store_of(rep)
        scopes = [f"rep:{rep.pk}"] + ([f"store:{store.pk}"] if store else []) + ["global"]
        plan = next((plans[s] for s in scopes if s in plans), None)
        out[rep.pk] = (
            {
                "new_visit": plan.new_visits,
                "old_visit": plan.old_visits,
                "call": plan.calls,
                "working_days": plan.working_days,
            }
            if plan
            else {**presets.DAILY_QUOTA, "working_days": presets.WORKING_DAYS}
        )
    return out


def _grouped(qs, *keys) -> dict:
    return {
        tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r["n"]
        for r in qs.values(*keys).annotate(n=Count("id"))
    }


def month_figures_many(reps, month: date, *, today: date | None = None) -> list[dict]:
    """:func:`month_figures` of several reps in a fixed number of grouped queries."""
    reps = list(reps)
    ids = [r.pk for r in reps]
    today = today or clock.today()
    last = min(month_last(month), today) if month <= today else month - timedelta(days=1)
    start, end = day_range(month, month_last(month))
    logs = WorkLog.objects.filter(rep_id__in=ids, at__gte=start, at__lt=end)
    counts = _grouped(logs, "rep_id", "kind")
    follow_ups = _grouped(logs.filter(prospect__isnull=False), "rep_id")
    customers = _grouped(Account.objects.filter(rep_id__in=ids, active=True), "rep_id")
    own = presets.CADENCES["own_customer"]
    visits = (
        logs.filter(kind__in=VISIT_KINDS, account__rep_id=F("rep_id"), account__active=True)
        .values("rep_id", "account_id")
        .annotate(n=Count("id"))
    )
    kept: dict[int, int] = {}
    for v in visits:
        if v["n"] >= own.times:
            kept[v["rep_id"]] = kept.get(v["rep_id"], 0) + 1
    prospects = Prospect.objects.filter(rep_id__in=ids)
    registered = _grouped(prospects.filter(registered_at__gte=start, registered_at__lt=end), "rep_id")
    closed = _grouped(prospects.filter(closed_at__gte=start, closed_at__lt=end), "rep_id", "status")
    quotas = _quotas(reps)
    out = []
    for rep in reps:
        quota = quotas[rep.pk]
        days = working_days(month, last, quota["working_days"]) if last >= month else 0
        target = {k: quota[k] * days for k in QUOTA_KINDS}
        done = {k: counts.get((rep.pk, k), 0) for k in ("new_visit", "old_visit", "call", "other")}
        n_customers = customers.get(rep.pk, 0)
        n_kept = kept.get(rep.pk, 0)
        out.append(
            {
                "rep_id": rep.pk,
                "rep": rep.get_username(),
                "month": month.strftime("%Y-%m"),
                "working_days": days,
                **completion(done, target),
                "other_logs": done["other"],
                "customers": n_customers,
                "cadence_kept": n_kept,
                "cadence_pct": round(100 * n_kept / n_customers, 1) if n_customers else None,
                "prospects_registered": registered.get(rep.pk, 0),
                "follow_ups": follow_ups.get(rep.pk, 0),
                "deals": closed.get((rep.pk, Prospect.Status.WON), 0),
                "lost": closed.get((rep.pk, Prospect.Status.LOST), 0),
            }
        )
    return out


def assessments_for(user, month: date, *, today: date | None = None) -> list[dict]:
    """Every visible sales rep's (and sales manager's) month, with the filed/signed assessment if
    there is one. ``user=None``: the operator (CLI), every sales user."""
    base = get_user_model().objects.filter(is_active=True) if user is None else visible_reps(user)
    reps = list(
        base.filter(groups__name__in=SALES_ROLES)
        .distinct()
        .order_by("username")
        .select_related("staff_profile__store")
    )
    filed = {
        a.rep_id: a
        for a in Assessment.objects.filter(month=month, rep_id__in=[r.pk for r in reps]).select_related(
            "signed_by"
        )
    }
    return [{**f, "assessment": filed.get(f["rep_id"])} for f in month_figures_many(reps, month, today=today)]


KIND_LABELS = {
    "new_visit": gettext_lazy("New-customer visits"),
    "old_visit": gettext_lazy("Old-customer visits"),
    "call": gettext_lazy("Calls"),
}


def assessment_xlsx(rows: list[dict], month: date) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = month.strftime("%Y-%m")
    header = [_("Sales rep"), _("Working days")]
    for k in QUOTA_KINDS:
        label = str(KIND_LABELS[k])
        header += [f"{label} {_('done')}", f"{label} {_('target')}", f"{label} %"]
    header += [
        _("Quota completion %"),
        _("Customers"),
        _("Visited ≥ 2 times"),
        _("Cadence %"),
        _("Prospects registered"),
        _("Follow-ups"),
        _("Deals"),
        _("Lost"),
        _("State"),
        _("Signed by"),
    ]
    ws.append([str(h) for h in header])
    for r in rows:
        line = [r["rep"], r["working_days"]]
        for k in QUOTA_KINDS:
            line += [r["kinds"][k]["done"], r["kinds"][k]["target"], r["kinds"][k]["pct"]]
        a = r.get("assessment")
        line += [
            r["overall_pct"],
            r["customers"],
            r["cadence_kept"],
            r["cadence_pct"],
            r["prospects_registered"],
            r["follow_ups"],
            r["deals"],
            r["lost"],
            str(a.get_state_display()) if a else "",
            a.signed_by.get_username() if a and a.signed_by else "",
        ]
        ws.append(line)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
