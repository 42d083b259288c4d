import pytest

from laoke.catalog.models import Category, GiftStock, Product
from laoke.catalog.selectors import category_subtree, product_search
from laoke.catalog.services import (
    category_create,
    category_move,
    gift_item_create,
    gift_stock_adjust,
    product_create,
)
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.core.services import store_create

J = "application/json"


def test_category_paths_and_move(db):
    baby = category_create(code="B", name="母婴")
    food = category_create(code="BF", name="食品", parent=baby)
    milk = category_create(code="BFM", name="奶粉", parent=food)
    assert milk.path == f"/{baby.pk}/{food.pk}/{milk.pk}/"
    assert set(category_subtree(baby)) == {baby, food, milk}
    other = category_create(code="O", name="其他")
    category_move(category_id=food.pk, new_parent=other)
    milk.refresh_from_db()
    assert milk.path == f"/{other.pk}/{food.pk}/{milk.pk}/"
    with pytest.raises(DomainError) as exc:
        category_move(category_id=other.pk, new_parent=Category.objects.get(pk=milk.pk))
    assert exc.value.code == "CATEGORY_CYCLE"


def test_product_search_by_subtree(db):
    baby = category_create(code="B", name="母婴")
    food = category_create(code="BF", name="食品", parent=baby)
    p = product_create(sku="S1", title="奶粉", list_price_fen=26800, category=food)
    product_create(sku="S2", title="大米", list_price_fen=4990)
    assert list(product_search(category=baby)) == [p]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"sku": "A", "title": "x", "list_price_fen": -1}, 422, "VALIDATION_ERROR"),
        ({"sku": "A", "title": "x", "list_price_fen": "12.5"}, 422, "VALIDATION_ERROR"),
        ({"sku": "A" * 65, "title": "x", "list_price_fen": 1}, 422, "VALIDATION_ERROR"),
        ({"title": "x", "list_price_fen": 1}, 422, "VALIDATION_ERROR"),
    ],
)
def test_product_bad_input(api, body, status, code):
    client = api("marketer")
    r = client.post("/api/v1/catalog/products", body, content_type=J)
    assert r.status_code == status and r.json()["code"] == code
    assert Product.objects.count() == 0


def test_duplicate_sku_409(api):
    client = api("marketer")
    body = {"sku": "A1", "title": "连衣裙", "list_price_fen": 29900}
    assert client.post("/api/v1/catalog/products", body, content_type=J).status_code == 201
    r = client.post("/api/v1/catalog/products", body, content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "PRODUCT_SKU_TAKEN"
    assert Product.objects.count() == 1


def test_stock_never_negative(db):
    store = store_create(code="S", name="店")
    gift = gift_item_create(code="TOWEL", name="小方巾")
    gift_stock_adjust(gift=gift, store=store, delta=3, reason="到货")
    gift_stock_adjust(gift=gift, store=store, delta=-2, reason="兑换")
    with pytest.raises(DomainError) as exc:
        gift_stock_adjust(gift=gift, store=store, delta=-2, reason="兑换")
    assert exc.value.code == "GIFT_OUT_OF_STOCK"
    assert GiftStock.objects.get(gift=gift, store=store).quantity == 1
    assert AuditEntry.objects.filter(action="gift_stock.adjust").count() == 2


def test_stock_adjust_requires_idempotency_key(api, db):
    store_create(code="S", name="店")
    gift_item_create(code="TOWEL", name="小方巾")
    client = api("redemption_clerk")
    body = {"gift_code": "TOWEL", "store_code": "S", "delta": 5, "reason": "到货"}
    r = client.post("/api/v1/catalog/gift-stock/adjust", body, content_type=J)
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    r1 = client.post("/api/v1/catalog/gift-stock/adjust", body, content_type=J, HTTP_IDEMPOTENCY_KEY="a")
    r2 = client.post("/api/v1/catalog/gift-stock/adjust", body, content_type=J, HTTP_IDEMPOTENCY_KEY="a")
    assert r1.json() == r2.json() == {"gift_code": "TOWEL", "store_code": "S", "quantity": 5}
    assert GiftStock.objects.get().quantity == 5
