"""Console pages for the catalogue. Products and categories are edited through the catalogue
services (validated, audited); gift stock changes only through gift_stock_adjust."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from laoke.core.admin import ReadOnlyAdmin
from laoke.core.money import format_yuan

from .models import Category, GiftItem, GiftStock, Product


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "parent", "path")
    search_fields = ("code", "name")


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("sku", "title", "category", "list_price", "cost_price", "is_special_sale", "is_active")
    list_filter = ("is_special_sale", "is_active", "category")
    search_fields = ("sku", "title")

    @admin.display(description=_("list price"), ordering="list_price_fen")
    def list_price(self, obj):
        return format_yuan(obj.list_price_fen)

    @admin.display(description=_("cost price"), ordering="cost_price_fen")
    def cost_price(self, obj):
        return format_yuan(obj.cost_price_fen) if obj.cost_price_fen is not None else "—"


class GiftStockInline(TabularInline):
    model = GiftStock
    extra = 0
    fields = ("store", "quantity")
    readonly_fields = ("store", "quantity")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(GiftItem)
class GiftItemAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "unit_cost", "is_active")
    search_fields = ("code", "name")
    inlines = [GiftStockInline]

    @admin.display(description=_("unit cost"), ordering="unit_cost_fen")
    def unit_cost(self, obj):
        return format_yuan(obj.unit_cost_fen)
