"""Console pages of events (/admin/console/events/): the list of lotteries and events, the lottery
page (prizes, open/close, commit → the published SHA-256 of the seed and the digests, draw → the
revealed seed and the winners, verify from the seed and an entrant file → "verified"), and the
event workflow page (invitee list and its approval, funnel, RSVP tally and materials, sign-in,
programme, budget, tasks, staff targets, suggestions, report).

Thin over ``laoke.events`` services and selectors, like ``laoke.events.api``."""

from __future__ import annotations

from datetime import datetime, timedelta

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

from laoke.catalog.models import GiftItem, Store
from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.money import format_yuan
from laoke.events import event_services as ev
from laoke.events import selectors, services
from laoke.events.models import BudgetLine, Event, Invitee, Lottery, Prize
from laoke.members.models import Member
from laoke.promotions.models import CouponTemplate

VIEW_L, VIEW_E = "events.view_lottery", "events.view_event"


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _local(dt) -> str:
    return clock.to_local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _need(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _error(request, exc: DomainError) -> None:
    messages.error(request, exc.message(request_lang(request)))


def _dt(value: str) -> datetime | None:
    """A datetime-local input, in shop time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=clock.shop_tz()) if value else None
    except ValueError:
        return None


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@permission_required(VIEW_E, raise_exception=True)
def events_index(request):
    user = request.user
    lotteries = [
        {
            "l": x,
            "state": x.get_state_display(),
            "kind": x.get_kind_display(),
            "closes": _local(x.entry_closes_at),
        }
        for x in selectors.lotteries()[:100]
    ]
    events = [
        {
            "e": e,
            "kind": e.get_kind_display(),
            "starts": _local(e.starts_at),
            "list": e.get_list_state_display(),
        }
        for e in selectors.events()[:100]
    ]
    now = clock.local_now().replace(second=0, microsecond=0, tzinfo=None)
    return TemplateResponse(
        request,
        "console/events/index.html",
        _ctx(
            request,
            _("Events and lotteries"),
            lotteries=lotteries if user.has_perm(VIEW_L) else [],
            can_view_lotteries=user.has_perm(VIEW_L),
            events=events,
            can_add_lottery=user.has_perm("events.add_lottery"),
            can_add_event=user.has_perm("events.add_event"),
            stores=Store.objects.order_by("code"),
            templates=CouponTemplate.objects.filter(is_active=True).order_by("pk"),
            default_open=now.isoformat(timespec="minutes"),
            default_close=(now + timedelta(days=7)).isoformat(timespec="minutes"),
        ),
    )


@require_POST
def lottery_new(request):
    _need(request, "events.add_lottery")
    p = request.POST
    try:
        lot = services.lottery_create(
            name=p.get("name", ""),
            kind=p.get("kind", "member_day"),
            entry_opens_at=_dt(p.get("entry_opens_at", "")),
            entry_closes_at=_dt(p.get("entry_closes_at", "")),
            min_points=_int(p.get("min_points")) if p.get("min_points") else None,
            store=Store.objects.filter(pk=_int(p.get("store"))).first(),
            actor=request.user,
        )
    except DomainError as exc:
        _error(request, exc)
        return redirect("events_index")
    return redirect("events_lottery", lot.pk)


@require_POST
def event_new(request):
    _need(request, "events.add_event")
    p = request.POST
    try:
        e = ev.event_create(
            name=p.get("name", ""),
            kind=p.get("kind", "appreciation"),
            starts_at=_dt(p.get("starts_at", "")),
            venue_store=Store.objects.filter(pk=_int(p.get("store"))).first(),
            voucher_template=CouponTemplate.objects.filter(pk=_int(p.get("voucher_template"))).first(),
            promotion=p.get("promotion", ""),
            actor=request.user,
        )
    except DomainError as exc:
        _error(request, exc)
        return redirect("events_index")
    return redirect("events_event", e.pk)


# --- lottery -------------------------------------------------------------------------------------


def _lottery(lottery_id: int) -> Lottery:
    try:
        return selectors.lottery_get(lottery_id)
    except DomainError:
        raise Http404(str(lottery_id)) from None


def _lottery_page(request, lot: Lottery, check=None):
    user = request.user
    winners = [
        {
            "slot": w.slot + 1,
            "ticket": w.entry.ticket,
            "member": w.entry.member,
            "tier": w.prize.tier,
            "prize": w.prize.name,
        }
        for w in selectors.winners_of(lot)
    ]
    return TemplateResponse(
        request,
        "console/events/lottery.html",
        _ctx(
            request,
            lot.name,
            lot=lot,
            state=lot.get_state_display(),
            kind=lot.get_kind_display(),
            prizes=selectors.prizes_of(lot),
            prize_kinds=Prize.Kind.choices,
            gifts=GiftItem.objects.filter(is_active=True).order_by("code"),
            templates=CouponTemplate.objects.filter(is_active=True).order_by("pk"),
            winners=winners,
            seed=selectors.public_seed(lot),
            committed_at=_local(lot.committed_at),
            drawn_at=_local(lot.drawn_at),
            opens=_local(lot.entry_opens_at),
            closes=_local(lot.entry_closes_at),
            check=check,
            can_change=user.has_perm("events.change_lottery") and lot.state in ("draft", "open", "closed"),
            can_draw=user.has_perm("events.draw_lottery"),
        ),
    )


@permission_required(VIEW_L, raise_exception=True)
def lottery_detail(request, lottery_id: int):
    return _lottery_page(request, _lottery(lottery_id))


ACTIONS = {
    "open": ("events.change_lottery", services.lottery_open),
    "close": ("events.change_lottery", services.lottery_close),
    "commit": ("events.draw_lottery", services.lottery_commit),
    "draw": ("events.draw_lottery", services.lottery_draw),
}


@require_POST
@permission_required(VIEW_L, raise_exception=True)
def lottery_action(request, lottery_id: int):
    lot = _lottery(lottery_id)
    action = request.POST.get("action", "")
    try:
        if action == "prize":
            _need(request, "events.change_lottery")
            p = request.POST
            services.prize_add(
                lottery_id=lot.pk,
                tier=_int(p.get("tier"), 0),
                name=p.get("name", ""),
                stock=_int(p.get("stock"), 0),
                kind=p.get("kind", "onsite"),
                gift=GiftItem.objects.filter(pk=_int(p.get("gift"))).first(),
                coupon_template=CouponTemplate.objects.filter(pk=_int(p.get("coupon_template"))).first(),
                points=_int(p.get("points"), 0),
                actor=request.user,
            )
        elif action in ACTIONS:
            perm, fn = ACTIONS[action]
            _need(request, perm)
            fn(lottery_id=lot.pk, actor=request.user)
        else:
            raise Http404(action)
    except DomainError as exc:
        _error(request, exc)
    return redirect("events_lottery", lot.pk)


@require_POST
@permission_required(VIEW_L, raise_exception=True)
def lottery_verify(request, lottery_id: int):
    """Re-run the draw from the seed typed in (or the revealed one) and an uploaded entrant file
    (or the list as exported now)."""
    lot = _lottery(lottery_id)
    tickets = None
    upload = request.FILES.get("entrants")
    try:
        if upload is not None:
            tickets = selectors.parse_entrants_file(upload.read().decode("utf-8-sig", errors="replace"))[0]
        check = selectors.lottery_verify(lot, seed=request.POST.get("seed") or None, tickets=tickets)
    except DomainError as exc:
        _error(request, exc)
        return redirect("events_lottery", lot.pk)
    return _lottery_page(request, lot, check=check)


@permission_required(VIEW_L, raise_exception=True)
def lottery_entrants(request, lottery_id: int, fmt: str):
    if fmt not in ("json", "csv"):
        raise Http404(fmt)
    lot = _lottery(lottery_id)
    if fmt == "csv":
        resp = HttpResponse(selectors.lottery_export_csv(lot), content_type="text/csv; charset=utf-8")
    else:
        resp = HttpResponse(
            selectors.lottery_export_json(lot), content_type="application/json; charset=utf-8"
        )
    resp["Content-Disposition"] = f'attachment; filename="lottery-{lot.pk}-entrants.{fmt}"'
    return resp


# --- event workflow --------------------------------------------------------------------------------


def _event(event_id: int) -> Event:
    try:
        return selectors.event_get(event_id)
    except DomainError:
        raise Http404(str(event_id)) from None


@permission_required(VIEW_E, raise_exception=True)
def event_detail(request, event_id: int):
    e = _event(event_id)
    user = request.user
    report = selectors.event_report(e)
    lottery = Lottery.objects.filter(event=e).first()
    invitees = [
        {
            "i": i,
            "rsvp": i.get_rsvp_display(),
            "ticket": i.entry.ticket if i.entry_id else "",
        }
        for i in selectors.invitees_of(e)
    ]
    budget = selectors.budget(e)
    for line in budget["lines"]:
        line["planned"] = format_yuan(line["planned_fen"])
        line["actual"] = format_yuan(line["actual_fen"])
    staff = [
        {
            **s,
            "target": format_yuan(s["target_fen"]),
            "actual": format_yuan(s["actual_fen"]),
            "pct": f"{s['achievement_bp'] / 100:.1f}%",
            "reward": format_yuan(s["reward_fen"]),
        }
        for s in report["staff"]
    ]
    return TemplateResponse(
        request,
        "console/events/event.html",
        _ctx(
            request,
            e.name,
            e=e,
            kind=e.get_kind_display(),
            starts=_local(e.starts_at),
            rsvp_deadline=_local(e.rsvp_deadline),
            list_state=e.get_list_state_display(),
            lottery=lottery,
            invitees=invitees,
            report=report,
            sales=format_yuan(report["sales"]["sales_fen"]),
            budget=budget,
            planned=format_yuan(budget["planned_fen"]),
            actual=format_yuan(budget["actual_fen"]),
            staff=staff,
            materials=selectors.materials(e),
            programme=e.programme.all(),
            tasks=e.tasks.select_related("owner"),
            suggestions=e.suggestions.select_related("member").order_by("-pk")[:50],
            categories=BudgetLine.Category.choices,
            rsvp_choices=[c for c in Invitee.Rsvp.choices if c[0] != "pending"],
            editable_list=e.list_state in ("draft", "rejected"),
            can_propose=user.has_perm("events.propose_invitee"),
            can_approve=user.has_perm("events.approve_invitees") and e.list_state == "submitted",
            can_funnel=user.has_perm("events.change_invitee"),
            can_sign_in=user.has_perm("events.signin_invitee") and e.list_state == "approved",
            can_change=user.has_perm("events.change_event"),
            can_suggest=user.has_perm("events.add_suggestion"),
            staff_users=get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username"),
        ),
    )


def _member(value) -> Member | None:
    value = (value or "").strip()
    if not value:
        return None
    return (
        Member.objects.filter(code=value).first()
        or Member.objects.filter(mobile=value).first()
        or Member.objects.filter(pk=_int(value, 0)).first()
    )


@require_POST
@permission_required(VIEW_E, raise_exception=True)
def event_action(request, event_id: int):
    e = _event(event_id)
    p = request.POST
    action = p.get("action", "")
    u = request.user
    inv_id = _int(p.get("invitee"), 0)
    if inv_id and not Invitee.objects.filter(pk=inv_id, event=e).exists():
        raise Http404(inv_id)
    try:
        if action == "invite":
            _need(request, "events.propose_invitee")
            member = _member(p.get("member"))
            if member is None:
                messages.error(request, _("No member has this number or mobile."))
            else:
                ev.invitee_add(event_id=e.pk, member=member, department=p.get("department", ""), actor=u)
        elif action == "forum":
            _need(request, "events.propose_invitee")
            ev.forum_invitees_select(
                event_id=e.pk,
                by=p.get("by", "top_points"),
                limit=_int(p.get("limit"), 20),
                age_min=_int(p.get("age_min")),
                age_max=_int(p.get("age_max")),
                actor=u,
            )
        elif action == "submit":
            _need(request, "events.propose_invitee")
            ev.invitee_list_submit(event_id=e.pk, actor=u)
        elif action in ("approve", "reject"):
            _need(request, "events.approve_invitees")
            ev.invitee_list_decide(
                event_id=e.pk, approve=action == "approve", note=p.get("note", ""), actor=u
            )
        elif action == "funnel":
            _need(request, "events.change_invitee")
            fav = {"1": True, "0": False}.get(p.get("favourable", ""))
            ev.invitee_funnel(invitee_id=inv_id, step=p.get("step", ""), favourable=fav, actor=u)
        elif action == "rsvp":
            _need(request, "events.change_invitee")
            ev.invitee_rsvp(
                invitee_id=inv_id,
                answer=p.get("answer", ""),
                party_size=_int(p.get("party_size"), 1),
                actor=u,
            )
        elif action == "sign_in":
            _need(request, "events.signin_invitee")
            ev.invitee_sign_in(invitee_id=inv_id, business_card=p.get("business_card", ""), actor=u)
        elif action == "budget":
            _need(request, "events.change_event")
            ev.budget_line_set(
                event_id=e.pk,
                category=p.get("category", ""),
                planned_fen=_fen(p.get("planned")),
                actual_fen=_fen(p.get("actual")),
                actor=u,
            )
        elif action == "task":
            _need(request, "events.change_event")
            ev.task_add(
                event_id=e.pk,
                department=p.get("department", ""),
                title=p.get("title", ""),
                due_at=_dt(p.get("due_at", "")),
                owner=get_user_model().objects.filter(pk=_int(p.get("owner"))).first(),
                actor=u,
            )
        elif action == "task_done":
            _need(request, "events.change_event")
            if e.tasks.filter(pk=_int(p.get("task"), 0)).exists():
                ev.task_done(task_id=_int(p.get("task")), actor=u)
        elif action == "target":
            _need(request, "events.change_event")
            user = get_user_model().objects.filter(pk=_int(p.get("user"))).first()
            if user is not None:
                ev.target_set(event_id=e.pk, user=user, sales_target_fen=_fen(p.get("target")) or 0, actor=u)
        elif action == "suggestion":
            _need(request, "events.add_suggestion")
            ev.suggestion_add(event_id=e.pk, text=p.get("text", ""), member=_member(p.get("member")), actor=u)
        else:
            raise Http404(action)
    except DomainError as exc:
        _error(request, exc)
    return redirect(reverse("events_event", args=[e.pk]) + ("#invitees" if inv_id else ""))


def _fen(value) -> int | None:
    """Yuan typed in → fen (None when empty)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return round(float(value) * 100)
    except ValueError:
        return -1
