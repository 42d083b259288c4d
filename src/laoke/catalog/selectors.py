from __future__ import annotations

from django.db.models import Q

from .models import Category, GiftStock, Product


def category_subtree(category: Category):
    return Category.objects.filter(path__startswith=category.path)


def product_search(
    *,
    q: str | None = None,
    category: Category | None = None,
    special: bool | None = None,
    active_only: bool = False,
):
    qs = Product.objects.select_related("category")
    if q:
        qs = qs.filter(Q(sku=q.strip()) | Q(title__icontains=q.strip()))
    if category is not None:
        qs = qs.filter(category__path__startswith=category.path)
    if special is not None:
        qs = qs.filter(is_special_sale=special)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs


def gift_stock_list(*, store_id: int | None = None):
    qs = GiftStock.objects.select_related("gift", "store").order_by("gift__code", "store__code")
    return qs.filter(store_id=store_id) if store_id else qs
