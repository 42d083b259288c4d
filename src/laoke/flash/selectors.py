"""Reads of the flash zone: the settings, the holiday calendar, the day's schedule, eligibility,
the quote's offer and today's zone for the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from laoke.core import clock
from laoke.members.models import Member
from laoke.stats.selectors import member_stats, window_totals

from . import error_codes as E
from .models import ZONE_PK, ClaimState, FlashClaim, FlashDay, FlashItem, FlashItemStatus, FlashZone, Holiday
from .pricing import flash_price, next_drop_at


def zone_get() -> FlashZone:
    """The zone's settings; the preset values (unsaved) before ``flash_presets_install``."""
    return FlashZone.objects.filter(pk=ZONE_PK).first() or FlashZone(pk=ZONE_PK)


def business_date(now: datetime) -> date:
    return clock.to_local(now).date()


def day_window(day: date, zone: FlashZone) -> tuple[datetime, datetime]:
    """When the zone opens on ``day`` (its opening time, shop time) and when the day ends (the next
    midnight, shop time)."""
    tz = clock.shop_tz()
    return datetime.combine(day, zone.opening_time, tzinfo=tz), datetime.combine(
        day + timedelta(days=1), time(), tzinfo=tz
    )


def is_holiday(day: date) -> bool:
    return Holiday.objects.filter(date=day).exists()


def units_for(day: date, zone: FlashZone) -> tuple[int, bool]:
    holiday = is_holiday(day)
    return (zone.units_per_day_holiday if holiday else zone.units_per_day), holiday


def holiday_list(year: int | None = None) -> QuerySet[Holiday]:
    qs = Holiday.objects.order_by("date")
    return qs.filter(date__year=year) if year else qs


def item_list(status: str | None = None) -> QuerySet[FlashItem]:
    qs = FlashItem.objects.select_related("product").order_by("-pk")
    return qs.filter(status=status) if status else qs


def item_get(item_id: int) -> FlashItem:
    return get_object_or_404(FlashItem.objects.select_related("product"), pk=item_id)


def running_on(day: date) -> Q:
    return Q(status=FlashItemStatus.PUBLISHED, run_start__lte=day, run_end__gt=day)


def flash_schedule(day: date, *, zone: FlashZone | None = None) -> list[FlashItem]:
    """The items the zone offers on ``day``: published items whose run covers the day, one per
    slot, slots 1..items_per_day (the services keep slots from overlapping)."""
    zone = zone or zone_get()
    rows = (
        FlashItem.objects.filter(running_on(day), slot__lte=zone.items_per_day)
        .select_related("product")
        .order_by("slot", "pk")
    )
    seen: dict[int, FlashItem] = {}
    for item in rows:
        seen.setdefault(item.slot, item)
    return list(seen.values())


def is_old_customer(member: Member | None, *, zone: FlashZone, today: date) -> bool:
    """Old customer (老客户): at least ``old_customer_min_orders`` paid orders in the member's
    statistics (``stats.order_count``, what orders books at settlement, net of full refunds) —
    ever, or within the last ``old_customer_window_months`` calendar months. Only active members
    (not merged, not anonymised) count. The order being settled is not yet booked when settlement
    asks, so an old customer needs an *earlier* order."""
    if member is None or member.status != Member.Status.ACTIVE:
        return False
    if zone.old_customer_window_months is None:
        orders = member_stats(member).order_count
    else:
        orders = window_totals(member=member, today=today, months=zone.old_customer_window_months).orders
    return orders >= zone.old_customer_min_orders


def is_eligible(member: Member | None, *, zone: FlashZone, today: date) -> bool:
    if member is None or member.status != Member.Status.ACTIVE:
        return False
    return not zone.old_customers_only or is_old_customer(member, zone=zone, today=today)


@dataclass(frozen=True)
class FlashOffer:
    """What the quote needs. ``unit_price_fen`` is the flash price at ``now`` (before the opening:
    the opening price); put it into the engine's ``flash_price_fen`` only when ``reason_code`` is
    None (purchasable by this member now)."""

    product_id: int
    unit_price_fen: int
    floor_fen: int
    units_left: int
    per_member_left: int
    reason_code: str | None = None


def _today_item(product_id: int, day: date, zone: FlashZone) -> FlashItem | None:
    for item in flash_schedule(day, zone=zone):
        if item.product_id == product_id:
            return item
    return None


def flash_offer(*, product_id: int, member: Member | None, now: datetime) -> FlashOffer | None:
    """The product's flash offer at ``now`` for ``member``; None when the product is not in the
    zone today. Reads only (the day's stock row may not exist before the tick: its units are then
    what the tick will create)."""
    zone = zone_get()
    today = business_date(now)
    item = _today_item(product_id, today, zone)
    if item is None:
        return None
    day = FlashDay.objects.filter(item=item, day=today).first()
    if day is not None:
        opens_at, units_left = day.opens_at, day.units - day.sold
    else:
        opens_at = day_window(today, zone)[0]
        units_left = units_for(today, zone)[0]
    before = now < opens_at
    price = flash_price(item.list_price_fen, item.floor_fen, opens_at, max(now, opens_at), zone.step_bp)
    taken = 0
    if member is not None and day is not None:
        taken = sum(
            FlashClaim.objects.filter(day=day, member=member, state=ClaimState.CLAIMED).values_list(
                "quantity", flat=True
            )
        )
    per_member_left = 0 if taken else zone.per_member_limit
    if before:
        reason = E.NOT_ON_SALE.code
    elif not is_eligible(member, zone=zone, today=today):
        reason = E.NOT_ELIGIBLE.code
    elif per_member_left == 0:
        reason = E.LIMIT_REACHED.code
    elif units_left <= 0:
        reason = E.SOLD_OUT.code
    else:
        reason = None
    return FlashOffer(
        product_id=product_id,
        unit_price_fen=price,
        floor_fen=item.floor_fen,
        units_left=max(units_left, 0),
        per_member_left=per_member_left,
        reason_code=reason,
    )


@dataclass(frozen=True)
class ZoneEntry:
    item_id: int
    product_id: int
    sku: str
    title: str
    slot: int
    list_price_fen: int
    floor_fen: int
    price_fen: int
    on_sale: bool
    units: int
    units_left: int
    opens_at: datetime
    ends_at: datetime
    next_drop_at: datetime | None
    run_start: date
    run_end: date
    is_holiday: bool


def _before(at: datetime | None, end: datetime) -> datetime | None:
    return at if at is not None and at < end else None


def zone_today(now: datetime) -> list[ZoneEntry]:
    """Today's zone for the H5 page and the console: each item with its current price, units left
    and when the price drops next (one query for the items, one for the days)."""
    zone = zone_get()
    today = business_date(now)
    items = flash_schedule(today, zone=zone)
    days = {d.item_id: d for d in FlashDay.objects.filter(item__in=items, day=today)}
    default_units, holiday = units_for(today, zone) if len(days) < len(items) else (0, False)
    out = []
    for item in items:
        d = days.get(item.pk)
        if d is not None:
            opens_at, ends_at, units, left, hol = (
                d.opens_at,
                d.ends_at,
                d.units,
                d.units - d.sold,
                d.is_holiday,
            )
        else:
            opens_at, ends_at = day_window(today, zone)
            units = left = default_units
            hol = holiday
        at = max(now, opens_at)
        out.append(
            ZoneEntry(
                item_id=item.pk,
                product_id=item.product_id,
                sku=item.product.sku,
                title=item.product.title,
                slot=item.slot,
                list_price_fen=item.list_price_fen,
                floor_fen=item.floor_fen,
                price_fen=flash_price(item.list_price_fen, item.floor_fen, opens_at, at, zone.step_bp),
                on_sale=opens_at <= now < ends_at and left > 0,
                units=units,
                units_left=left,
                opens_at=opens_at,
                ends_at=ends_at,
                next_drop_at=_before(
                    next_drop_at(
                        list_price_fen=item.list_price_fen,
                        floor_fen=item.floor_fen,
                        opened_at=opens_at,
                        now=now,
                        step_bp=zone.step_bp,
                    ),
                    ends_at,
                ),
                run_start=item.run_start,
                run_end=item.run_end,
                is_holiday=hol,
            )
        )
    return out
