"""Writes of the catalogue: categories (materialised path), products, gift items and stock.

Gift stock changes only by a guarded UPDATE (``quantity = quantity + delta WHERE quantity +
delta >= 0``); the CHECK constraint is the last line. Never read-modify-save a counter.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.core.validation import check_length, require

from .error_codes import (
    CATEGORY_CODE_TAKEN,
    CATEGORY_CYCLE,
    GIFT_CODE_TAKEN,
    GIFT_OUT_OF_STOCK,
    PRICE_INVALID,
    PRODUCT_SKU_TAKEN,
    STOCK_DELTA_INVALID,
)
from .models import Category, GiftItem, GiftStock, Product


def _check_price(field: str, value, *, required: bool) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 10**12:
        raise DomainError(PRICE_INVALID, field=field)


def category_create(*, code: str, name: str, parent: Category | None = None, actor=None) -> Category:
    require("code", code)
    require("name", name)
    check_length("code", code, 32)
    check_length("name", name, 100)
    with transaction.atomic(durable=True):
        if Category.objects.filter(code=code).exists():
            raise DomainError(CATEGORY_CODE_TAKEN, field="code", code=code)
        category = Category.objects.create(code=code, name=name, parent=parent, path="")
        category.path = f"{parent.path if parent else '/'}{category.pk}/"
        category.save(update_fields=["path"])
        audit_write(
            action="category.create",
            obj=category,
            after={"code": code, "name": name, "parent": parent.pk if parent else None},
            actor=actor,
        )
    return category


def category_move(*, category_id: int, new_parent: Category | None, actor=None) -> Category:
    with transaction.atomic(durable=True):
        category = Category.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise DomainError(NOT_FOUND, field="category_id")
        if new_parent is not None and new_parent.path.startswith(category.path):
            raise DomainError(CATEGORY_CYCLE, field="parent")
        old_path = category.path
        new_path = f"{new_parent.path if new_parent else '/'}{category.pk}/"
        for node in Category.objects.select_for_update().filter(path__startswith=old_path):
            node.path = new_path + node.path[len(old_path) :]
            node.save(update_fields=["path"])
        Category.objects.filter(pk=category.pk).update(parent=new_parent)
        category.refresh_from_db()
        audit_write(
            action="category.move",
            obj=category,
            before={"path": old_path},
            after={"path": new_path},
            actor=actor,
        )
    return category


PRODUCT_FIELDS = {"title": 200}


def product_create(
    *,
    sku: str,
    title: str,
    list_price_fen: int,
    cost_price_fen: int | None = None,
    category: Category | None = None,
    is_special_sale: bool = False,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Product:
    require("sku", sku)
    require("title", title)
    check_length("sku", sku, 64)
    check_length("title", title, 200)
    _check_price("list_price_fen", list_price_fen, required=True)
    _check_price("cost_price_fen", cost_price_fen, required=False)
    now = clock.now()
    with transaction.atomic(durable=True):
        if Product.objects.filter(sku=sku).exists():
            raise DomainError(PRODUCT_SKU_TAKEN, field="sku", sku=sku)
        try:
            with transaction.atomic():
                product = Product.objects.create(
                    sku=sku.strip(),
                    title=title.strip(),
                    list_price_fen=list_price_fen,
                    cost_price_fen=cost_price_fen,
                    category=category,
                    is_special_sale=is_special_sale,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError as exc:
            raise DomainError(PRODUCT_SKU_TAKEN, field="sku", sku=sku) from exc
        audit_write(action="product.create", obj=product, after=_product_snapshot(product), actor=actor)
        idempotency.complete(idem, product)
    return product


def _product_snapshot(p: Product) -> dict[str, Any]:
    return {
        "sku": p.sku,
        "title": p.title,
        "list_price_fen": p.list_price_fen,
        "cost_price_fen": p.cost_price_fen,
        "category": p.category_id,
        "is_special_sale": p.is_special_sale,
        "is_active": p.is_active,
    }


def product_update(*, product_id: int, data: dict[str, Any], actor=None) -> Product:
    if "title" in data:
        require("title", data["title"])
        check_length("title", data["title"], 200)
    if "list_price_fen" in data:
        _check_price("list_price_fen", data["list_price_fen"], required=True)
    if "cost_price_fen" in data:
        _check_price("cost_price_fen", data["cost_price_fen"], required=False)
    with transaction.atomic(durable=True):
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None:
            raise DomainError(NOT_FOUND, field="product_id")
        before = _product_snapshot(product)
        for key in ("title", "list_price_fen", "cost_price_fen", "category", "is_special_sale", "is_active"):
            if key in data:
                setattr(product, key, data[key])
        product.updated_at = clock.now()
        product.save()
        b, a = diff(before, _product_snapshot(product))
        if a:
            audit_write(action="product.update", obj=product, before=b, after=a, actor=actor)
    return product


def gift_item_create(
    *, code: str, name: str, unit_cost_fen: int = 0, description: str = "", actor=None
) -> GiftItem:
    require("code", code)
    require("name", name)
    check_length("code", code, 32)
    check_length("name", name, 100)
    check_length("description", description, 255)
    _check_price("unit_cost_fen", unit_cost_fen, required=True)
    with transaction.atomic(durable=True):
        if GiftItem.objects.filter(code=code).exists():
            raise DomainError(GIFT_CODE_TAKEN, field="code", code=code)
        gift = GiftItem.objects.create(
            code=code, name=name, unit_cost_fen=unit_cost_fen, description=description, created_at=clock.now()
        )
        audit_write(action="gift_item.create", obj=gift, after={"code": code, "name": name}, actor=actor)
    return gift


# A test-only switch for the negative control of the stock race test: read, check, save.
_UNGUARDED_FOR_TESTS = False


def gift_stock_adjust(
    *,
    gift: GiftItem,
    store: Store,
    delta: int,
    reason: str,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> GiftStock:
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise DomainError(STOCK_DELTA_INVALID, field="delta")
    require("reason", reason)
    check_length("reason", reason, 200)
    with transaction.atomic(durable=True):
        GiftStock.objects.get_or_create(gift=gift, store=store, defaults={"quantity": 0})
        if _UNGUARDED_FOR_TESTS:
            row = GiftStock.objects.get(gift=gift, store=store)
            ok = row.quantity + delta >= 0
            if ok:
                row.quantity += delta
                row.save(update_fields=["quantity"])
        else:
            ok = (
                GiftStock.objects.filter(
                    gift=gift, store=store, quantity__gte=-delta if delta < 0 else 0
                ).update(quantity=F("quantity") + delta)
                == 1
            )
        stock = GiftStock.objects.get(gift=gift, store=store)
        if not ok:
            raise DomainError(GIFT_OUT_OF_STOCK, field="delta", available=stock.quantity)
        audit_write(
            action="gift_stock.adjust",
            obj=stock,
            after={
                "gift": gift.code,
                "store": store.code,
                "delta": delta,
                "quantity": stock.quantity,
                "reason": reason,
            },
            actor=actor,
        )
        idempotency.complete(idem, stock)
    return stock
