"""Flash-zone writes: settings and presets, holidays, items (validated, audited), the tick that
rotates runs and opens each day's stock, and the claim/release pair settlement calls inside its
own transaction.

Concurrency (docs/decisions/0019-flash-zone.md): a day's stock is taken by one guarded UPDATE
(``sold = sold + q WHERE sold + q <= units``, CHECK 0 <= sold <= units behind it) and the per-member
limit is a partial unique index (one ``claimed`` row per member and item-day), so N concurrent
claims never sell more than the day's units nor two units to one member. Item writes and the
tick serialise on the zone's settings row (``select_for_update``), so the slot/product overlap
checks cannot interleave.
"""

from __future__ import annotations

import time as _time
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from laoke.catalog.models import Product
from laoke.core import clock
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, FIELD_REQUIRED, DomainError
from laoke.members.models import Member

from . import error_codes as E
from .models import (
    ZONE_PK,
    ClaimState,
    FlashClaim,
    FlashDay,
    FlashItem,
    FlashItemStatus,
    FlashZone,
    Holiday,
)
from .presets import HOLIDAYS_2026, HOLIDAYS_2027_ESTIMATE
from .pricing import flash_price
from .selectors import business_date, day_window, flash_schedule, is_eligible, running_on, units_for

# Test-only switch for the negative controls of the race tests: the claim becomes read-check-write
# (stock read, checked, then written back as an absolute value; the member's earlier claim looked
# up and not found), which is exactly the oversell / double-buy bug.
_UNGUARDED_FOR_TESTS = False
_UNGUARDED_PAUSE = 0.0  # seconds between the read and the write of the unguarded path

ZONE_FIELDS = (
    "items_per_day",
    "units_per_day",
    "units_per_day_holiday",
    "step_bp",
    "opening_time",
    "rotation_days",
    "per_member_limit",
    "old_customers_only",
    "old_customer_min_orders",
    "old_customer_window_months",
)
ITEM_FIELDS = ("product", "floor_fen", "slot", "run_start", "status")
ITEM_EDITABLE = ("floor_fen", "slot", "run_start", "status")


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("this helper needs an open transaction")


def _lock_zone() -> FlashZone:
    """The settings row, created with the preset values if missing, locked (item writes and the
    tick serialise on it)."""
    _require_atomic()
    FlashZone.objects.bulk_create([FlashZone(pk=ZONE_PK, updated_at=clock.now())], ignore_conflicts=True)
    return FlashZone.objects.select_for_update().get(pk=ZONE_PK)


# --- settings, presets, holidays ------------------------------------------------------------------


def _zone_snapshot(zone: FlashZone) -> dict[str, Any]:
    return {
        name: (getattr(zone, name).isoformat() if name == "opening_time" else getattr(zone, name))
        for name in ZONE_FIELDS
    }


def _zone_check(data: dict[str, Any]) -> None:
    for name in ("items_per_day", "units_per_day", "units_per_day_holiday", "rotation_days"):
        if not isinstance(data[name], int) or data[name] < 1:
            raise DomainError(FIELD_INVALID, field=name)
    for name in ("per_member_limit", "old_customer_min_orders"):
        if not isinstance(data[name], int) or data[name] < 1:
            raise DomainError(FIELD_INVALID, field=name)
    if not isinstance(data["step_bp"], int) or not 1 <= data["step_bp"] <= 10_000:
        raise DomainError(FIELD_INVALID, field="step_bp")
    w = data["old_customer_window_months"]
    if w is not None and (not isinstance(w, int) or not 1 <= w <= 120):
        raise DomainError(FIELD_INVALID, field="old_customer_window_months")


def flash_zone_update(*, data: dict[str, Any], actor=None) -> FlashZone:
    """Change the zone's settings. A day already opened keeps its units and opening time."""
    unknown = set(data) - set(ZONE_FIELDS)
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    with transaction.atomic(durable=True):
        zone = _lock_zone()
        before = _zone_snapshot(zone)
        merged = {name: getattr(zone, name) for name in ZONE_FIELDS} | data
        _zone_check(merged)
        for name, value in data.items():
            setattr(zone, name, value)
        zone.updated_at = clock.now()
        zone.save()
        b, a = diff(before, _zone_snapshot(zone))
        if a:
            audit_write(action="flash_zone.update", obj=zone, before=b, after=a, actor=actor)
    return zone


def _holiday_check(day: Any, name: str) -> str:
    if not isinstance(day, date):
        raise DomainError(FIELD_INVALID, field="date")
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise DomainError(FIELD_INVALID, field="name")
    return name


def holiday_create(*, date: date, name: str, official: bool = True, actor=None) -> Holiday:
    name = _holiday_check(date, name)
    try:
        with transaction.atomic(durable=True):
            holiday = Holiday.objects.create(date=date, name=name, official=official)
            audit_write(
                action="flash_holiday.create",
                obj=holiday,
                after={"date": date.isoformat(), "name": name, "official": official},
                actor=actor,
            )
    except IntegrityError as exc:
        raise DomainError(E.HOLIDAY_EXISTS, field="date") from exc
    return holiday


def holiday_update(*, holiday_id: int, data: dict[str, Any], actor=None) -> Holiday:
    """Correct a holiday's name or mark an estimate official (the date is the row's identity:
    delete and add to move one)."""
    unknown = set(data) - {"name", "official"}
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    with transaction.atomic(durable=True):
        holiday = Holiday.objects.select_for_update().get(pk=holiday_id)
        before = {"name": holiday.name, "official": holiday.official}
        if "name" in data:
            holiday.name = _holiday_check(holiday.date, data["name"])
        if "official" in data:
            holiday.official = bool(data["official"])
        holiday.save()
        b, a = diff(before, {"name": holiday.name, "official": holiday.official})
        if a:
            audit_write(action="flash_holiday.update", obj=holiday, before=b, after=a, actor=actor)
    return holiday


def holiday_delete(*, holiday_id: int, actor=None) -> None:
    with transaction.atomic(durable=True):
        holiday = Holiday.objects.select_for_update().get(pk=holiday_id)
        audit_write(
            action="flash_holiday.delete",
            obj=holiday,
            before={"date": holiday.date.isoformat(), "name": holiday.name},
            actor=actor,
        )
        holiday.delete()


def flash_presets_install(*, demo_items: bool = False, now: datetime | None = None, actor=None) -> dict:
    """Seed 001's zone: the settings row with the preset values (kept if it exists), the 2026
    (official) and 2027 (estimated) holidays (dates already present are kept), and with
    ``demo_items`` two published items — the first two active products, floor 50% of list, a run
    starting today — unless the zone has items already; then the tick opens today. Safe to run
    again."""
    now = now or clock.now()
    with transaction.atomic(durable=True):
        _lock_zone()
        existing = set(Holiday.objects.values_list("date", flat=True))
        rows = [Holiday(date=d, name=n, official=True) for d, n in HOLIDAYS_2026 if d not in existing]
        rows += [
            Holiday(date=d, name=n, official=False) for d, n in HOLIDAYS_2027_ESTIMATE if d not in existing
        ]
        Holiday.objects.bulk_create(rows, ignore_conflicts=True)
        if rows:
            audit_write(
                action="flash.presets_install", object_type="flash.holiday", after={"holidays": len(rows)}
            )
    created = []
    if demo_items and not FlashItem.objects.exists():
        products = Product.objects.filter(is_active=True, list_price_fen__gte=100).order_by("pk")[:2]
        today = business_date(now)
        for slot, product in enumerate(products, start=1):
            created.append(
                flash_item_create(
                    data={
                        "product": product,
                        "floor_fen": product.list_price_fen // 2,
                        "slot": slot,
                        "run_start": today,
                        "status": FlashItemStatus.PUBLISHED,
                    },
                    now=now,
                    actor=actor,
                ).pk
            )
    return {"holidays": Holiday.objects.count(), "demo_items": created, "tick": flash_tick(now)}


# --- items ----------------------------------------------------------------------------------------


def _overlapping(qs, start: date, end: date):
    return qs.filter(status=FlashItemStatus.PUBLISHED, run_start__lt=end, run_end__gt=start)


def _item_check(data: dict[str, Any], *, zone: FlashZone, today: date, item: FlashItem | None = None) -> None:
    """Validate an item's full field set against the zone and the other items (writes nothing)."""
    product = data.get("product")
    if not isinstance(product, Product) or not product.is_active:
        raise DomainError(E.ITEM_INVALID, field="product")
    list_price = item.list_price_fen if item is not None else product.list_price_fen
    if list_price < 1:
        raise DomainError(E.ITEM_INVALID, field="product")
    status = data.get("status")
    if status not in (FlashItemStatus.DRAFT, FlashItemStatus.PUBLISHED):
        raise DomainError(E.ITEM_INVALID, field="status")
    floor = data.get("floor_fen")
    if floor is None:
        if status == FlashItemStatus.PUBLISHED:
            raise DomainError(E.FLOOR_REQUIRED, field="floor_fen")
    elif not isinstance(floor, int) or not 1 <= floor <= list_price:
        raise DomainError(E.ITEM_INVALID, field="floor_fen")
    slot = data.get("slot")
    if not isinstance(slot, int) or not 1 <= slot <= zone.items_per_day:
        raise DomainError(E.ITEM_INVALID, field="slot")
    start = data.get("run_start")
    if start is not None and not isinstance(start, date):
        raise DomainError(E.ITEM_INVALID, field="run_start")
    moved = item is None or start != item.run_start
    if start is not None and moved and start < today:
        raise DomainError(E.ITEM_INVALID, field="run_start")
    if status == FlashItemStatus.PUBLISHED and start is not None:
        end = start + timedelta(days=zone.rotation_days)
        others = FlashItem.objects.exclude(pk=getattr(item, "pk", None))
        if _overlapping(others.filter(slot=slot), start, end).exists():
            raise DomainError(E.SLOT_TAKEN, field="slot", slot=slot)
        if _overlapping(others.filter(product=product), start, end).exists():
            raise DomainError(E.PRODUCT_TAKEN, field="product")


def _item_snapshot(item: FlashItem) -> dict[str, Any]:
    return {
        "product": item.product_id,
        "list_price_fen": item.list_price_fen,
        "floor_fen": item.floor_fen,
        "slot": item.slot,
        "run_start": item.run_start.isoformat() if item.run_start else None,
        "run_end": item.run_end.isoformat() if item.run_end else None,
        "status": item.status,
    }


def _product_of(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return Product.objects.filter(pk=value).first()
    return value


def flash_item_check(
    *, data: dict[str, Any], item: FlashItem | None = None, now: datetime | None = None
) -> None:
    """The service's own validation of a full field set, for forms (writes nothing)."""
    now = now or clock.now()
    data = {**data, "product": _product_of(data.get("product"))}
    zone = FlashZone.objects.filter(pk=ZONE_PK).first() or FlashZone(pk=ZONE_PK)
    _item_check(data, zone=zone, today=business_date(now), item=item)


def flash_item_create(*, data: dict[str, Any], now: datetime | None = None, actor=None) -> FlashItem:
    """Add a product to the zone. ``status`` published (default) needs a floor price; without
    ``run_start`` a published item is queued and starts when its slot is free (flash_tick). The
    product's list price is copied: the zone's prices do not move if the catalogue's does."""
    unknown = set(data) - set(ITEM_FIELDS)
    if unknown:
        raise DomainError(E.ITEM_INVALID, field=sorted(unknown)[0])
    now = now or clock.now()
    data = {"slot": 1, "status": FlashItemStatus.PUBLISHED, "floor_fen": None, "run_start": None} | data
    data["product"] = _product_of(data.get("product"))
    with transaction.atomic(durable=True):
        zone = _lock_zone()
        _item_check(data, zone=zone, today=business_date(now))
        start = data["run_start"]
        item = FlashItem.objects.create(
            product=data["product"],
            list_price_fen=data["product"].list_price_fen,
            floor_fen=data["floor_fen"],
            slot=data["slot"],
            run_start=start,
            run_end=start + timedelta(days=zone.rotation_days) if start else None,
            status=data["status"],
            created_at=now,
            updated_at=now,
        )
        audit_write(action="flash_item.create", obj=item, after=_item_snapshot(item), actor=actor)
    return item


def flash_item_update(
    *, item_id: int, data: dict[str, Any], now: datetime | None = None, actor=None
) -> FlashItem:
    """Change the floor, slot, first day or status (draft ↔ published) of an item. Once its run has
    started the slot and first day are fixed; an ended or retired item does not change."""
    unknown = set(data) - set(ITEM_EDITABLE)
    if unknown:
        raise DomainError(E.ITEM_INVALID, field=sorted(unknown)[0])
    now = now or clock.now()
    today = business_date(now)
    with transaction.atomic(durable=True):
        zone = _lock_zone()
        item = FlashItem.objects.select_for_update().select_related("product").get(pk=item_id)
        if item.status in (FlashItemStatus.ENDED, FlashItemStatus.RETIRED):
            raise DomainError(E.ITEM_FROZEN, field="status")
        started = item.status == FlashItemStatus.PUBLISHED and item.run_start and item.run_start <= today
        before = _item_snapshot(item)
        merged = {name: getattr(item, name) for name in ITEM_FIELDS} | data
        if started:
            for name in ("slot", "run_start", "status"):
                if merged[name] != getattr(item, name):
                    raise DomainError(E.ITEM_FROZEN, field=name)
        _item_check(merged, zone=zone, today=today, item=item)
        for name, value in data.items():
            setattr(item, name, value)
        if "run_start" in data:
            item.run_end = item.run_start + timedelta(days=zone.rotation_days) if item.run_start else None
        item.updated_at = now
        item.save()
        b, a = diff(before, _item_snapshot(item))
        if a:
            audit_write(action="flash_item.update", obj=item, before=b, after=a, actor=actor)
    return item


def flash_item_retire(*, item_id: int, now: datetime | None = None, actor=None) -> FlashItem:
    """Take an item out of the zone now (today's remaining units are no longer offered; claims
    already made stand). Retiring a retired item changes nothing."""
    now = now or clock.now()
    with transaction.atomic(durable=True):
        _lock_zone()
        item = FlashItem.objects.select_for_update().get(pk=item_id)
        if item.status == FlashItemStatus.RETIRED:
            return item
        before = item.status
        item.status, item.updated_at = FlashItemStatus.RETIRED, now
        item.save(update_fields=["status", "updated_at"])
        audit_write(
            action="flash_item.retire",
            obj=item,
            before={"status": before},
            after={"status": item.status},
            actor=actor,
        )
    return item


# --- the tick ---------------------------------------------------------------------------------------


def _open_day(item: FlashItem, day: date, zone: FlashZone) -> FlashDay:
    """The item's stock row for ``day``, created with the day's units if missing (idempotent)."""
    units, holiday = units_for(day, zone)
    opens_at, ends_at = day_window(day, zone)
    FlashDay.objects.bulk_create(
        [
            FlashDay(
                item=item,
                day=day,
                units=units,
                sold=0,
                opens_at=opens_at,
                ends_at=ends_at,
                is_holiday=holiday,
            )
        ],
        ignore_conflicts=True,
    )
    return FlashDay.objects.get(item=item, day=day)


def flash_tick(now: datetime) -> dict[str, int]:
    """Rotate and open the zone for ``now``'s business day: runs that ended are marked ended; a
    slot without a running item starts its oldest queued item (a 10-day run from today); each
    scheduled item gets today's stock row (20 units on a holiday, else 10). Idempotent: safe to
    run every minute."""
    today = business_date(now)
    with transaction.atomic(durable=True):
        zone = _lock_zone()
        ended = list(
            FlashItem.objects.filter(status=FlashItemStatus.PUBLISHED, run_end__lte=today).values_list(
                "pk", flat=True
            )
        )
        if ended:
            FlashItem.objects.filter(pk__in=ended).update(status=FlashItemStatus.ENDED, updated_at=now)
        started = []
        for slot in range(1, zone.items_per_day + 1):
            if FlashItem.objects.filter(running_on(today), slot=slot).exists():
                continue
            end = today + timedelta(days=zone.rotation_days)
            queued = FlashItem.objects.filter(
                status=FlashItemStatus.PUBLISHED, slot=slot, run_start__isnull=True, product__is_active=True
            ).order_by("pk")
            for item in queued:
                if _overlapping(FlashItem.objects.filter(product_id=item.product_id), today, end).exists():
                    continue
                FlashItem.objects.filter(pk=item.pk).update(run_start=today, run_end=end, updated_at=now)
                started.append(item.pk)
                break
        items = flash_schedule(today, zone=zone)
        have = set(FlashDay.objects.filter(item__in=items, day=today).values_list("item_id", flat=True))
        opened = [item.pk for item in items if item.pk not in have]
        for item in items:
            if item.pk not in have:
                _open_day(item, today, zone)
        if ended or started:
            audit_write(
                action="flash.tick",
                object_type="flash.flashitem",
                after={"day": today.isoformat(), "ended": ended, "started": started},
            )
    return {"ended": len(ended), "started": len(started), "opened": len(opened)}


# --- claim and release (inside settlement's transaction) ----------------------------------------------


def _today_day(product_id: int, today: date, zone: FlashZone) -> FlashDay | None:
    """Today's stock row of the product's running item, with its item (one query on the hot
    path; the tick normally created it — if not yet, it is created here)."""
    day = (
        FlashDay.objects.select_related("item")
        .filter(day=today, item__product_id=product_id, item__slot__lte=zone.items_per_day)
        .filter(item__status=FlashItemStatus.PUBLISHED, item__run_start__lte=today, item__run_end__gt=today)
        .order_by("item__slot", "item_id")[:1]
    )
    found = next(iter(day), None)
    if found is not None:
        return found
    item = next((i for i in flash_schedule(today, zone=zone) if i.product_id == product_id), None)
    return _open_day(item, today, zone) if item is not None else None


def _claim_unguarded(day: FlashDay, claim: FlashClaim) -> FlashClaim:
    """The negative control's read-check-write (tests only): see ``_UNGUARDED_FOR_TESTS``."""
    qs = FlashDay.objects.filter(pk=day.pk)
    row = qs.values("sold", "units").get()
    if row["sold"] + claim.quantity > row["units"]:
        raise DomainError(E.SOLD_OUT)
    _time.sleep(_UNGUARDED_PAUSE)
    qs.update(sold=row["sold"] + claim.quantity)
    claim.save(force_insert=True)
    return claim


def _flash_claim(
    *, product_id: int, member: Member, quantity: int, order_ref: str, now: datetime
) -> FlashClaim:
    """Buy ``quantity`` units of today's flash item ``product_id`` for ``member`` on ``order_ref``,
    inside the caller's (settlement's) transaction. Returns the claim with the unit price valid at
    ``now``. Raises FLASH_NOT_ON_SALE (not in today's zone, before the opening), FLASH_NOT_ELIGIBLE
    (not an old customer), FLASH_LIMIT_REACHED (over the per-member limit, or the member already
    holds a claim on this item today) or FLASH_SOLD_OUT. The same order claiming again returns its
    claim. Stock: one guarded UPDATE; the per-member limit: the partial unique index."""
    _require_atomic()
    if not order_ref:
        raise DomainError(FIELD_REQUIRED, field="order_ref")
    if not isinstance(quantity, int) or quantity < 1:
        raise DomainError(FIELD_INVALID, field="quantity")
    zone = FlashZone.objects.filter(pk=ZONE_PK).first() or FlashZone(pk=ZONE_PK)
    today = business_date(now)
    day = _today_day(product_id, today, zone)
    if day is None:
        raise DomainError(E.NOT_ON_SALE)
    item = day.item
    if not day.opens_at <= now < day.ends_at:
        raise DomainError(E.NOT_ON_SALE)
    if not is_eligible(member, zone=zone, today=today):
        raise DomainError(E.NOT_ELIGIBLE)
    if quantity > zone.per_member_limit:
        raise DomainError(E.LIMIT_REACHED, field="quantity", limit=zone.per_member_limit)

    def held_check() -> FlashClaim | None:
        held = FlashClaim.objects.filter(day=day, member=member, state=ClaimState.CLAIMED).first()
        if held is not None:
            if held.order_ref == order_ref and held.quantity == quantity:
                return held  # the same order claiming again: its claim
            raise DomainError(E.LIMIT_REACHED, limit=zone.per_member_limit)
        return None

    claim = FlashClaim(
        item=item,
        day=day,
        member=member,
        quantity=quantity,
        unit_price_fen=flash_price(item.list_price_fen, item.floor_fen, day.opens_at, now, zone.step_bp),
        order_ref=order_ref,
        claimed_at=now,
    )
    try:
        with transaction.atomic():
            if _UNGUARDED_FOR_TESTS:
                return held_check() or _claim_unguarded(day, claim)
            # The claim first: a member's duplicate fails on the unique index before it queues on
            # the day's (hot) stock row; a sold-out day rolls the claim back with the savepoint.
            claim.save(force_insert=True)
            taken = FlashDay.objects.filter(pk=day.pk, sold__lte=F("units") - quantity).update(
                sold=F("sold") + quantity
            )
            if taken != 1:
                raise DomainError(E.SOLD_OUT)
    except IntegrityError as exc:
        # The member holds a claim on this item-day (the unique index said so; the savepoint
        # undid this attempt): the same order gets its claim back, any other is over the limit.
        found = held_check()
        if found is not None:
            return found
        raise DomainError(E.LIMIT_REACHED, limit=zone.per_member_limit) from exc
    return claim


def _flash_release(*, order_ref: str, now: datetime) -> int:
    """The order was cancelled or fully refunded: release its claims, inside the caller's
    transaction. A claim released before its business day ended gives its units back to that
    day's stock; after the day it is only marked released. Returns the number of claims this call
    released (0 when there is nothing left to release: idempotent)."""
    _require_atomic()
    released = 0
    claims = FlashClaim.objects.filter(order_ref=order_ref, state=ClaimState.CLAIMED).order_by("pk")
    for claim in claims.select_related("day"):
        restock = now < claim.day.ends_at
        if (
            FlashClaim.objects.filter(pk=claim.pk, state=ClaimState.CLAIMED).update(
                state=ClaimState.RELEASED, released_at=now, restocked=restock
            )
            != 1
        ):
            continue  # released concurrently
        if restock:
            FlashDay.objects.filter(pk=claim.day_id, sold__gte=claim.quantity).update(
                sold=F("sold") - claim.quantity
            )
        released += 1
    return released


def merge_hook(*, source: Member, target: Member) -> dict[str, int]:
    """``member_merge_hook`` of flash (see members.merge): the merged member's claims follow the
    survivor, except an active claim on an item-day where the survivor holds one too (it stays
    with the merged row: the one-per-member index would refuse two)."""
    _require_atomic()
    busy = FlashClaim.objects.filter(member=target, state=ClaimState.CLAIMED).values_list("day_id", flat=True)
    moved = (
        FlashClaim.objects.filter(member=source)
        .exclude(Q(state=ClaimState.CLAIMED) & Q(day_id__in=list(busy)))
        .update(member=target)
    )
    return {"claims_moved": moved} if moved else {}
