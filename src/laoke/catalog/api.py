"""Catalogue API: /api/v1/catalog/… (categories, products, gift items, gift stock)."""

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from laoke.core.api import idempotent_write, paginate, require
from laoke.core.models import Store

from . import selectors, services
from .models import Category, GiftItem

router = Router(tags=["catalog"])


class CategoryIn(Schema):
    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=100)
    parent_id: int | None = None


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    path: str


@router.get("/categories", response=list[CategoryOut], summary="The category tree (flat, with paths)")
@require("catalog.view_category", "catalog:read")
def category_list(request):
    return list(Category.objects.order_by("path"))


@router.post("/categories", response={201: CategoryOut}, summary="Create a category")
@require("catalog.add_category", "catalog:write")
def category_create(request, payload: CategoryIn):
    parent = get_object_or_404(Category, pk=payload.parent_id) if payload.parent_id else None
    return Status(201, services.category_create(code=payload.code, name=payload.name, parent=parent))


class ProductIn(Schema):
    sku: str = Field(..., min_length=1, max_length=64)
    title: str = Field(..., min_length=1, max_length=200)
    list_price_fen: int = Field(..., ge=0, le=10**12)
    cost_price_fen: int | None = Field(None, ge=0, le=10**12)
    category_id: int | None = None
    is_special_sale: bool = False
    returnable: bool = True


class ProductPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    list_price_fen: int | None = Field(None, ge=0, le=10**12)
    cost_price_fen: int | None = Field(None, ge=0, le=10**12)
    category_id: int | None = None
    is_special_sale: bool | None = None
    is_active: bool | None = None
    returnable: bool | None = None


class ProductOut(Schema):
    id: int
    sku: str
    title: str
    list_price_fen: int
    cost_price_fen: int | None
    category_id: int | None
    is_special_sale: bool
    is_active: bool
    returnable: bool


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None


@router.get(
    "/products", response=ProductPage, summary="Products (filter by category subtree, text, special sale)"
)
@require("catalog.view_product", "catalog:read")
def product_list(
    request,
    q: str | None = Query(None, max_length=100),
    category_id: int | None = None,
    special: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    category = get_object_or_404(Category, pk=category_id) if category_id else None
    items, nxt = paginate(
        selectors.product_search(q=q, category=category, special=special), cursor=cursor, limit=limit
    )
    return {"items": items, "next_cursor": nxt}


@router.post("/products", response={201: ProductOut}, summary="Create a product (accepts Idempotency-Key)")
@require("catalog.add_product", "catalog:write")
def product_create(request, payload: ProductIn):
    category = get_object_or_404(Category, pk=payload.category_id) if payload.category_id else None

    def call(claim):
        return services.product_create(
            sku=payload.sku,
            title=payload.title,
            list_price_fen=payload.list_price_fen,
            cost_price_fen=payload.cost_price_fen,
            category=category,
            is_special_sale=payload.is_special_sale,
            returnable=payload.returnable,
            idem=claim,
        )

    def render(product):
        return 201, ProductOut.from_orm(product).dict()

    return idempotent_write(
        request, scope="products.create", payload=payload.dict(), call=call, render=render
    )


@router.get("/products/{int:product_id}", response=ProductOut, summary="One product")
@require("catalog.view_product", "catalog:read")
def product_detail(request, product_id: int):
    return get_object_or_404(selectors.product_search(), pk=product_id)


@router.patch("/products/{int:product_id}", response=ProductOut, summary="Change a product")
@require("catalog.change_product", "catalog:write")
def product_update(request, product_id: int, payload: ProductPatch):
    data = payload.dict(exclude_unset=True)
    if "category_id" in data:
        cid = data.pop("category_id")
        data["category"] = get_object_or_404(Category, pk=cid) if cid else None
    return services.product_update(product_id=product_id, data=data)


class GiftIn(Schema):
    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=100)
    unit_cost_fen: int = Field(0, ge=0, le=10**12)
    description: str = Field("", max_length=255)


class GiftOut(Schema):
    id: int
    code: str
    name: str
    unit_cost_fen: int
    is_active: bool


@router.get("/gifts", response=list[GiftOut], summary="Gift items")
@require("catalog.view_giftitem", "catalog:read")
def gift_list(request):
    return list(GiftItem.objects.order_by("code"))


@router.post("/gifts", response={201: GiftOut}, summary="Create a gift item")
@require("catalog.add_giftitem", "catalog:write")
def gift_create(request, payload: GiftIn):
    return Status(
        201,
        services.gift_item_create(
            code=payload.code,
            name=payload.name,
            unit_cost_fen=payload.unit_cost_fen,
            description=payload.description,
        ),
    )


class StockOut(Schema):
    gift_code: str
    store_code: str
    quantity: int


class StockAdjustIn(Schema):
    gift_code: str = Field(..., min_length=1, max_length=32)
    store_code: str = Field(..., min_length=1, max_length=32)
    delta: int = Field(..., ge=-1_000_000, le=1_000_000)
    reason: str = Field(..., min_length=1, max_length=200)


def _stock_out(stock) -> dict:
    return {"gift_code": stock.gift.code, "store_code": stock.store.code, "quantity": stock.quantity}


@router.get("/gift-stock", response=list[StockOut], summary="Gift stock per store")
@require("catalog.view_giftitem", "catalog:read")
def stock_list(request, store_id: int | None = None):
    return [_stock_out(s) for s in selectors.gift_stock_list(store_id=store_id)]


@router.post(
    "/gift-stock/adjust", response=StockOut, summary="Add or remove gift stock (Idempotency-Key required)"
)
@require("catalog.change_giftstock", "catalog:write")
def stock_adjust(request, payload: StockAdjustIn):
    gift = get_object_or_404(GiftItem, code=payload.gift_code)
    store = get_object_or_404(Store, code=payload.store_code)

    def call(claim):
        return services.gift_stock_adjust(
            gift=gift, store=store, delta=payload.delta, reason=payload.reason, idem=claim
        )

    def render(stock):
        return 200, _stock_out(stock)

    return idempotent_write(
        request, scope="gift_stock.adjust", payload=payload.dict(), call=call, render=render, required=True
    )
