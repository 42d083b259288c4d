"""Console pages for the catalogue (django-unfold).

Every save goes through the catalogue services (validated, audited): the forms check what the
services will check, so a mistake comes back as a form error, and save_model calls the service.
Nothing is deleted (orders and redemptions refer to products and gifts: deactivate instead).
Gift stock is never edited as a number: the "gift stock" page adds an *adjustment* (+/- with a
reason) through gift_stock_adjust's guarded UPDATE, and the stock rows themselves are read-only.
Prices are entered in yuan and stored in fen.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from laoke.core.admin import FormAdmin, ServiceForm
from laoke.core.errors import DomainError
from laoke.core.models import Store
from laoke.core.money import fen_to_yuan, format_yuan, yuan_to_fen

from . import services
from .error_codes import CATEGORY_CYCLE, GIFT_OUT_OF_STOCK
from .models import Category, GiftItem, GiftStock, Product


def _yuan_field(label, *, required: bool) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0"),
        max_value=Decimal("10000000000"),
        max_digits=14,
        decimal_places=2,
        help_text=_("In yuan, e.g. 268.00"),
    )


def _fen(value) -> int | None:
    return None if value is None else yuan_to_fen(value)


# --- categories ----------------------------------------------------------------------------------


class CategoryForm(ServiceForm):
    class Meta:
        model = Category
        fields = ["code", "name", "parent"]

    def clean(self):
        data = super().clean()
        parent = data.get("parent")
        if self.instance.pk and parent is not None and parent.path.startswith(self.instance.path):
            self.domain_error(DomainError(CATEGORY_CYCLE, field="parent"))
        return data


@admin.register(Category)
class CategoryAdmin(FormAdmin):
    form = CategoryForm
    list_display = ("code", "name", "parent", "path")
    search_fields = ("code", "name")
    ordering = ("path",)

    def get_readonly_fields(self, request, obj=None):
        return ("code", "path") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        if change:
            data = {k: cd[k] for k in form.changed_data if k in ("name", "parent")}
            saved = self.call(request, services.category_update, category_id=obj.pk, data=data)
        else:
            saved = self.call(
                request, services.category_create, code=cd["code"], name=cd["name"], parent=cd.get("parent")
            )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


# --- products ------------------------------------------------------------------------------------


class ProductForm(ServiceForm):
    list_price = _yuan_field(_("list price (yuan)"), required=True)
    cost_price = _yuan_field(_("cost price (yuan)"), required=False)

    class Meta:
        model = Product
        fields = ["sku", "title", "category", "is_special_sale", "returnable", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["list_price"].initial = fen_to_yuan(self.instance.list_price_fen)
            if self.instance.cost_price_fen is not None:
                self.fields["cost_price"].initial = fen_to_yuan(self.instance.cost_price_fen)


@admin.register(Product)
class ProductAdmin(FormAdmin):
    form = ProductForm
    list_display = ("sku", "title", "category", "list_price", "cost_price", "is_special_sale", "is_active")
    list_filter = ("is_special_sale", "is_active", "category")
    search_fields = ("sku", "title")
    list_select_related = ("category",)
    ordering = ("-id",)

    def get_fields(self, request, obj=None):
        return [
            "sku",
            "title",
            "category",
            "list_price",
            "cost_price",
            "is_special_sale",
            "returnable",
            "is_active",
        ]

    def get_readonly_fields(self, request, obj=None):
        return ("sku",) if obj is not None else ()

    @admin.display(description=_("list price"), ordering="list_price_fen")
    def list_price(self, obj):
        return format_yuan(obj.list_price_fen)

    @admin.display(description=_("cost price"), ordering="cost_price_fen")
    def cost_price(self, obj):
        return format_yuan(obj.cost_price_fen) if obj.cost_price_fen is not None else "—"

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        if change:
            names = {"list_price": "list_price_fen", "cost_price": "cost_price_fen"}
            data = {}
            for key in form.changed_data:
                if key in names:
                    data[names[key]] = _fen(cd[key])
                elif key in services.PRODUCT_CHANGEABLE:
                    data[key] = cd[key]
            saved = self.call(request, services.product_update, product_id=obj.pk, data=data)
        else:
            saved = self.call(
                request,
                services.product_create,
                sku=cd["sku"],
                title=cd["title"],
                category=cd.get("category"),
                list_price_fen=_fen(cd["list_price"]),
                cost_price_fen=_fen(cd.get("cost_price")),
                is_special_sale=cd.get("is_special_sale", False),
                returnable=cd.get("returnable", True),
            )
            if not cd.get("is_active", True):
                saved = self.call(
                    request, services.product_update, product_id=saved.pk, data={"is_active": False}
                )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


# --- gift items and their stock --------------------------------------------------------------------


class GiftStockInline(TabularInline):
    model = GiftStock
    extra = 0
    fields = ("store", "quantity")
    readonly_fields = ("store", "quantity")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only: the posted numbers are ignored, stock changes by adjustment

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("catalog.view_giftitem") or super().has_view_permission(request, obj)


class GiftItemForm(ServiceForm):
    unit_cost = _yuan_field(_("unit cost (yuan)"), required=True)

    class Meta:
        model = GiftItem
        fields = ["code", "name", "description", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_cost"].initial = fen_to_yuan(self.instance.unit_cost_fen if self.instance.pk else 0)


@admin.register(GiftItem)
class GiftItemAdmin(FormAdmin):
    form = GiftItemForm
    list_display = ("code", "name", "unit_cost_display", "total_stock", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    inlines = [GiftStockInline]

    def get_fields(self, request, obj=None):
        return ["code", "name", "unit_cost", "description", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    @admin.display(description=_("unit cost"), ordering="unit_cost_fen")
    def unit_cost_display(self, obj):
        return format_yuan(obj.unit_cost_fen)

    @admin.display(description=_("stock (all stores)"))
    def total_stock(self, obj):
        return sum(s.quantity for s in obj.stock.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("stock")

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        if change:
            data = {k: cd[k] for k in form.changed_data if k in ("name", "description", "is_active")}
            if "unit_cost" in form.changed_data:
                data["unit_cost_fen"] = _fen(cd["unit_cost"])
            saved = self.call(request, services.gift_item_update, gift_id=obj.pk, data=data)
        else:
            saved = self.call(
                request,
                services.gift_item_create,
                code=cd["code"],
                name=cd["name"],
                unit_cost_fen=_fen(cd["unit_cost"]),
                description=cd.get("description") or "",
            )
            if not cd.get("is_active", True):
                saved = self.call(
                    request, services.gift_item_update, gift_id=saved.pk, data={"is_active": False}
                )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


class StockAdjustmentForm(ServiceForm):
    """Not an edit of the stock row: a +/- adjustment with a reason, applied by the service."""

    delta = forms.IntegerField(
        label=_("change"),
        min_value=-services.STOCK_DELTA_MAX,
        max_value=services.STOCK_DELTA_MAX,
        help_text=_("Positive to add (delivery), negative to remove (damaged, handed out)."),
    )
    reason = forms.CharField(label=_("reason"), max_length=200)

    class Meta:
        model = GiftStock
        fields = ["gift", "store"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "store" in self.fields:  # absent on the read-only view of a stock row
            self.fields["store"].queryset = Store.objects.filter(is_active=True)

    def _post_clean(self):
        pass  # the row may exist already (it is adjusted, not created): the service decides

    def clean(self):
        data = super().clean()
        gift, store, delta = data.get("gift"), data.get("store"), data.get("delta")
        if delta == 0:
            raise ValidationError({"delta": _("The change cannot be zero.")})
        if gift and store and delta and delta < 0:
            have = (
                GiftStock.objects.filter(gift=gift, store=store).values_list("quantity", flat=True).first()
                or 0
            )
            if have + delta < 0:
                self.domain_error(DomainError(GIFT_OUT_OF_STOCK, field="delta", available=have))
        return data


@admin.register(GiftStock)
class GiftStockAdmin(FormAdmin):
    """Stock per gift and store. "Add" records an adjustment; rows are never edited directly."""

    form = StockAdjustmentForm
    list_display = ("gift", "store", "quantity")
    list_filter = ("store",)
    search_fields = ("gift__code", "gift__name", "store__code", "store__name")
    list_select_related = ("gift", "store")
    ordering = ("gift__code", "store__code")

    def get_fields(self, request, obj=None):
        return ["gift", "store", "quantity"] if obj is not None else ["gift", "store", "delta", "reason"]

    def get_readonly_fields(self, request, obj=None):
        return ("gift", "store", "quantity") if obj is not None else ()

    def has_add_permission(self, request):
        return request.user.has_perm("catalog.change_giftstock")

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("catalog.view_giftitem") or super().has_view_permission(request, obj)

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        stock = self.call(
            request,
            services.gift_stock_adjust,
            gift=cd["gift"],
            store=cd["store"],
            delta=cd["delta"],
            reason=cd["reason"],
        )
        obj.pk = stock.pk
        obj.__dict__.update(stock.__dict__)
