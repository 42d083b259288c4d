"""Catalogue: categories (a tree), products (SKU, list and cost price in fen, special-sale
flag) and gift items with stock per store (for points redemption and events)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.core.models import Store


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    # Materialised path of ids, e.g. "/3/17/": subtree queries are one prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    code = models.CharField(_("code"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_parent_name_uniq"),
            # NULL parents are distinct in a unique constraint: top-level names need their own.
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="category_root_name_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("category"),
    )
    list_price_fen = models.PositiveBigIntegerField(_("list price (fen)"))
    cost_price_fen = models.PositiveBigIntegerField(_("cost price (fen)"), null=True, blank=True)
    is_special_sale = models.BooleanField(
        _("member special sale"),
        default=False,
        help_text=_("会员特价: earns no points and cannot be paid with points"),
    )
    is_active = models.BooleanField(_("on sale"), default=True)
    returnable = models.BooleanField(
        _("designated for returns"),
        default=True,
        help_text=_("退换货: returned within the return window after delivery (15 days members, 7 others)"),
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["category", "id"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.sku})"


class GiftItem(models.Model):
    """A gift handed out for points, at events or with orders (towel, gift box, mooncake)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    unit_cost_fen = models.PositiveBigIntegerField(_("unit cost (fen)"), default=0)
    description = models.CharField(_("description"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("gift item")
        verbose_name_plural = _("gift items")

    def __str__(self) -> str:
        return self.name


class GiftStock(models.Model):
    """Stock of a gift at a store. Changed only by guarded UPDATEs in services; never negative."""

    gift = models.ForeignKey(GiftItem, on_delete=models.PROTECT, related_name="stock", verbose_name=_("gift"))
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="gift_stock", verbose_name=_("store")
    )
    quantity = models.IntegerField(_("quantity"), default=0)

    class Meta:
        verbose_name = _("gift stock")
        verbose_name_plural = _("gift stock")
        constraints = [
            models.UniqueConstraint(fields=["gift", "store"], name="giftstock_gift_store_uniq"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="giftstock_quantity_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.gift} @ {self.store}"
