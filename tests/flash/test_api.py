"""/api/v1/flash through the full stack: today's zone with current prices and the next drop, item
CRUD for the zone's designers (floor required, stable error codes), holidays, settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from laoke.core import clock
from laoke.core.models import AuditEntry
from laoke.flash import services
from laoke.flash.models import FlashItem, Holiday
from tests.flash.helpers import NOW, TODAY, at, item, member, product

F = "/api/v1/flash"
pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def patch(client, url, body):
    return client.patch(url, body, content_type="application/json")


def test_todays_zone_shows_price_units_left_and_next_drop(api, zone):
    p1, p2 = product(19_900), product(29_900)
    a = item(p1, floor_fen=9_900, slot=1)
    item(p2, floor_fen=20_000, slot=2)
    services.flash_tick(NOW)
    buyer = member()
    with transaction.atomic():
        services._flash_claim(product_id=p1.pk, member=buyer, quantity=1, order_ref="O1", now=NOW)
    client = api("cashier")
    with clock.frozen(at(12, 15)):
        r = client.get(f"{F}/zone")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["day"] == TODAY.isoformat()
    first, second = body["items"]
    assert (first["item_id"], first["slot"], first["price_fen"], first["units"], first["units_left"]) == (
        a.pk,
        1,
        15_920,
        10,
        9,
    )
    assert first["on_sale"] and first["next_drop_at"].startswith("2026-03-10T05:00:00")  # 13:00 Shanghai
    assert (second["price_fen"], second["units_left"]) == (23_920, 10)
    with clock.frozen(at(9)):
        early = client.get(f"{F}/zone").json()["items"][0]
    assert not early["on_sale"] and early["price_fen"] == 19_900
    assert early["next_drop_at"].startswith("2026-03-10T02:00:00")  # the opening


def test_marketer_creates_an_item_floor_required(api, zone):
    client = api("marketer", lang="en")
    p = product(19_900)
    r = post(client, f"{F}/items", {"product_id": p.pk, "slot": 1, "run_start": TODAY.isoformat()})
    assert r.status_code == 422
    assert r.json()["code"] == "FLASH_FLOOR_REQUIRED"
    assert r.json()["message"] == "Set a floor price before publishing the item"
    zh = api("marketer", lang="zh-hans")
    r = post(zh, f"{F}/items", {"product_id": p.pk})
    assert r.json()["message"] == "请先设置最低价，才能发布专享商品"
    r = post(client, f"{F}/items", {"product_id": p.pk, "floor_fen": 9_900, "run_start": TODAY.isoformat()})
    assert r.status_code == 201, r.content
    created = r.json()
    assert (
        created["list_price_fen"] == 19_900 and created["run_end"] == (TODAY + timedelta(days=10)).isoformat()
    )
    assert AuditEntry.objects.get(action="flash_item.create").actor_id == client.user.pk
    r = post(
        client, f"{F}/items", {"product_id": product().pk, "floor_fen": 1, "run_start": TODAY.isoformat()}
    )
    assert r.status_code == 409 and r.json()["code"] == "FLASH_SLOT_TAKEN"
    r = patch(client, f"{F}/items/{created['id']}", {"floor_fen": 8_000})
    assert r.status_code == 200 and r.json()["floor_fen"] == 8_000
    r = patch(client, f"{F}/items/{created['id']}", {"floor_fen": 20_000})
    assert r.status_code == 422 and r.json()["details"]["field"] == "floor_fen"
    assert client.get(f"{F}/items/{created['id']}").json()["sku"] == p.sku
    assert [i["id"] for i in client.get(f"{F}/items").json()["items"]] == [created["id"]]
    r = post(client, f"{F}/items/{created['id']}/retire", {})
    assert r.status_code == 200 and r.json()["status"] == "retired"
    assert FlashItem.objects.get().status == "retired"
    assert client.get(f"{F}/items/999999").status_code == 404


def test_cashier_reads_but_cannot_write(api, zone):
    client = api("cashier")
    assert client.get(f"{F}/items").status_code == 200
    r = post(client, f"{F}/items", {"product_id": product().pk, "floor_fen": 1})
    assert r.status_code == 403


def test_holidays_and_settings(api, zone):
    client = api("marketer", lang="en")
    r = client.get(f"{F}/holidays", {"year": 2026})
    assert r.status_code == 200 and len(r.json()) == 33 and r.json()[0]["name"] == "元旦"
    r = post(client, f"{F}/holidays", {"date": "2026-03-12", "name": "店庆"})
    assert r.status_code == 201 and Holiday.objects.filter(name="店庆").exists()
    r = post(client, f"{F}/holidays", {"date": "2026-03-12", "name": "again"})
    assert r.status_code == 409 and r.json()["code"] == "FLASH_HOLIDAY_EXISTS"
    assert client.get(f"{F}/settings").json()["units_per_day_holiday"] == 20
    r = patch(client, f"{F}/settings", {"opening_time": "09:00:00", "old_customer_window_months": 12})
    assert r.status_code == 200, r.content
    assert r.json()["opening_time"] == "09:00:00" and r.json()["old_customer_window_months"] == 12
    r = patch(client, f"{F}/settings", {"step_bp": 0})
    assert r.status_code == 422
