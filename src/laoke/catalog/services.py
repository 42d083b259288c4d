"""Writes of the catalogue: categories (materialised path), products, gift items and stock.

Gift stock changes only by a guarded UPDATE (``quantity = quantity + delta WHERE quantity +
delta >= 0``); the CHECK constraint is the last line. Never read-modify-save a counter.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.core.validation import check_length, require

from .error_codes import (
    CATEGORY_CODE_TAKEN,
    CATEGORY_CYCLE,
    CATEGORY_NAME_TAKEN,
    CATEGORY_TOO_DEEP,
    GIFT_CODE_TAKEN,
    GIFT_OUT_OF_STOCK,
    PRICE_INVALID,
    PRODUCT_SKU_TAKEN,
    STOCK_DELTA_INVALID,
)
from .models import Category, GiftItem, GiftStock, Product

PATH_MAX = Category._meta.get_field("path").max_length


def _check_price(field: str, value, *, required: bool) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 10**12:
        raise DomainError(PRICE_INVALID, field=field)


def _text(field: str, value, max_len: int, *, required: bool = True) -> str:
    if required:
        require(field, value)
    value = (value or "").strip()
    check_length(field, value, max_len)
    return value


def _lock_parent(parent: Category | None) -> Category | None:
    """Re-read the parent under a row lock: its path may have changed since the caller loaded
    it (a concurrent move), and a move waits for this lock before rewriting paths."""
    if parent is None:
        return None
    fresh = Category.objects.select_for_update().filter(pk=parent.pk).first()
    if fresh is None:
        raise DomainError(NOT_FOUND, field="parent")
    return fresh


def _check_name_free(name: str, parent: Category | None, *, exclude_pk: int | None = None) -> None:
    qs = Category.objects.filter(name=name, parent=parent)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise DomainError(CATEGORY_NAME_TAKEN, field="name", name=name)


def category_create(*, code: str, name: str, parent: Category | None = None, actor=None) -> Category:
    code = _text("code", code, 32)
    name = _text("name", name, 100)
    with transaction.atomic(durable=True):
        parent = _lock_parent(parent)
        if Category.objects.filter(code=code).exists():
            raise DomainError(CATEGORY_CODE_TAKEN, field="code", code=code)
        _check_name_free(name, parent)
        try:
            with transaction.atomic():
                category = Category.objects.create(code=code, name=name, parent=parent, path="")
        except IntegrityError as exc:  # lost a race to a concurrent create with the same code/name
            if Category.objects.filter(code=code).exists():
                raise DomainError(CATEGORY_CODE_TAKEN, field="code", code=code) from exc
            raise DomainError(CATEGORY_NAME_TAKEN, field="name", name=name) from exc
        category.path = f"{parent.path if parent else '/'}{category.pk}/"
        if len(category.path) > PATH_MAX:
            raise DomainError(CATEGORY_TOO_DEEP, field="parent")
        category.save(update_fields=["path"])
        audit_write(
            action="category.create",
            obj=category,
            after={"code": code, "name": name, "parent": parent.pk if parent else None},
            actor=actor,
        )
    return category


def _category_change(category_id: int, *, name: str | None, parent: Category | None, move: bool, actor):
    """Rename and/or move a category; a move rewrites the materialised path of its subtree.

    Moves are rare and trees small (hundreds of nodes): lock every category row in pk order so
    two moves (A under B, B under A) cannot interleave into a cycle, and a concurrent create waits
    for the move (it locks its parent) and then reads the new path.
    """
    list(Category.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise DomainError(NOT_FOUND, field="category_id")
    before = {"name": category.name, "parent": category.parent_id, "path": category.path}
    new_parent = category.parent
    if move:
        new_parent = Category.objects.filter(pk=parent.pk).first() if parent is not None else None
        if parent is not None and new_parent is None:
            raise DomainError(NOT_FOUND, field="parent")
        if new_parent is not None and new_parent.path.startswith(category.path):
            raise DomainError(CATEGORY_CYCLE, field="parent")
    new_name = category.name if name is None else name
    if new_name != category.name or (new_parent.pk if new_parent else None) != category.parent_id:
        _check_name_free(new_name, new_parent, exclude_pk=category.pk)
    old_path = category.path
    new_path = f"{new_parent.path if new_parent else '/'}{category.pk}/"
    if new_path != old_path:
        subtree = list(Category.objects.filter(path__startswith=old_path).order_by("pk"))
        if max(len(new_path) + len(n.path) - len(old_path) for n in subtree) > PATH_MAX:
            raise DomainError(CATEGORY_TOO_DEEP, field="parent")
        for node in subtree:
            node.path = new_path + node.path[len(old_path) :]
        Category.objects.bulk_update(subtree, ["path"], batch_size=500)
    Category.objects.filter(pk=category.pk).update(parent=new_parent, name=new_name)
    category.refresh_from_db()
    b, a = diff(before, {"name": category.name, "parent": category.parent_id, "path": category.path})
    if a:
        audit_write(
            action="category.move" if "path" in a else "category.update",
            obj=category,
            before=b,
            after=a,
            actor=actor,
        )
    return category


def category_move(*, category_id: int, new_parent: Category | None, actor=None) -> Category:
    with transaction.atomic(durable=True):
        return _category_change(category_id, name=None, parent=new_parent, move=True, actor=actor)


def category_update(*, category_id: int, data: dict[str, Any], actor=None) -> Category:
    """Change ``name`` and/or ``parent`` (a move) of a category."""
    name = _text("name", data["name"], 100) if "name" in data else None
    with transaction.atomic(durable=True):
        return _category_change(
            category_id, name=name, parent=data.get("parent"), move="parent" in data, actor=actor
        )


def product_create(
    *,
    sku: str,
    title: str,
    list_price_fen: int,
    cost_price_fen: int | None = None,
    category: Category | None = None,
    is_special_sale: bool = False,
    returnable: bool = True,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Product:
    sku = _text("sku", sku, 64)
    title = _text("title", title, 200)
    _check_price("list_price_fen", list_price_fen, required=True)
    _check_price("cost_price_fen", cost_price_fen, required=False)
    now = clock.now()
    with transaction.atomic(durable=True):
        if Product.objects.filter(sku=sku).exists():
            raise DomainError(PRODUCT_SKU_TAKEN, field="sku", sku=sku)
        try:
            with transaction.atomic():
                product = Product.objects.create(
                    sku=sku,
                    title=title,
                    list_price_fen=list_price_fen,
                    cost_price_fen=cost_price_fen,
                    category=category,
                    is_special_sale=bool(is_special_sale),
                    returnable=bool(returnable),
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError as exc:  # a concurrent create took the SKU after our check
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
        "returnable": p.returnable,
    }


PRODUCT_CHANGEABLE = (
    "title",
    "list_price_fen",
    "cost_price_fen",
    "category",
    "is_special_sale",
    "is_active",
    "returnable",
)


def product_update(*, product_id: int, data: dict[str, Any], actor=None) -> Product:
    """Change some of PRODUCT_CHANGEABLE; the SKU is the product's identity and never changes
    (orders and imports refer to it)."""
    unknown = set(data) - set(PRODUCT_CHANGEABLE)
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    data = dict(data)
    if "title" in data:
        data["title"] = _text("title", data["title"], 200)
    if "list_price_fen" in data:
        _check_price("list_price_fen", data["list_price_fen"], required=True)
    if "cost_price_fen" in data:
        _check_price("cost_price_fen", data["cost_price_fen"], required=False)
    for flag in ("is_special_sale", "is_active", "returnable"):
        if flag in data and not isinstance(data[flag], bool):
            raise DomainError(FIELD_INVALID, field=flag)
    with transaction.atomic(durable=True):
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None:
            raise DomainError(NOT_FOUND, field="product_id")
        before = _product_snapshot(product)
        for key, value in data.items():
            setattr(product, key, value)
        b, a = diff(before, _product_snapshot(product))
        if a:
            product.updated_at = clock.now()
            product.save()
            audit_write(action="product.update", obj=product, before=b, after=a, actor=actor)
    return product


def gift_item_create(
    *, code: str, name: str, unit_cost_fen: int = 0, description: str = "", actor=None
) -> GiftItem:
    code = _text("code", code, 32)
    name = _text("name", name, 100)
    description = _text("description", description, 255, required=False)
    _check_price("unit_cost_fen", unit_cost_fen, required=True)
    with transaction.atomic(durable=True):
        if GiftItem.objects.filter(code=code).exists():
            raise DomainError(GIFT_CODE_TAKEN, field="code", code=code)
        try:
            with transaction.atomic():
                gift = GiftItem.objects.create(
                    code=code,
                    name=name,
                    unit_cost_fen=unit_cost_fen,
                    description=description,
                    created_at=clock.now(),
                )
        except IntegrityError as exc:
            raise DomainError(GIFT_CODE_TAKEN, field="code", code=code) from exc
        audit_write(
            action="gift_item.create",
            obj=gift,
            after={"code": code, "name": name, "unit_cost_fen": unit_cost_fen},
            actor=actor,
        )
    return gift


def _gift_snapshot(g: GiftItem) -> dict[str, Any]:
    return {
        "name": g.name,
        "unit_cost_fen": g.unit_cost_fen,
        "description": g.description,
        "is_active": g.is_active,
    }


def gift_item_update(*, gift_id: int, data: dict[str, Any], actor=None) -> GiftItem:
    """Change name, unit cost, description or the active flag (the code is the identity)."""
    unknown = set(data) - {"name", "unit_cost_fen", "description", "is_active"}
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    data = dict(data)
    if "name" in data:
        data["name"] = _text("name", data["name"], 100)
    if "description" in data:
        data["description"] = _text("description", data["description"], 255, required=False)
    if "unit_cost_fen" in data:
        _check_price("unit_cost_fen", data["unit_cost_fen"], required=True)
    if "is_active" in data and not isinstance(data["is_active"], bool):
        raise DomainError(FIELD_INVALID, field="is_active")
    with transaction.atomic(durable=True):
        gift = GiftItem.objects.select_for_update().filter(pk=gift_id).first()
        if gift is None:
            raise DomainError(NOT_FOUND, field="gift_id")
        before = _gift_snapshot(gift)
        for key, value in data.items():
            setattr(gift, key, value)
        b, a = diff(before, _gift_snapshot(gift))
        if a:
            gift.save(update_fields=list(a))
            audit_write(action="gift_item.update", obj=gift, before=b, after=a, actor=actor)
    return gift


# A test-only switch for the negative control of the stock race test: read, check, save.
_UNGUARDED_FOR_TESTS = False


STOCK_DELTA_MAX = 1_000_000


def gift_stock_adjust(
    *,
    gift: GiftItem,
    store: Store,
    delta: int,
    reason: str,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> GiftStock:
    """Add (delivery, count correction) or remove (handed out, damaged) gift stock at a store."""
    with transaction.atomic(durable=True):
        stock = _gift_stock_adjust(gift=gift, store=store, delta=delta, reason=reason, actor=actor)
        idempotency.complete(idem, stock)
    return stock


def _gift_stock_adjust(*, gift: GiftItem, store: Store, delta: int, reason: str, actor=None) -> GiftStock:
    """The guarded stock change inside the caller's transaction (a points redemption takes the
    gift out in the same transaction that spends the points)."""
    if not connection.in_atomic_block:
        raise RuntimeError("_gift_stock_adjust needs the caller's transaction")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > STOCK_DELTA_MAX:
        raise DomainError(STOCK_DELTA_INVALID, field="delta")
    reason = _text("reason", reason, 200)
    GiftStock.objects.get_or_create(gift=gift, store=store, defaults={"quantity": 0})
    if _UNGUARDED_FOR_TESTS:
        row = GiftStock.objects.get(gift=gift, store=store)
        ok = row.quantity + delta >= 0
        if ok:
            row.quantity += delta
            row.save(update_fields=["quantity"])
    else:
        ok = (
            GiftStock.objects.filter(gift=gift, store=store, quantity__gte=-delta).update(
                quantity=F("quantity") + delta
            )
            == 1
        )
    stock = GiftStock.objects.select_related("gift", "store").get(gift=gift, store=store)
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
    return stock
