"""``points_tick(now)``: the scheduled work of the points app (Huey calls it every 10 minutes).

1. Expiry. Lots past ``expires_at`` with points left are expired in chunks, one short durable
   transaction per chunk: the chunk's member accounts are locked in primary-key order, each lot
   is emptied by a guarded UPDATE (``remaining = x``) and its points go to the ``points_breakage``
   system account by a ledger transfer keyed ``expire:{lot_id}``. Running twice, or two workers
   at once, expires nothing twice (the guarded UPDATE and the unique key both say no); a crash
   loses at most the chunk in flight, which the next tick redoes.
2. Reminders. Members with points expiring within ``reminder_days`` get one message through the
   outbox per expiry day (purpose ``points.expiry:{date}``, unique per member in the outbox), and
   the lots are stamped ``reminded_at`` so a later tick does not count them again.
3. Repair: a permanent-member redemption whose member flag is unset (a crash between the
   redemption's commit and ``member_mark_permanent``) is marked again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Min, Sum

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.ledger.models import Account
from laoke.ledger.services import _transfer, system_account
from laoke.members.models import Member
from laoke.messaging.models import Message
from laoke.messaging.services import _message_enqueue

from .models import GiftRedemption, LotConsumption, PointsLot, PointsProgramme

CHUNK = 200  # ≈ 0.5 s of SQLite write transaction per chunk (bench/points.py), ARCHITECTURE rule 3


def _due_ids(now: datetime, chunk: int) -> list[int]:
    return list(
        PointsLot.objects.filter(expires_at__lte=now, remaining__gt=0)
        .exclude(kind=PointsLot.Kind.DEFICIT)
        .order_by("id")
        .values_list("pk", flat=True)[:chunk]
    )


def _expire_chunk(ids: list[int], now: datetime) -> tuple[int, int]:
    """Expire the given lots (those still due). Needs its own transaction; returns (lots, points)."""
    member_ids = sorted(set(PointsLot.objects.filter(pk__in=ids).values_list("member_id", flat=True)))
    accounts = {
        a.member_id: a
        for a in Account.objects.select_for_update()
        .filter(kind=Account.Kind.POINTS, member_id__in=member_ids)
        .order_by("pk")
    }
    rows = list(
        PointsLot.objects.filter(pk__in=ids, expires_at__lte=now, remaining__gt=0)
        .exclude(kind=PointsLot.Kind.DEFICIT)
        .order_by("id")
        .values_list("pk", "member_id", "remaining")
    )
    before = {str(m): a.balance for m, a in accounts.items()}  # locked: the balances now
    breakage = system_account("points_breakage")
    consumed = []
    points = 0
    for lot_id, member_id, x in rows:
        if PointsLot.objects.filter(pk=lot_id, remaining=x).update(remaining=0, expired=x) != 1:
            continue
        t = _transfer(
            debit=accounts[member_id],
            credit=breakage,
            amount=x,
            key=f"expire:{lot_id}",
            reason="points.expire",
            reference=f"lot:{lot_id}",
        )
        consumed.append(LotConsumption(lot_id=lot_id, transfer=t, amount=x))
        points += x
    LotConsumption.objects.bulk_create(consumed)
    if consumed:  # one audit row per chunk (≤ CHUNK lots): each member's balance before/after
        lot_ids = [c.lot_id for c in consumed]
        after = dict(
            Account.objects.filter(pk__in=[a.pk for a in accounts.values()]).values_list(
                "member_id", "balance"
            )
        )
        audit_write(
            action="points.expire",
            object_type="points.pointslot",
            object_id=f"{lot_ids[0]}-{lot_ids[-1]}",
            before={"balances": {m: b for m, b in before.items() if int(m) in after}},
            after={"balances": {str(m): b for m, b in after.items()}, "lots": lot_ids, "points": points},
        )
    return len(consumed), points


def _remind(now: datetime, programme: PointsProgramme, chunk: int) -> int:
    if not programme.reminder_days:
        return 0
    horizon = now + timedelta(days=programme.reminder_days)
    due = (
        PointsLot.objects.filter(
            expires_at__gt=now, expires_at__lte=horizon, remaining__gt=0, reminded_at__isnull=True
        )
        .exclude(kind=PointsLot.Kind.DEFICIT)
        .order_by("member_id")
    )
    member_ids = list(due.values_list("member_id", flat=True).distinct()[:chunk])
    sent = 0
    for member_id in member_ids:
        with transaction.atomic(durable=True):
            member = Member.objects.filter(pk=member_id).first()
            lots = list(
                due.select_for_update()
                .filter(member_id=member_id)
                .values_list("pk", "expires_at", "remaining")
            )
            if not lots:
                continue
            by_day: dict = defaultdict(int)
            for _pk, expires_at, remaining in lots:
                # The last valid shop day is the day before the expiry midnight.
                by_day[(clock.to_local(expires_at) - timedelta(microseconds=1)).date()] += remaining
            first_day = min(by_day)
            total = sum(by_day.values())
            _message_enqueue(
                purpose=f"points.expiry:{first_day.isoformat()}",
                member=member,
                channel=Message.Channel.SMS,
                kind=Message.Kind.TRANSACTIONAL,
                body=f"【老客】您有{total}积分将陆续到期，最早于{first_day.isoformat()}到期（{by_day[first_day]}分），请及时使用。",
            )
            PointsLot.objects.filter(pk__in=[pk for pk, _e, _r in lots]).update(reminded_at=now)
            sent += 1
    return sent


def _repair_permanent() -> int:
    from laoke.members.services import member_mark_permanent

    pending = list(
        GiftRedemption.objects.filter(
            made_permanent=True, member__is_permanent=False, member__status=Member.Status.ACTIVE
        ).values_list("pk", "member_id", "points")
    )
    for pk, member_id, pts in pending:
        member_mark_permanent(member_id=member_id, reason=f"redeemed the {pts}-point gift (redemption {pk})")
    return len(pending)


def points_tick(now: datetime, *, chunk: int = CHUNK, max_chunks: int = 200) -> dict[str, int]:
    out = {"expired_lots": 0, "expired_points": 0, "reminded": 0, "permanent_repaired": 0}
    for _ in range(max_chunks):
        ids = _due_ids(now, chunk)
        if not ids:
            break
        with transaction.atomic(durable=True):
            n, p = _expire_chunk(ids, now)
        out["expired_lots"] += n
        out["expired_points"] += p
    programme = PointsProgramme.objects.filter(is_active=True).first()
    if programme is not None:
        out["reminded"] = _remind(now, programme, chunk)
    out["permanent_repaired"] = _repair_permanent()
    return out


def expiring_soon(member_id: int, now: datetime, days: int) -> tuple[int, datetime | None]:
    """(points, first expiry) of a member's lots expiring within ``days`` (for the balance view)."""
    agg = (
        PointsLot.objects.filter(
            member_id=member_id,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=days),
        )
        .exclude(kind=PointsLot.Kind.DEFICIT)
        .aggregate(s=Sum("remaining"), first=Min("expires_at"))
    )
    return agg["s"] or 0, agg["first"]
