"""Reads of events: lotteries (export and verification of a draw), event funnel, RSVP tally,
materials, attributed sales and the event report."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum

from laoke.core import clock
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.orders.models import Order, OrderStatus

from . import draw as algo
from .error_codes import LOTTERY_FILE_INVALID, LOTTERY_SEED_INVALID
from .models import BudgetLine, Entry, Event, Invitee, Lottery, Prize, StaffTarget, Win


def lotteries():
    return Lottery.objects.select_related("event").order_by("-pk")


def lottery_get(lottery_id) -> Lottery:
    try:
        return Lottery.objects.select_related("event", "store").get(pk=lottery_id)
    except (Lottery.DoesNotExist, ValueError, TypeError):
        raise DomainError(NOT_FOUND) from None


def prizes_of(lottery: Lottery) -> list[Prize]:
    return list(Prize.objects.filter(lottery=lottery).order_by("tier", "pk"))


def winners_of(lottery: Lottery) -> list[Win]:
    return list(
        Win.objects.filter(lottery=lottery)
        .select_related("entry__member", "prize", "coupon")
        .order_by("slot")
    )


def public_seed(lottery: Lottery) -> str:
    """The seed is secret until the draw."""
    return lottery.seed if lottery.state == Lottery.State.DRAWN else ""


def lottery_export(lottery: Lottery) -> dict:
    """Everything needed to re-run the draw elsewhere (draw.verify_export): the commitment, the
    canonical entrant list, the prize list and, once drawn, the seed and the recorded winners."""
    tickets = algo.canonical_tickets(Entry.objects.filter(lottery=lottery).values_list("ticket", flat=True))
    doc = {
        "algorithm": algo.VERSION,
        "lottery": lottery.pk,
        "name": lottery.name,
        "state": lottery.state,
        "seed_hash": lottery.seed_hash,
        "entrants_digest": lottery.entrants_digest,
        "prizes_digest": lottery.prizes_digest,
        "prizes": [{"tier": p.tier, "name": p.name, "stock": p.stock} for p in prizes_of(lottery)],
        "entrants": tickets,
        "seed": public_seed(lottery) or None,
        "winners": None,
    }
    if lottery.state == Lottery.State.DRAWN:
        doc["winners"] = [
            {"slot": w.slot, "ticket": w.entry.ticket, "tier": w.prize.tier, "prize": w.prize.name}
            for w in winners_of(lottery)
        ]
    return doc


def lottery_export_json(lottery: Lottery) -> str:
    return json.dumps(lottery_export(lottery), ensure_ascii=False, indent=1)


def lottery_export_csv(lottery: Lottery) -> str:
    """One ticket per line under a ``ticket`` header, canonical order."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["ticket"])
    for t in lottery_export(lottery)["entrants"]:
        w.writerow([t])
    return out.getvalue()


def parse_entrants_file(text: str) -> tuple[list[str], dict | None]:
    """Tickets from an exported file: the JSON export (returned as the document too) or a CSV
    with a ``ticket`` column (or one ticket per line)."""
    text = text.lstrip("\ufeff")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
            return [str(t) for t in doc["entrants"]], doc
        except (ValueError, KeyError, TypeError) as exc:
            raise DomainError(LOTTERY_FILE_INVALID, reason=str(exc)[:100]) from None
    rows = [r for r in csv.reader(io.StringIO(text)) if r and r[0].strip()]
    if rows and rows[0][0].strip().lower() == "ticket":
        rows = rows[1:]
    return [r[0].strip() for r in rows], None


@dataclass
class LotteryCheck:
    verification: algo.Verification | None
    seed: str
    source: str
    winners: list[dict] = field(default_factory=list)


def lottery_verify(
    lottery: Lottery, *, seed: str | None = None, tickets: list[str] | None = None
) -> LotteryCheck:
    """Re-run the draw from ``seed`` (default: the revealed one) and ``tickets`` (default: the
    entrant list as exported now) against the published commitment and the recorded winners."""
    seed = (seed or public_seed(lottery) or "").strip().lower()
    if len(seed) != 64 or any(c not in "0123456789abcdef" for c in seed):
        raise DomainError(LOTTERY_SEED_INVALID, field="seed")
    source = "file" if tickets is not None else "database"
    if tickets is None:
        tickets = list(Entry.objects.filter(lottery=lottery).values_list("ticket", flat=True))
    prizes = prizes_of(lottery)
    recorded = None
    if lottery.state == Lottery.State.DRAWN:
        recorded = list(Win.objects.filter(lottery=lottery).values_list("slot", "entry__ticket"))
    v = algo.verify(
        seed_hex=seed,
        committed_seed_hash=lottery.seed_hash,
        committed_entrants_digest=lottery.entrants_digest,
        committed_prizes_digest=lottery.prizes_digest,
        tickets=tickets,
        prizes=[(p.tier, p.name, p.stock) for p in prizes],
        recorded=recorded,
    )
    winners = [
        {"slot": s, "ticket": t, "tier": prizes[i].tier, "prize": prizes[i].name} for s, t, i in v.winners
    ]
    return LotteryCheck(v, seed, source, winners)


# --- events ----------------------------------------------------------------------------------------


def events():
    return Event.objects.select_related("venue_store").order_by("-starts_at", "-pk")


def event_get(event_id) -> Event:
    try:
        return Event.objects.select_related("venue_store", "voucher_template").get(pk=event_id)
    except (Event.DoesNotExist, ValueError, TypeError):
        raise DomainError(NOT_FOUND) from None


def invitees_of(event: Event):
    return Invitee.objects.filter(event=event).select_related("member", "proposed_by", "entry").order_by("pk")


def funnel_counts(event: Event) -> dict[str, int]:
    """How many invitees reached each step of the invitation funnel."""
    return Invitee.objects.filter(event=event).aggregate(
        invited=Count("pk"),
        interviewed=Count("pk", filter=Q(interviewed_at__isnull=False)),
        favourable=Count("pk", filter=Q(favourable=True)),
        visited=Count("pk", filter=Q(visited_at__isnull=False)),
        letter=Count("pk", filter=Q(letter_at__isnull=False)),
        confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)),
        attended=Count("pk", filter=Q(signed_in_at__isnull=False)),
    )


def rsvp_tally(event: Event) -> dict[str, dict[str, int]]:
    """Per answer: invitees and persons (party sizes)."""
    out = {a: {"invitees": 0, "persons": 0} for a in Invitee.Rsvp.values}
    for row in (
        Invitee.objects.filter(event=event).values("rsvp").annotate(n=Count("pk"), persons=Sum("party_size"))
    ):
        out[row["rsvp"]] = {"invitees": row["n"], "persons": row["persons"] or 0}
    return out


# Materials per expected guest (seed 002: corsages by the head count the marketing department
# reports two days before, gift bags, sign-in and seats); 10 % spare, rounded up.
MATERIALS_PER_GUEST = (("corsage", 1), ("gift_bag", 1), ("seat", 1), ("lottery_ticket", 1))
SPARE_BP = 1_000


def materials(event: Event, now: datetime | None = None) -> dict:
    """Materials sized from the RSVP tally: final once the RSVP deadline has passed."""
    now = now or clock.now()
    tally = rsvp_tally(event)
    guests = tally["yes"]["persons"] + tally["maybe"]["persons"]
    sized = -(-guests * (10_000 + SPARE_BP) // 10_000)
    return {
        "final": now > event.rsvp_deadline,
        "guests": guests,
        "items": [{"item": k, "quantity": sized * n} for k, n in MATERIALS_PER_GUEST],
    }


def _day_window(event: Event) -> tuple[datetime, datetime]:
    local = clock.to_local(event.starts_at)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def attributed_orders(event: Event):
    """On-site sales attributed to the event: orders of the guests who signed in, at the venue
    store, created on the event day (shop time), not cancelled."""
    start, end = _day_window(event)
    attendees = Invitee.objects.filter(event=event, signed_in_at__isnull=False).values("member_id")
    return Order.objects.filter(
        member_id__in=attendees,
        store_id=event.venue_store_id,
        created_at__gte=start,
        created_at__lt=end,
    ).exclude(status=OrderStatus.CANCELLED)


def event_sales(event: Event) -> dict:
    agg = attributed_orders(event).aggregate(
        n=Count("pk"), total=Sum("total_fen"), refunded=Sum("refunded_fen")
    )
    total = (agg["total"] or 0) - (agg["refunded"] or 0)
    return {"orders": agg["n"], "sales_fen": total}


def staff_achievement(event: Event) -> list[dict]:
    """Each staff target: attributed sales the staff member settled (orders.created_by),
    achievement in basis points and the reward of the highest threshold reached."""
    rows = {
        r["created_by"]: (r["total"] or 0) - (r["refunded"] or 0)
        for r in attributed_orders(event)
        .values("created_by")
        .annotate(total=Sum("total_fen"), refunded=Sum("refunded_fen"))
    }
    out = []
    for t in StaffTarget.objects.filter(event=event).select_related("user").order_by("pk"):
        actual = rows.get(t.user_id, 0)
        bp = actual * 10_000 // t.sales_target_fen
        reward = next((fen for thr, fen in sorted(t.reward_rules, reverse=True) if bp >= thr), 0)
        out.append(
            {
                "user": t.user.get_username(),
                "target_fen": t.sales_target_fen,
                "actual_fen": actual,
                "achievement_bp": bp,
                "reward_fen": reward,
            }
        )
    return out


def budget(event: Event) -> dict:
    lines = [
        {
            "category": b.category,
            "label": b.get_category_display(),
            "planned_fen": b.planned_fen,
            "actual_fen": b.actual_fen,
        }
        for b in BudgetLine.objects.filter(event=event).order_by("pk")
    ]
    return {
        "lines": lines,
        "planned_fen": sum(x["planned_fen"] for x in lines),
        "actual_fen": sum(x["actual_fen"] for x in lines),
    }


def event_report(event: Event) -> dict:
    funnel = funnel_counts(event)
    tally = rsvp_tally(event)
    return {
        "invited": funnel["invited"],
        "confirmed": tally["yes"]["invitees"],
        "confirmed_persons": tally["yes"]["persons"],
        "attended": funnel["attended"],
        "funnel": funnel,
        "rsvp": tally,
        "sales": event_sales(event),
        "budget": budget(event),
        "staff": staff_achievement(event),
        "tasks_open": event.tasks.filter(done_at__isnull=True).count(),
        "tasks_done": event.tasks.filter(done_at__isnull=False).count(),
        "suggestions": event.suggestions.count(),
    }
