"""/api/v1/flash: today's zone, the zone's settings, items (staff CRUD), the holiday calendar.
Thin over services and selectors; buying happens through the orders app (``_flash_claim``)."""

from datetime import date, datetime, time

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from laoke.catalog.models import Product
from laoke.core import clock
from laoke.core.api import paginate, require
from laoke.core.validation import LocalTime

from . import selectors, services
from .models import FlashItem, FlashItemStatus

router = Router(tags=["flash"])

READ = ("flash.view_flashitem", "value:read")


class ZoneItemOut(Schema):
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


class ZoneOut(Schema):
    day: date
    now: datetime
    items: list[ZoneItemOut]


@router.get("/zone", response=ZoneOut, summary="Today's zone: items, current price, units left, next drop")
@require(*READ)
def zone_today(request):
    now = clock.now()
    entries = selectors.zone_today(now)
    return {"day": selectors.business_date(now), "now": now, "items": [e.__dict__ for e in entries]}


class SettingsOut(Schema):
    items_per_day: int
    units_per_day: int
    units_per_day_holiday: int
    step_bp: int
    opening_time: time
    rotation_days: int
    per_member_limit: int
    old_customers_only: bool
    old_customer_min_orders: int
    old_customer_window_months: int | None


class SettingsPatch(Schema):
    items_per_day: int | None = Field(None, ge=1, le=50)
    units_per_day: int | None = Field(None, ge=1, le=100_000)
    units_per_day_holiday: int | None = Field(None, ge=1, le=100_000)
    step_bp: int | None = Field(None, ge=1, le=10_000)
    opening_time: LocalTime | None = None
    rotation_days: int | None = Field(None, ge=1, le=366)
    per_member_limit: int | None = Field(None, ge=1, le=1_000)
    old_customers_only: bool | None = None
    old_customer_min_orders: int | None = Field(None, ge=1, le=1_000)
    old_customer_window_months: int | None = Field(None, ge=1, le=120)


@router.get("/settings", response=SettingsOut, summary="The zone's settings")
@require("flash.view_flashzone", "value:read")
def settings_get(request):
    return selectors.zone_get()


@router.patch("/settings", response=SettingsOut, summary="Change the zone's settings")
@require("flash.change_flashzone", "value:write")
def settings_update(request, payload: SettingsPatch):
    data = payload.dict(exclude_unset=True)
    for name in ("old_customers_only", "opening_time"):
        if name in data and data[name] is None:
            data.pop(name)
    return services.flash_zone_update(data=data, actor=request.user)


class ItemOut(Schema):
    id: int
    product_id: int
    sku: str
    title: str
    list_price_fen: int
    floor_fen: int | None
    slot: int
    run_start: date | None
    run_end: date | None
    status: str


def _item(item: FlashItem) -> dict:
    return {
        "id": item.pk,
        "product_id": item.product_id,
        "sku": item.product.sku,
        "title": item.product.title,
        "list_price_fen": item.list_price_fen,
        "floor_fen": item.floor_fen,
        "slot": item.slot,
        "run_start": item.run_start,
        "run_end": item.run_end,
        "status": item.status,
    }


class ItemPage(Schema):
    items: list[ItemOut]
    next_cursor: str | None


class ItemIn(Schema):
    product_id: int
    floor_fen: int | None = Field(None, ge=1, le=10**10)
    slot: int = Field(1, ge=1, le=50)
    run_start: date | None = None  # none: queued, starts when the slot is free
    status: str = Field(FlashItemStatus.PUBLISHED, pattern="^(draft|published)$")


class ItemPatch(Schema):
    floor_fen: int | None = Field(None, ge=1, le=10**10)
    slot: int | None = Field(None, ge=1, le=50)
    run_start: date | None = None
    status: str | None = Field(None, pattern="^(draft|published)$")


@router.get("/items", response=ItemPage, summary="Flash items, newest first")
@require(*READ)
def item_list(request, status: str | None = None, cursor: str | None = None, limit: int | None = None):
    rows, next_cursor = paginate(selectors.item_list(status), cursor=cursor, limit=limit)
    return {"items": [_item(i) for i in rows], "next_cursor": next_cursor}


@router.post(
    "/items", response={201: ItemOut}, summary="Add a product to the zone (a floor price is required)"
)
@require("flash.add_flashitem", "value:write")
def item_create(request, payload: ItemIn):
    data = payload.dict()
    data["product"] = get_object_or_404(Product, pk=data.pop("product_id"))
    item = services.flash_item_create(data=data, actor=request.user)
    return Status(201, _item(selectors.item_get(item.pk)))


@router.get("/items/{int:item_id}", response=ItemOut, summary="A flash item")
@require(*READ)
def item_get(request, item_id: int):
    return _item(selectors.item_get(item_id))


@router.patch("/items/{int:item_id}", response=ItemOut, summary="Change a flash item")
@require("flash.change_flashitem", "value:write")
def item_update(request, item_id: int, payload: ItemPatch):
    selectors.item_get(item_id)
    data = payload.dict(exclude_unset=True)
    data = {k: v for k, v in data.items() if v is not None or k in ("floor_fen", "run_start")}
    services.flash_item_update(item_id=item_id, data=data, actor=request.user)
    return _item(selectors.item_get(item_id))


@router.post("/items/{int:item_id}/retire", response=ItemOut, summary="Take an item out of the zone")
@require("flash.change_flashitem", "value:write")
def item_retire(request, item_id: int):
    selectors.item_get(item_id)
    services.flash_item_retire(item_id=item_id, actor=request.user)
    return _item(selectors.item_get(item_id))


class HolidayOut(Schema):
    id: int
    date: date
    name: str
    official: bool


class HolidayIn(Schema):
    date: date
    name: str = Field(..., min_length=1, max_length=40)
    official: bool = True


@router.get("/holidays", response=list[HolidayOut], summary="The holiday calendar (20 units a day)")
@require("flash.view_holiday", "value:read")
def holiday_list(request, year: int | None = Query(None, ge=1, le=9999)):
    return list(selectors.holiday_list(year))


@router.post("/holidays", response={201: HolidayOut}, summary="Add a holiday")
@require("flash.add_holiday", "value:write")
def holiday_create(request, payload: HolidayIn):
    return Status(
        201,
        services.holiday_create(
            date=payload.date, name=payload.name, official=payload.official, actor=request.user
        ),
    )
