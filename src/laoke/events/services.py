"""Writes of events: lotteries (the auditable draw of draw.py) and their prizes.

Lottery life cycle: draft → open → closed (entrant list frozen: a member-day lottery takes every
active member holding ≥ ``min_points`` (preset 5,000) at entry close, a card-number lottery every
active membership card, an event lottery the tickets handed out at sign-in) → committed (secret
seed drawn, ``sha256(seed)`` and the digests of the entrant and prize lists published; gift
prizes' stock taken out of the store) → drawn (seed revealed, winners recorded and awarded through
the catalog/promotions/points helpers with deterministic keys ``lottery:{id}:slot:{n}``; unused
gift stock given back). Drawing again returns the recorded result.

Appreciation events, invitee lists and forums are in ``event_services``.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime

from django.db import transaction

from laoke.catalog.models import GiftItem, Store
from laoke.catalog.services import _gift_stock_adjust
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.members.models import Member, MembershipCard
from laoke.points import lots
from laoke.points.models import PointsLot
from laoke.points.programme import active_programme, expiry_for
from laoke.points.selectors import members_with_points
from laoke.promotions.models import CouponTemplate
from laoke.promotions.services import _coupon_issue

from . import draw as algo
from .error_codes import LOTTERY_INVALID, LOTTERY_NO_PRIZES, LOTTERY_STATE, PRIZE_INVALID
from .models import MEMBER_DAY_MIN_POINTS, Entry, Lottery, Prize, Win

CHUNK = 2_000
S = Lottery.State

# Test-only hooks for the negative control of the race tests: skip the row lock and the "already
# drawn" check, pausing after the read so concurrent draws interleave every run.
_UNLOCKED_FOR_TESTS = False
_UNLOCKED_PAUSE = 0.0


def _lock(lottery_id: int) -> Lottery:
    qs = Lottery.objects.all() if _UNLOCKED_FOR_TESTS else Lottery.objects.select_for_update()
    try:
        lottery = qs.get(pk=lottery_id)
    except (Lottery.DoesNotExist, ValueError, TypeError):
        raise DomainError(NOT_FOUND) from None
    if _UNLOCKED_FOR_TESTS and _UNLOCKED_PAUSE:
        time.sleep(_UNLOCKED_PAUSE)
    return lottery


def _state(lottery: Lottery, *allowed: str) -> None:
    if lottery.state not in allowed:
        raise DomainError(LOTTERY_STATE, state=lottery.get_state_display(), details={"state": lottery.state})


def default_min_points(kind: str) -> int:
    return MEMBER_DAY_MIN_POINTS if kind == Lottery.Kind.MEMBER_DAY else 0


def _check_int(value, field: str, lo: int, hi: int, error=LOTTERY_INVALID) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DomainError(error, field=field)
    return value


def _lottery_create(
    *,
    name: str,
    kind: str,
    entry_opens_at: datetime,
    entry_closes_at: datetime,
    min_points: int | None = None,
    store: Store | None = None,
    event=None,
    actor=None,
) -> Lottery:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 120:
        raise DomainError(LOTTERY_INVALID, field="name")
    if kind not in Lottery.Kind.values:
        raise DomainError(LOTTERY_INVALID, field="kind")
    if not isinstance(entry_opens_at, datetime) or not isinstance(entry_closes_at, datetime):
        raise DomainError(LOTTERY_INVALID, field="entry_closes_at")
    if entry_closes_at <= entry_opens_at:
        raise DomainError(LOTTERY_INVALID, field="entry_closes_at")
    min_points = default_min_points(kind) if min_points is None else min_points
    _check_int(min_points, "min_points", 0, 10**9)
    lottery = Lottery.objects.create(
        name=name,
        kind=kind,
        event=event,
        store=store,
        min_points=min_points,
        entry_opens_at=entry_opens_at,
        entry_closes_at=entry_closes_at,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=clock.now(),
    )
    audit_write(
        action="lottery.create",
        obj=lottery,
        after={"name": name, "kind": kind, "min_points": min_points},
        actor=actor,
    )
    return lottery


def lottery_create(
    *,
    name: str,
    kind: str,
    entry_opens_at: datetime,
    entry_closes_at: datetime,
    min_points: int | None = None,
    store: Store | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Lottery:
    """A lottery in draft. ``min_points`` defaults to the preset (5,000 for a member-day lottery)."""
    with transaction.atomic(durable=True):
        lottery = _lottery_create(
            name=name,
            kind=kind,
            entry_opens_at=entry_opens_at,
            entry_closes_at=entry_closes_at,
            min_points=min_points,
            store=store,
            actor=actor,
        )
        idempotency.complete(idem, lottery)
    return lottery


def prize_add(
    *,
    lottery_id: int,
    tier: int,
    name: str,
    stock: int,
    kind: str = Prize.Kind.ONSITE,
    gift: GiftItem | None = None,
    coupon_template: CouponTemplate | None = None,
    points: int = 0,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Prize:
    """Add a prize tier; the prize list is frozen by the commitment."""
    _check_int(tier, "tier", 1, 99, PRIZE_INVALID)
    _check_int(stock, "stock", 1, 100_000, PRIZE_INVALID)
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        raise DomainError(PRIZE_INVALID, field="name")
    if kind not in Prize.Kind.values:
        raise DomainError(PRIZE_INVALID, field="kind")
    if kind == Prize.Kind.GIFT and gift is None:
        raise DomainError(PRIZE_INVALID, field="gift")
    if kind == Prize.Kind.COUPON and coupon_template is None:
        raise DomainError(PRIZE_INVALID, field="coupon_template")
    if kind == Prize.Kind.POINTS:
        _check_int(points, "points", 1, 10**7, PRIZE_INVALID)
    with transaction.atomic(durable=True):
        lottery = _lock(lottery_id)
        _state(lottery, S.DRAFT, S.OPEN, S.CLOSED)
        if kind == Prize.Kind.GIFT and lottery.store_id is None:
            raise DomainError(PRIZE_INVALID, field="store")
        prize = Prize.objects.create(
            lottery=lottery,
            tier=tier,
            name=name,
            stock=stock,
            kind=kind,
            gift=gift if kind == Prize.Kind.GIFT else None,
            coupon_template=coupon_template if kind == Prize.Kind.COUPON else None,
            points=points if kind == Prize.Kind.POINTS else 0,
        )
        audit_write(
            action="lottery.prize_add",
            obj=lottery,
            after={"prize": prize.pk, "tier": tier, "name": name, "stock": stock, "kind": kind},
            actor=actor,
        )
        idempotency.complete(idem, prize)
    return prize


def _lottery_open(lottery: Lottery, actor) -> None:
    _state(lottery, S.DRAFT)
    lottery.state = S.OPEN
    lottery.save(update_fields=["state"])
    audit_write(action="lottery.open", obj=lottery, after={"state": S.OPEN}, actor=actor)


def lottery_open(*, lottery_id: int, actor=None, idem: idempotency.Claim | None = None) -> Lottery:
    with transaction.atomic(durable=True):
        lottery = _lock(lottery_id)
        if lottery.state != S.OPEN:
            _lottery_open(lottery, actor)
        idempotency.complete(idem, lottery)
    return lottery


def _eligible_tickets(lottery: Lottery) -> list[tuple[int, str]]:
    """(member id, ticket) of the entrants the lottery's rule admits at entry close."""
    if lottery.kind == Lottery.Kind.MEMBER_DAY:
        return list(members_with_points(lottery.min_points).order_by("pk").values_list("pk", "code"))
    if lottery.kind == Lottery.Kind.CARD_NUMBER:
        cards = MembershipCard.objects.filter(
            state=MembershipCard.State.ACTIVE, member__status=Member.Status.ACTIVE
        )
        if lottery.min_points:
            cards = cards.filter(member__in=members_with_points(lottery.min_points))
        return list(cards.order_by("member_id").values_list("member_id", "number"))
    return []


def _lottery_close(lottery: Lottery, actor, now: datetime) -> None:
    _state(lottery, S.OPEN)
    source = Entry.Source.CARD if lottery.kind == Lottery.Kind.CARD_NUMBER else Entry.Source.ELIGIBLE
    rows = _eligible_tickets(lottery)
    for i in range(0, len(rows), CHUNK):
        Entry.objects.bulk_create(
            [
                Entry(lottery=lottery, member_id=m, ticket=t, source=source, created_at=now)
                for m, t in rows[i : i + CHUNK]
            ]
        )
    lottery.entrant_count = Entry.objects.filter(lottery=lottery).count()
    lottery.state = S.CLOSED
    lottery.closed_at = now
    lottery.save(update_fields=["state", "closed_at", "entrant_count"])
    audit_write(
        action="lottery.close",
        obj=lottery,
        after={"state": S.CLOSED, "entrants": lottery.entrant_count},
        actor=actor,
    )


def lottery_close(*, lottery_id: int, actor=None, idem: idempotency.Claim | None = None) -> Lottery:
    """Close the entries and freeze the entrant list (eligibility evaluated now)."""
    with transaction.atomic(durable=True):
        lottery = _lock(lottery_id)
        if lottery.state == S.DRAFT:
            _lottery_open(lottery, actor)
        _lottery_close(lottery, actor, clock.now())
        idempotency.complete(idem, lottery)
    return lottery


def lottery_tick(now: datetime) -> dict[str, int]:
    """Open lotteries whose entry window began; close those whose window ended (member day)."""
    opened = closed = 0
    for pk in (
        Lottery.objects.filter(state=S.DRAFT, entry_opens_at__lte=now, prizes__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
    ):
        with transaction.atomic(durable=True):
            lottery = _lock(pk)
            if lottery.state == S.DRAFT:
                _lottery_open(lottery, None)
                opened += 1
    for pk in (
        Lottery.objects.filter(state=S.OPEN, entry_closes_at__lte=now)
        .exclude(kind=Lottery.Kind.EVENT)
        .values_list("pk", flat=True)
    ):
        with transaction.atomic(durable=True):
            lottery = _lock(pk)
            if lottery.state == S.OPEN:
                _lottery_close(lottery, None, now)
                closed += 1
    return {"opened": opened, "closed": closed}


def prize_tuples(lottery: Lottery) -> tuple[list[Prize], list[tuple[int, str, int]]]:
    prizes = list(Prize.objects.filter(lottery=lottery).order_by("tier", "pk"))
    return prizes, [(p.tier, p.name, p.stock) for p in prizes]


def canonical_entrants(lottery: Lottery) -> list[str]:
    return algo.canonical_tickets(Entry.objects.filter(lottery=lottery).values_list("ticket", flat=True))


def lottery_commit(*, lottery_id: int, actor=None, idem: idempotency.Claim | None = None) -> Lottery:
    """Draw the secret seed and publish its SHA-256 with the digests of the frozen entrant and
    prize lists; take gift prizes out of the store's stock. Committing again changes nothing."""
    with transaction.atomic(durable=True):
        lottery = _lock(lottery_id)
        if lottery.state == S.OPEN:
            _lottery_close(lottery, actor, clock.now())
        if lottery.state not in (S.COMMITTED, S.DRAWN):
            _state(lottery, S.CLOSED)
            prizes, tuples = prize_tuples(lottery)
            if not prizes:
                raise DomainError(LOTTERY_NO_PRIZES)
            tickets = canonical_entrants(lottery)
            seed = secrets.token_hex(32)
            lottery.seed = seed
            lottery.seed_hash = algo.seed_hash(seed)
            lottery.entrants_digest = algo.entrants_digest(tickets)
            lottery.prizes_digest = algo.prizes_digest(tuples)
            lottery.entrant_count = len(tickets)
            lottery.state = S.COMMITTED
            lottery.committed_at = clock.now()
            lottery.save(
                update_fields=[
                    "seed",
                    "seed_hash",
                    "entrants_digest",
                    "prizes_digest",
                    "entrant_count",
                    "state",
                    "committed_at",
                ]
            )
            for p in prizes:
                if p.kind == Prize.Kind.GIFT:
                    _gift_stock_adjust(
                        gift=p.gift,
                        store=lottery.store,
                        delta=-p.stock,
                        reason=f"lottery {lottery.pk} prize {p.pk}",
                        actor=actor,
                    )
            audit_write(
                action="lottery.commit",
                obj=lottery,
                after={
                    "seed_hash": lottery.seed_hash,
                    "entrants_digest": lottery.entrants_digest,
                    "prizes_digest": lottery.prizes_digest,
                    "entrants": lottery.entrant_count,
                },
                actor=actor,
            )
        idempotency.complete(idem, lottery)
    return lottery


def _award(lottery: Lottery, win: Win, prize: Prize, member: Member, now: datetime) -> None:
    if prize.kind == Prize.Kind.COUPON:
        win.coupon = _coupon_issue(
            template=prize.coupon_template, member=member, channel="lottery", key=win.award_key, now=now
        )
    elif prize.kind == Prize.Kind.POINTS:
        lots._credit(
            member=member,
            amount=prize.points,
            key=win.award_key,
            reason="events.lottery_prize",
            kind=PointsLot.Kind.ADJUST,
            reference=f"lottery {lottery.pk}",
            expires_at=expiry_for(active_programme(), now),
            at=now,
        )


def lottery_draw(*, lottery_id: int, actor=None, idem: idempotency.Claim | None = None) -> Lottery:
    """Reveal the seed, record the winners of the deterministic draw and award the prizes.
    Idempotent: a drawn lottery is returned as it is."""
    with transaction.atomic(durable=True):
        lottery = _lock(lottery_id)
        if lottery.state != S.DRAWN or _UNLOCKED_FOR_TESTS:
            _state(lottery, S.COMMITTED, *((S.DRAWN,) if _UNLOCKED_FOR_TESTS else ()))
            now = clock.now()
            prizes, tuples = prize_tuples(lottery)
            tickets = canonical_entrants(lottery)
            if algo.entrants_digest(tickets) != lottery.entrants_digest:
                raise RuntimeError(f"lottery {lottery.pk}: entrant list changed after the commitment")
            winners = algo.draw(lottery.seed, tickets, tuples)
            # Only the winners' rows are loaded (a member-day lottery may have 100,000 entrants).
            won = [t for _s, t, _i in winners]
            entries = {
                e.ticket: e
                for i in range(0, len(won), CHUNK)
                for e in Entry.objects.filter(lottery=lottery, ticket__in=won[i : i + CHUNK]).select_related(
                    "member"
                )
            }
            used: dict[int, int] = {}
            for slot, ticket, idx in winners:
                prize = prizes[idx]
                entry = entries[ticket]
                win = Win(
                    lottery=lottery,
                    slot=slot,
                    entry=entry,
                    prize=prize,
                    award_key=f"lottery:{lottery.pk}:slot:{slot}",
                )
                _award(lottery, win, prize, entry.member, now)
                win.save()
                used[prize.pk] = used.get(prize.pk, 0) + 1
            for p in prizes:
                left = p.stock - used.get(p.pk, 0)
                if p.kind == Prize.Kind.GIFT and left > 0:
                    _gift_stock_adjust(
                        gift=p.gift,
                        store=lottery.store,
                        delta=left,
                        reason=f"lottery {lottery.pk} prize {p.pk} not won",
                        actor=actor,
                    )
            lottery.state = S.DRAWN
            lottery.drawn_at = now
            lottery.save(update_fields=["state", "drawn_at"])
            audit_write(
                action="lottery.draw",
                obj=lottery,
                after={"seed": lottery.seed, "winners": [[s, t] for s, t, _ in winners]},
                actor=actor,
            )
        idempotency.complete(idem, lottery)
    return lottery
