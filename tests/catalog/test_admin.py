"""The catalogue in the console: forms save through the services (audited with the staff user),
prices in yuan are stored in fen, gift stock changes only by an adjustment."""

import pytest
from django.test import Client

from laoke.catalog.models import Category, GiftItem, GiftStock, Product
from laoke.catalog.services import category_create, gift_item_create, gift_stock_adjust, product_create
from laoke.core.models import AuditEntry
from laoke.core.services import store_create

A = "/admin/catalog"
NO_INLINE = {"stock-TOTAL_FORMS": "0", "stock-INITIAL_FORMS": "0"}


def login(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    client.user = user
    return client


def product_form(**over):
    data = {
        "sku": "COAT-1",
        "title": "羊毛大衣",
        "category": "",
        "list_price": "1299.00",
        "cost_price": "520.5",
        "is_active": "on",
        "returnable": "on",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_marketer_adds_a_product_in_yuan(staff):
    client = login(staff, "marketer")
    r = client.post(f"{A}/product/add/", product_form())
    assert r.status_code == 302, r.content.decode()[:3000]
    p = Product.objects.get()
    assert (p.list_price_fen, p.cost_price_fen, p.is_special_sale, p.is_active) == (
        129900,
        52050,
        False,
        True,
    )
    row = AuditEntry.objects.get(action="product.create")
    assert row.actor_id == client.user.pk

    r = client.post(f"{A}/product/add/", product_form(title="另一件"))
    assert r.status_code == 200 and "already exists" in r.content.decode()
    r = client.post(f"{A}/product/add/", product_form(sku="X", list_price="12.345"))
    assert r.status_code == 200 and "list_price" in r.content.decode()
    r = client.post(f"{A}/product/add/", product_form(sku="Y", list_price="-1"))
    assert r.status_code == 200
    assert Product.objects.count() == 1


def test_price_change_in_the_console_is_audited(staff):
    p = product_create(sku="RICE", title="大米", list_price_fen=4990)
    client = login(staff, "marketer")
    r = client.post(
        f"{A}/product/{p.pk}/change/",
        product_form(sku=None, title="大米", list_price="45.90", cost_price="", is_special_sale="on"),
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    p.refresh_from_db()
    assert (p.sku, p.list_price_fen, p.is_special_sale) == ("RICE", 4590, True)
    row = AuditEntry.objects.get(action="product.update")
    assert row.after == {"list_price_fen": 4590, "is_special_sale": True}
    assert row.actor_id == client.user.pk
    assert client.post(f"{A}/product/{p.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Product.objects.filter(pk=p.pk).exists()


def test_category_move_in_the_console(staff):
    top = category_create(code="T", name="服装")
    child = category_create(code="TC", name="女装", parent=top)
    other = category_create(code="O", name="母婴")
    client = login(staff, "admin")
    r = client.post(f"{A}/category/{top.pk}/change/", {"name": "服装", "parent": child.pk})
    assert r.status_code == 200 and "cannot move under itself" in r.content.decode()
    r = client.post(f"{A}/category/{child.pk}/change/", {"name": "女装", "parent": other.pk})
    assert r.status_code == 302
    assert Category.objects.get(pk=child.pk).path == f"/{other.pk}/{child.pk}/"
    assert AuditEntry.objects.get(action="category.move").actor_id == client.user.pk
    r = client.post(f"{A}/category/add/", {"code": "N", "name": "新类目", "parent": other.pk})
    assert r.status_code == 302
    assert Category.objects.get(code="N").path == f"/{other.pk}/{Category.objects.get(code='N').pk}/"


def test_clerk_adjusts_stock_through_the_service_only(staff):
    s1 = store_create(code="S1", name="一店")
    gift = gift_item_create(code="TOWEL", name="小方巾")
    clerk = login(staff, "redemption_clerk")
    r = clerk.post(f"{A}/giftstock/add/", {"gift": gift.pk, "store": s1.pk, "delta": 6, "reason": "到货"})
    assert r.status_code == 302, r.content.decode()[:3000]
    r = clerk.post(f"{A}/giftstock/add/", {"gift": gift.pk, "store": s1.pk, "delta": -2, "reason": "兑换"})
    assert r.status_code == 302
    stock = GiftStock.objects.get()
    assert stock.quantity == 4
    r = clerk.post(f"{A}/giftstock/add/", {"gift": gift.pk, "store": s1.pk, "delta": -5, "reason": "兑换"})
    assert r.status_code == 200 and "Not enough gift stock (4 left)" in r.content.decode()
    r = clerk.post(f"{A}/giftstock/add/", {"gift": gift.pk, "store": s1.pk, "delta": 0, "reason": "x"})
    assert r.status_code == 200
    # The row itself cannot be edited: no number typed over the count.
    r = clerk.post(f"{A}/giftstock/{stock.pk}/change/", {"quantity": 999})
    assert r.status_code == 403
    assert GiftStock.objects.get().quantity == 4
    rows = AuditEntry.objects.filter(action="gift_stock.adjust", actor=clerk.user)
    assert sorted(r.after["delta"] for r in rows) == [-2, 6]
    listing = clerk.get(f"{A}/giftstock/").content.decode()
    assert "小方巾" in listing and "一店" in listing


@pytest.mark.parametrize("role", ["analyst", "cashier"])
def test_readers_cannot_adjust_stock(staff, role):
    s1 = store_create(code="S1", name="一店")
    gift = gift_item_create(code="TOWEL", name="小方巾")
    client = login(staff, role)
    r = client.post(f"{A}/giftstock/add/", {"gift": gift.pk, "store": s1.pk, "delta": 6, "reason": "到货"})
    assert r.status_code == 403
    assert not GiftStock.objects.exists()


def test_gift_item_page_shows_stock_read_only(staff):
    s1 = store_create(code="S1", name="一店")
    gift = gift_item_create(code="TOWEL", name="小方巾", unit_cost_fen=350)
    gift_stock_adjust(gift=gift, store=s1, delta=7, reason="到货")
    html = login(staff, "analyst").get(f"{A}/giftitem/{gift.pk}/change/").content.decode()
    assert "一店" in html  # readers of gifts see the stock too
    client = login(staff, "marketer")
    html = client.get(f"{A}/giftitem/{gift.pk}/change/").content.decode()
    assert "一店" in html and 'name="stock-0-quantity"' not in html
    r = client.post(
        f"{A}/giftitem/{gift.pk}/change/",
        {
            "name": "小方巾（蓝）",
            "unit_cost": "4.00",
            "description": "",
            "is_active": "on",
            "stock-TOTAL_FORMS": "1",
            "stock-INITIAL_FORMS": "1",
            "stock-0-id": GiftStock.objects.get().pk,
            "stock-0-gift": gift.pk,
            "stock-0-quantity": "999",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    gift.refresh_from_db()
    assert (gift.name, gift.unit_cost_fen) == ("小方巾（蓝）", 400)
    assert GiftStock.objects.get().quantity == 7
    r = client.post(f"{A}/giftitem/add/", {"code": "BOX", "name": "礼盒", "unit_cost": "12.80", **NO_INLINE})
    assert r.status_code == 302
    box = GiftItem.objects.get(code="BOX")
    assert (box.unit_cost_fen, box.is_active) == (1280, False)
