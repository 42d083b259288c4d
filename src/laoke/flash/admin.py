"""Console pages of the flash zone: the settings (one row), items and holidays are written through
the services (validated, audited with the staff user); the day's stock rows and the claims are
value and read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import FormAdmin, ReadOnlyAdmin, ServiceForm
from laoke.core.money import format_yuan

from . import services
from .models import ZONE_PK, FlashClaim, FlashDay, FlashItem, FlashZone, Holiday


class FlashZoneForm(ServiceForm):
    class Meta:
        model = FlashZone
        fields = list(services.ZONE_FIELDS)

    def check(self, data: dict) -> None:
        services._zone_check({name: data.get(name) for name in services.ZONE_FIELDS})


@admin.register(FlashZone)
class FlashZoneAdmin(FormAdmin):
    form = FlashZoneForm
    list_display = (
        "__str__",
        "items_per_day",
        "units_per_day",
        "units_per_day_holiday",
        "step_bp",
        "opening_time",
    )

    def has_add_permission(self, request):
        return (
            request.user.has_perm("flash.change_flashzone")
            and not FlashZone.objects.filter(pk=ZONE_PK).exists()
        )

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data.get(k) for k in services.ZONE_FIELDS}
        saved = self.call(request, services.flash_zone_update, data=data)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


class FlashItemForm(ServiceForm):
    class Meta:
        model = FlashItem
        fields = list(services.ITEM_FIELDS)

    def check(self, data: dict) -> None:
        merged = {name: data.get(name) for name in services.ITEM_FIELDS}
        if self.instance.pk:
            merged["product"] = self.instance.product
        services.flash_item_check(data=merged, item=self.instance if self.instance.pk else None)


@admin.register(FlashItem)
class FlashItemAdmin(FormAdmin):
    form = FlashItemForm
    list_display = ("product", "slot", "list_price", "floor", "run_start", "run_end", "status")
    list_filter = ("status", "slot")
    search_fields = ("product__sku", "product__title")
    list_select_related = ("product",)
    raw_id_fields = ("product",)
    actions = ["retire"]

    def get_readonly_fields(self, request, obj=None):
        return ("product",) if obj is not None else ()

    @admin.display(description=_("list price"))
    def list_price(self, obj):
        return format_yuan(obj.list_price_fen)

    @admin.display(description=_("floor price"))
    def floor(self, obj):
        return format_yuan(obj.floor_fen) if obj.floor_fen is not None else "-"

    def save_model(self, request, obj, form, change):
        if change:
            data = {k: form.cleaned_data.get(k) for k in form.changed_data if k in services.ITEM_EDITABLE}
            saved = self.call(request, services.flash_item_update, item_id=obj.pk, data=data)
        else:
            data = {k: form.cleaned_data.get(k) for k in services.ITEM_FIELDS}
            saved = self.call(request, services.flash_item_create, data=data)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    @admin.action(description=_("Retire the selected flash items"), permissions=["change"])
    def retire(self, request, queryset):
        for item in queryset.order_by("pk"):
            services.flash_item_retire(item_id=item.pk, actor=request.user)

    def get_actions(self, request):
        return admin.ModelAdmin.get_actions(self, request)


class HolidayForm(ServiceForm):
    class Meta:
        model = Holiday
        fields = ["date", "name", "official"]

    def check(self, data: dict) -> None:
        day = self.instance.date if self.instance.pk else data.get("date")
        services._holiday_check(day, data.get("name") or "")


@admin.register(Holiday)
class HolidayAdmin(FormAdmin):
    form = HolidayForm
    list_display = ("date", "name", "official")
    list_filter = ("official", "name")
    date_hierarchy = "date"

    def get_readonly_fields(self, request, obj=None):
        return ("date",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            data = {k: form.cleaned_data.get(k) for k in form.changed_data if k in ("name", "official")}
            saved = self.call(request, services.holiday_update, holiday_id=obj.pk, data=data)
        else:
            d = form.cleaned_data
            saved = self.call(
                request, services.holiday_create, date=d["date"], name=d["name"], official=d["official"]
            )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


@admin.register(FlashDay)
class FlashDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "item", "units", "sold", "opens_at", "is_holiday")
    list_filter = ("is_holiday",)
    list_select_related = ("item__product",)
    date_hierarchy = "day"


@admin.register(FlashClaim)
class FlashClaimAdmin(ReadOnlyAdmin):
    list_display = ("claimed_at", "order_ref", "item", "member", "quantity", "unit_price", "state")
    list_filter = ("state",)
    search_fields = ("order_ref",)
    list_select_related = ("item__product", "member")
    raw_id_fields = ("member",)

    @admin.display(description=_("unit price"))
    def unit_price(self, obj):
        return format_yuan(obj.unit_price_fen)
