"""The catalogue API: /api/v1/catalog/… — status codes, stable error codes, nothing written on bad input."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from laoke.catalog.models import Category, GiftItem, GiftStock, Product
from laoke.catalog.services import category_create, gift_stock_adjust, product_create
from laoke.core.models import AuditEntry
from laoke.core.services import store_create

J = "application/json"
C = "/api/v1/catalog"


@pytest.fixture
def marketer(api):
    return api("marketer")


def test_category_create_and_list(marketer):
    r = marketer.post(f"{C}/categories", {"code": "F", "name": "食品"}, content_type=J)
    assert r.status_code == 201
    top = r.json()
    r = marketer.post(
        f"{C}/categories", {"code": "FM", "name": "奶粉", "parent_id": top["id"]}, content_type=J
    )
    assert r.status_code == 201 and r.json()["path"] == f"/{top['id']}/{r.json()['id']}/"
    r = marketer.post(f"{C}/categories", {"code": "F", "name": "别的"}, content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "CATEGORY_CODE_TAKEN"
    r = marketer.post(
        f"{C}/categories", {"code": "X", "name": "奶粉", "parent_id": top["id"]}, content_type=J
    )
    assert r.status_code == 409 and r.json()["code"] == "CATEGORY_NAME_TAKEN"
    r = marketer.post(f"{C}/categories", {"code": "Y", "name": "y", "parent_id": 99999}, content_type=J)
    assert r.status_code == 404
    r = marketer.post(f"{C}/categories", {"code": "", "name": "y"}, content_type=J)
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_ERROR"
    assert Category.objects.count() == 2
    listed = marketer.get(f"{C}/categories").json()
    assert [c["code"] for c in listed] == ["F", "FM"]


def test_products_paginate_newest_first_with_filters(marketer):
    food = category_create(code="F", name="食品")
    milk = category_create(code="FM", name="奶粉", parent=food)
    made = [
        product_create(
            sku=f"P{i}", title=f"商品{i}", list_price_fen=100 * i, category=milk if i % 2 else None
        )
        for i in range(1, 8)
    ]
    seen, cursor = [], None
    while True:
        url = f"{C}/products?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = marketer.get(url).json()
        assert len(page["items"]) <= 3
        seen += [p["sku"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [p.sku for p in reversed(made)]
    in_food = marketer.get(f"{C}/products?category_id={food.pk}").json()["items"]
    assert {p["sku"] for p in in_food} == {"P1", "P3", "P5", "P7"}
    assert [p["sku"] for p in marketer.get(f"{C}/products?q=P4").json()["items"]] == ["P4"]
    assert marketer.get(f"{C}/products?special=true").json()["items"] == []
    assert marketer.get(f"{C}/products?cursor=garbage").json()["code"] == "INVALID_CURSOR"
    assert marketer.get(f"{C}/products?category_id=99999").status_code == 404


def test_product_create_replays_with_the_same_idempotency_key(marketer):
    body = {"sku": "A1", "title": "连衣裙", "list_price_fen": 29900, "cost_price_fen": 11000}
    r1 = marketer.post(f"{C}/products", body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    r2 = marketer.post(f"{C}/products", body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r1.status_code == r2.status_code == 201 and r1.json() == r2.json()
    r3 = marketer.post(f"{C}/products", {**body, "title": "别的"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r3.status_code == 409 and r3.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert Product.objects.count() == 1


def test_product_detail_and_patch(marketer):
    food = category_create(code="F", name="食品")
    p = product_create(sku="RICE", title="大米", list_price_fen=4990)
    assert marketer.get(f"{C}/products/{p.pk}").json()["sku"] == "RICE"
    assert marketer.get(f"{C}/products/99999").status_code == 404
    r = marketer.patch(
        f"{C}/products/{p.pk}",
        {"list_price_fen": 4590, "category_id": food.pk, "is_special_sale": True},
        content_type=J,
    )
    assert r.status_code == 200
    assert (r.json()["list_price_fen"], r.json()["category_id"], r.json()["is_special_sale"]) == (
        4590,
        food.pk,
        True,
    )
    row = AuditEntry.objects.get(action="product.update")
    assert row.actor_id == marketer.user.pk
    assert row.after == {"list_price_fen": 4590, "category": food.pk, "is_special_sale": True}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"list_price_fen": -1}, "VALIDATION_ERROR"),
        ({"list_price_fen": "abc"}, "VALIDATION_ERROR"),
        ({"list_price_fen": None}, "PRICE_INVALID"),
        ({"title": ""}, "VALIDATION_ERROR"),
        ({"title": None}, "FIELD_REQUIRED"),
        ({"title": "x" * 201}, "VALIDATION_ERROR"),
        ({"is_active": None}, "FIELD_INVALID"),
    ],
)
def test_product_patch_bad_input_changes_nothing(marketer, body, code):
    p = product_create(sku="RICE", title="大米", list_price_fen=4990)
    r = marketer.patch(f"{C}/products/{p.pk}", body, content_type=J)
    assert r.status_code == 422 and r.json()["code"] == code, r.json()
    p.refresh_from_db()
    assert (p.title, p.list_price_fen, p.is_active) == ("大米", 4990, True)
    assert not AuditEntry.objects.filter(action="product.update").exists()


def test_gifts_and_stock(api):
    store_create(code="S1", name="一店")
    s2 = store_create(code="S2", name="二店")
    marketer = api("marketer")
    r = marketer.post(f"{C}/gifts", {"code": "TOWEL", "name": "小方巾", "unit_cost_fen": 350}, content_type=J)
    assert r.status_code == 201 and r.json()["unit_cost_fen"] == 350
    r = marketer.post(f"{C}/gifts", {"code": "TOWEL", "name": "x"}, content_type=J)
    assert r.status_code == 409 and r.json()["code"] == "GIFT_CODE_TAKEN"
    r = marketer.post(f"{C}/gifts", {"code": "BOX", "name": "礼盒", "unit_cost_fen": -1}, content_type=J)
    assert r.status_code == 422
    assert [g["code"] for g in marketer.get(f"{C}/gifts").json()] == ["TOWEL"]

    clerk = api("redemption_clerk")
    url = f"{C}/gift-stock/adjust"
    body = {"gift_code": "TOWEL", "store_code": "S1", "delta": 4, "reason": "到货"}
    assert clerk.post(url, body, content_type=J, HTTP_IDEMPOTENCY_KEY="in-1").json()["quantity"] == 4
    gift_stock_adjust(gift=GiftItem.objects.get(code="TOWEL"), store=s2, delta=1, reason="到货")
    take = {**body, "delta": -5, "reason": "兑换"}
    r = clerk.post(url, take, content_type=J, HTTP_IDEMPOTENCY_KEY="out-1")
    assert r.status_code == 409 and r.json()["code"] == "GIFT_OUT_OF_STOCK"
    assert r.json()["message"] == "Not enough gift stock (4 left)"
    # The failed attempt released its key: the same key with a body that fits goes through.
    r = clerk.post(url, {**take, "delta": -4}, content_type=J, HTTP_IDEMPOTENCY_KEY="out-1")
    assert r.status_code == 200 and r.json()["quantity"] == 0
    r = clerk.post(url, {**body, "gift_code": "NOPE"}, content_type=J, HTTP_IDEMPOTENCY_KEY="x")
    assert r.status_code == 404
    r = clerk.post(url, {**body, "delta": 0}, content_type=J, HTTP_IDEMPOTENCY_KEY="y")
    assert r.status_code == 422 and r.json()["code"] == "STOCK_DELTA_INVALID"
    r = clerk.post(url, {**body, "delta": 10**7}, content_type=J, HTTP_IDEMPOTENCY_KEY="z")
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_ERROR"

    listed = clerk.get(f"{C}/gift-stock").json()
    assert listed == [
        {"gift_code": "TOWEL", "store_code": "S1", "quantity": 0},
        {"gift_code": "TOWEL", "store_code": "S2", "quantity": 1},
    ]
    assert clerk.get(f"{C}/gift-stock?store_id={s2.pk}").json() == [listed[1]]
    assert GiftStock.objects.get(store__code="S1").quantity == 0


def test_read_only_token_cannot_write(api):
    reader = api("marketer", scopes=["catalog:read"])
    r = reader.post(f"{C}/products", {"sku": "A", "title": "x", "list_price_fen": 1}, content_type=J)
    assert r.status_code == 403 and r.json()["code"] == "TOKEN_SCOPE_MISSING"
    assert reader.get(f"{C}/products").status_code == 200
    assert Product.objects.count() == 0


def test_product_list_query_count_does_not_grow_with_the_page(marketer):
    food = category_create(code="F", name="食品")
    counts = []
    for total in (3, 30):
        for i in range(total - Product.objects.count()):
            product_create(sku=f"N{total}-{i}", title="商品", list_price_fen=100, category=food)
        with CaptureQueriesContext(connection) as ctx:
            assert len(marketer.get(f"{C}/products?limit=50").json()["items"]) == total
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
