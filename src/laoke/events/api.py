"""/api/v1/events (thin adapters over services and selectors): lotteries with the auditable draw
(commit → draw → verify, entrant list export), appreciation events and forums (invitee list and
its approval by the general manager, invitation funnel, RSVP, sign-in, budget, tasks, staff
targets, suggestions, report).

Drawing a lottery and signing a guest in move value (prizes, vouchers): both require an
``Idempotency-Key``; every other write accepts one."""

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from ninja import Router, Schema, Status

from laoke.catalog.models import GiftItem, Store
from laoke.core.api import idempotent_write, require
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.members.models import Member
from laoke.promotions.models import CouponTemplate

from . import event_services as ev
from . import selectors, services
from .models import Event, Lottery

router = Router(tags=["events"])
READ, WRITE, VALUE = "campaigns:read", "campaigns:write", "value:write"


def _iso(dt):
    return dt.isoformat() if dt else None


def _get(model, pk, field: str):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise DomainError(NOT_FOUND, field=field)
    return obj


# --- lotteries ----------------------------------------------------------------------------------


class LotteryIn(Schema):
    name: str
    kind: Literal["member_day", "card_number", "event"]
    entry_opens_at: datetime
    entry_closes_at: datetime
    min_points: int | None = None
    store_id: int | None = None


class PrizeIn(Schema):
    tier: int
    name: str
    stock: int
    kind: Literal["onsite", "gift", "coupon", "points"] = "onsite"
    gift_id: int | None = None
    coupon_template_id: int | None = None
    points: int = 0


class VerifyIn(Schema):
    seed: str | None = None
    entrants: str | None = None  # the exported file's text (JSON or CSV); default: as exported now


def lottery_out(lot: Lottery, *, winners: bool = True) -> dict[str, Any]:
    out = {
        "id": lot.pk,
        "name": lot.name,
        "kind": lot.kind,
        "state": lot.state,
        "event_id": lot.event_id,
        "min_points": lot.min_points,
        "entry_opens_at": _iso(lot.entry_opens_at),
        "entry_closes_at": _iso(lot.entry_closes_at),
        "entrant_count": lot.entrant_count,
        "seed_hash": lot.seed_hash,
        "entrants_digest": lot.entrants_digest,
        "prizes_digest": lot.prizes_digest,
        "seed": selectors.public_seed(lot) or None,
        "committed_at": _iso(lot.committed_at),
        "drawn_at": _iso(lot.drawn_at),
        "prizes": [
            {"id": p.pk, "tier": p.tier, "name": p.name, "stock": p.stock, "kind": p.kind}
            for p in selectors.prizes_of(lot)
        ],
    }
    if winners:
        out["winners"] = [
            {
                "slot": w.slot,
                "ticket": w.entry.ticket,
                "member_id": w.entry.member_id,
                "tier": w.prize.tier,
                "prize": w.prize.name,
            }
            for w in selectors.winners_of(lot)
        ]
    return out


def _write(request, scope, payload, call, status=200, required=False, render=lottery_out):
    return idempotent_write(
        request,
        scope=scope,
        payload=payload,
        call=call,
        render=lambda o: (status, render(o)),
        required=required,
    )


@router.get("/lotteries", response=list[dict[str, Any]])
@require("events.view_lottery", READ)
def lottery_list(request):
    return [lottery_out(x, winners=False) for x in selectors.lotteries()[:200]]


@router.post("/lotteries", response={201: dict[str, Any]})
@require("events.add_lottery", WRITE)
def lottery_create(request, payload: LotteryIn):
    store = _get(Store, payload.store_id, "store_id")
    data = payload.dict()
    return _write(
        request,
        "events.lottery_create",
        {
            **data,
            "entry_opens_at": _iso(payload.entry_opens_at),
            "entry_closes_at": _iso(payload.entry_closes_at),
        },
        lambda idem: services.lottery_create(
            name=payload.name,
            kind=payload.kind,
            entry_opens_at=payload.entry_opens_at,
            entry_closes_at=payload.entry_closes_at,
            min_points=payload.min_points,
            store=store,
            actor=request.user,
            idem=idem,
        ),
        status=201,
    )


@router.get("/lotteries/{int:lottery_id}", response=dict[str, Any])
@require("events.view_lottery", READ)
def lottery_detail(request, lottery_id: int):
    return lottery_out(selectors.lottery_get(lottery_id))


@router.post("/lotteries/{int:lottery_id}/prizes", response={201: dict[str, Any]})
@require("events.change_lottery", WRITE)
def prize_add(request, lottery_id: int, payload: PrizeIn):
    gift = _get(GiftItem, payload.gift_id, "gift_id")
    tpl = _get(CouponTemplate, payload.coupon_template_id, "coupon_template_id")

    return _write(
        request,
        "events.prize_add",
        {"lottery": lottery_id, **payload.dict()},
        lambda idem: services.prize_add(
            lottery_id=lottery_id,
            tier=payload.tier,
            name=payload.name,
            stock=payload.stock,
            kind=payload.kind,
            gift=gift,
            coupon_template=tpl,
            points=payload.points,
            actor=request.user,
            idem=idem,
        ),
        status=201,
        render=lambda p: lottery_out(p.lottery, winners=False),
    )


def _step(request, lottery_id: int, name: str, fn, required: bool = False):
    return _write(
        request,
        f"events.lottery_{name}",
        {"lottery": lottery_id},
        lambda idem: fn(lottery_id=lottery_id, actor=request.user, idem=idem),
        required=required,
    )


@router.post("/lotteries/{int:lottery_id}/open", response=dict[str, Any])
@require("events.change_lottery", WRITE)
def lottery_open(request, lottery_id: int):
    return _step(request, lottery_id, "open", services.lottery_open)


@router.post("/lotteries/{int:lottery_id}/close", response=dict[str, Any])
@require("events.change_lottery", WRITE)
def lottery_close(request, lottery_id: int):
    return _step(request, lottery_id, "close", services.lottery_close)


@router.post("/lotteries/{int:lottery_id}/commit", response=dict[str, Any])
@require("events.draw_lottery", WRITE)
def lottery_commit(request, lottery_id: int):
    """Freeze the entrant list and publish sha256(seed) with the entrant and prize digests."""
    return _step(request, lottery_id, "commit", services.lottery_commit)


@router.post("/lotteries/{int:lottery_id}/draw", response=dict[str, Any])
@require("events.draw_lottery", VALUE)
def lottery_draw(request, lottery_id: int):
    """Reveal the seed, record and award the winners (Idempotency-Key required)."""
    return _step(request, lottery_id, "draw", services.lottery_draw, required=True)


@router.get("/lotteries/{int:lottery_id}/entrants")
@require("events.view_lottery", READ)
def lottery_entrants(request, lottery_id: int, format: Literal["json", "csv"] = "json"):
    """The entrant list to verify the draw elsewhere (JSON: with the commitment and prizes)."""
    lot = selectors.lottery_get(lottery_id)
    if format == "csv":
        resp = HttpResponse(selectors.lottery_export_csv(lot), content_type="text/csv; charset=utf-8")
    else:
        resp = HttpResponse(
            selectors.lottery_export_json(lot), content_type="application/json; charset=utf-8"
        )
    resp["Content-Disposition"] = f'attachment; filename="lottery-{lot.pk}-entrants.{format}"'
    return resp


@router.post("/lotteries/{int:lottery_id}/verify", response=dict[str, Any])
@require("events.view_lottery", READ)
def lottery_verify(request, lottery_id: int, payload: VerifyIn):
    """Re-run the draw from the seed and the entrant list; compare with the commitment and the
    recorded winners."""
    lot = selectors.lottery_get(lottery_id)
    tickets = selectors.parse_entrants_file(payload.entrants)[0] if payload.entrants else None
    check = selectors.lottery_verify(lot, seed=payload.seed, tickets=tickets)
    v = check.verification
    return {
        "verified": v.ok,
        "commitment_ok": v.commitment_ok,
        "entrants_ok": v.entrants_ok,
        "prizes_ok": v.prizes_ok,
        "winners_ok": v.winners_ok,
        "problems": v.problems,
        "winners": check.winners,
    }


# --- events ---------------------------------------------------------------------------------------


class EventIn(Schema):
    name: str
    kind: Literal["appreciation", "forum"] = "appreciation"
    starts_at: datetime
    venue_store_id: int
    rsvp_deadline: datetime | None = None
    voucher_template_id: int | None = None
    promotion: str = ""


class InviteeIn(Schema):
    member_id: int
    department: str


class ForumSelectIn(Schema):
    by: Literal["top_points", "age_band"]
    limit: int = 20
    age_min: int | None = None
    age_max: int | None = None


class DecideIn(Schema):
    approve: bool
    note: str = ""


class FunnelIn(Schema):
    step: Literal["interview", "visit", "letter", "confirm"]
    favourable: bool | None = None


class RsvpIn(Schema):
    answer: Literal["yes", "no", "maybe"]
    party_size: int = 1


class SignInIn(Schema):
    business_card: str = ""


class BudgetIn(Schema):
    category: Literal["catering", "gifts", "programme", "misc"]
    planned_fen: int | None = None
    actual_fen: int | None = None
    note: str | None = None


class TaskIn(Schema):
    department: str
    title: str
    due_at: datetime
    owner_id: int | None = None


class TargetIn(Schema):
    user_id: int
    sales_target_fen: int
    reward_rules: list[list[int]] | None = None


class SuggestionIn(Schema):
    text: str
    member_id: int | None = None


def event_out(e: Event) -> dict[str, Any]:
    lottery = Lottery.objects.filter(event=e).first()
    return {
        "id": e.pk,
        "name": e.name,
        "kind": e.kind,
        "starts_at": _iso(e.starts_at),
        "rsvp_deadline": _iso(e.rsvp_deadline),
        "venue_store_id": e.venue_store_id,
        "voucher_template_id": e.voucher_template_id,
        "promotion": e.promotion,
        "list_state": e.list_state,
        "lottery_id": lottery.pk if lottery else None,
        "programme": [{"position": p.position, "kind": p.kind, "title": p.title} for p in e.programme.all()],
    }


def invitee_out(i) -> dict[str, Any]:
    return {
        "id": i.pk,
        "member_id": i.member_id,
        "department": i.department,
        "favourable": i.favourable,
        "interviewed_at": _iso(i.interviewed_at),
        "visited_at": _iso(i.visited_at),
        "letter_at": _iso(i.letter_at),
        "confirmed_at": _iso(i.confirmed_at),
        "rsvp": i.rsvp,
        "party_size": i.party_size,
        "signed_in_at": _iso(i.signed_in_at),
        "voucher_id": i.voucher_id,
        "ticket": i.entry.ticket if i.entry_id else None,
    }


@router.get("", response=list[dict[str, Any]])
@require("events.view_event", READ)
def event_list(request):
    return [event_out(e) for e in selectors.events()[:200]]


@router.post("", response={201: dict[str, Any]})
@require("events.add_event", WRITE)
def event_create(request, payload: EventIn):
    store = _get(Store, payload.venue_store_id, "venue_store_id")
    tpl = _get(CouponTemplate, payload.voucher_template_id, "voucher_template_id")
    return _write(
        request,
        "events.event_create",
        {
            **payload.dict(),
            "starts_at": _iso(payload.starts_at),
            "rsvp_deadline": _iso(payload.rsvp_deadline),
        },
        lambda idem: ev.event_create(
            name=payload.name,
            kind=payload.kind,
            starts_at=payload.starts_at,
            venue_store=store,
            rsvp_deadline=payload.rsvp_deadline,
            voucher_template=tpl,
            promotion=payload.promotion,
            actor=request.user,
            idem=idem,
        ),
        status=201,
        render=event_out,
    )


@router.get("/{int:event_id}", response=dict[str, Any])
@require("events.view_event", READ)
def event_detail(request, event_id: int):
    return event_out(selectors.event_get(event_id))


@router.get("/{int:event_id}/report", response=dict[str, Any])
@require("events.view_event", READ)
def event_report(request, event_id: int):
    e = selectors.event_get(event_id)
    return {**selectors.event_report(e), "materials": selectors.materials(e)}


@router.get("/{int:event_id}/invitees", response=list[dict[str, Any]])
@require("events.view_invitee", READ)
def invitee_list(request, event_id: int):
    return [invitee_out(i) for i in selectors.invitees_of(selectors.event_get(event_id))]


@router.post("/{int:event_id}/invitees", response={201: dict[str, Any]})
@require("events.propose_invitee", WRITE)
def invitee_add(request, event_id: int, payload: InviteeIn):
    member = _get(Member, payload.member_id, "member_id")
    inv = ev.invitee_add(event_id=event_id, member=member, department=payload.department, actor=request.user)
    return Status(201, invitee_out(inv))


@router.post("/{int:event_id}/forum-invitees", response={201: list[dict[str, Any]]})
@require("events.propose_invitee", WRITE)
def forum_select(request, event_id: int, payload: ForumSelectIn):
    out = ev.forum_invitees_select(event_id=event_id, actor=request.user, **payload.dict())
    return Status(201, [invitee_out(i) for i in out])


@router.post("/{int:event_id}/invitees/submit", response=dict[str, Any])
@require("events.propose_invitee", WRITE)
def invitee_list_submit(request, event_id: int):
    return event_out(ev.invitee_list_submit(event_id=event_id, actor=request.user))


@router.post("/{int:event_id}/invitees/decide", response=dict[str, Any])
@require("events.approve_invitees", WRITE)
def invitee_list_decide(request, event_id: int, payload: DecideIn):
    """The general manager's decision; the submitting role (and person) is refused."""
    e = ev.invitee_list_decide(
        event_id=event_id, approve=payload.approve, note=payload.note, actor=request.user
    )
    return event_out(e)


@router.post("/invitees/{int:invitee_id}/funnel", response=dict[str, Any])
@require("events.change_invitee", WRITE)
def invitee_funnel(request, invitee_id: int, payload: FunnelIn):
    inv = ev.invitee_funnel(
        invitee_id=invitee_id, step=payload.step, favourable=payload.favourable, actor=request.user
    )
    return invitee_out(inv)


@router.post("/invitees/{int:invitee_id}/rsvp", response=dict[str, Any])
@require("events.change_invitee", WRITE)
def invitee_rsvp(request, invitee_id: int, payload: RsvpIn):
    inv = ev.invitee_rsvp(
        invitee_id=invitee_id, answer=payload.answer, party_size=payload.party_size, actor=request.user
    )
    return invitee_out(inv)


@router.post("/invitees/{int:invitee_id}/sign-in", response=dict[str, Any])
@require("events.signin_invitee", VALUE)
def invitee_sign_in(request, invitee_id: int, payload: SignInIn):
    """签到: one gift voucher and one lottery ticket per guest (Idempotency-Key required)."""
    return _write(
        request,
        "events.sign_in",
        {"invitee": invitee_id, **payload.dict()},
        lambda idem: ev.invitee_sign_in(
            invitee_id=invitee_id, business_card=payload.business_card, actor=request.user, idem=idem
        ),
        required=True,
        render=invitee_out,
    )


@router.post("/{int:event_id}/budget", response=dict[str, Any])
@require("events.change_event", WRITE)
def budget_set(request, event_id: int, payload: BudgetIn):
    ev.budget_line_set(event_id=event_id, actor=request.user, **payload.dict())
    return selectors.budget(selectors.event_get(event_id))


@router.post("/{int:event_id}/tasks", response={201: dict[str, Any]})
@require("events.change_event", WRITE)
def task_add(request, event_id: int, payload: TaskIn):
    owner = _get(get_user_model(), payload.owner_id, "owner_id")
    t = ev.task_add(
        event_id=event_id,
        department=payload.department,
        title=payload.title,
        due_at=payload.due_at,
        owner=owner,
        actor=request.user,
    )
    return Status(201, {"id": t.pk, "title": t.title, "due_at": _iso(t.due_at), "done_at": None})


@router.post("/tasks/{int:task_id}/done", response=dict[str, Any])
@require("events.change_event", WRITE)
def task_done(request, task_id: int):
    t = ev.task_done(task_id=task_id, actor=request.user)
    return {"id": t.pk, "title": t.title, "due_at": _iso(t.due_at), "done_at": _iso(t.done_at)}


@router.post("/{int:event_id}/targets", response=dict[str, Any])
@require("events.change_event", WRITE)
def target_set(request, event_id: int, payload: TargetIn):
    user = _get(get_user_model(), payload.user_id, "user_id")
    t = ev.target_set(
        event_id=event_id,
        user=user,
        sales_target_fen=payload.sales_target_fen,
        reward_rules=payload.reward_rules,
        actor=request.user,
    )
    return {"user_id": t.user_id, "sales_target_fen": t.sales_target_fen, "reward_rules": t.reward_rules}


@router.post("/{int:event_id}/suggestions", response={201: dict[str, Any]})
@require("events.add_suggestion", WRITE)
def suggestion_add(request, event_id: int, payload: SuggestionIn):
    member = _get(Member, payload.member_id, "member_id")
    s = ev.suggestion_add(event_id=event_id, text=payload.text, member=member, actor=request.user)
    return Status(201, {"id": s.pk, "text": s.text, "member_id": s.member_id})
