"""The flash zone in the console: items and holidays are written through the services (floor
required, audited with the staff user); stock rows and claims are read-only."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from laoke.core.models import AuditEntry
from laoke.flash import services
from laoke.flash.models import FlashItem, Holiday
from tests.flash.helpers import NOW, TODAY, item, member, product

A = "/admin/flash"
pytestmark = pytest.mark.django_db


def login(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    client.user = user
    return client


def form(prod, **over):
    data = {
        "product": str(prod.pk),
        "floor_fen": "9900",
        "slot": "1",
        "run_start": TODAY.isoformat(),
        "status": "published",
    }
    data.update(over)
    return data


def test_marketer_adds_an_item_through_the_service_floor_required(staff, zone):
    client = login(staff, "marketer")
    p = product(19_900)
    assert client.get(f"{A}/flashitem/add/").status_code == 200
    r = client.post(f"{A}/flashitem/add/", form(p, floor_fen=""))
    assert r.status_code == 200 and FlashItem.objects.count() == 0
    assert "Set a floor price before publishing the item" in r.content.decode()
    r = client.post(f"{A}/flashitem/add/", form(p))
    assert r.status_code == 302, r.content.decode()[:3000]
    i = FlashItem.objects.get()
    assert (i.floor_fen, i.list_price_fen, i.status) == (9_900, 19_900, "published")
    assert AuditEntry.objects.get(action="flash_item.create").actor_id == client.user.pk
    r = client.post(
        f"{A}/flashitem/{i.pk}/change/",
        {"floor_fen": "8000", "slot": "1", "run_start": TODAY.isoformat(), "status": "published"},
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert FlashItem.objects.get().floor_fen == 8_000
    assert AuditEntry.objects.get(action="flash_item.update").after == {"floor_fen": 8_000}
    assert client.get(f"{A}/flashitem/").status_code == 200
    r = client.post(f"{A}/flashitem/", {"action": "retire", "_selected_action": [i.pk]})
    assert r.status_code == 302 and FlashItem.objects.get().status == "retired"


def test_holidays_are_added_through_the_service(staff, zone):
    client = login(staff, "marketer")
    assert client.get(f"{A}/holiday/").status_code == 200
    r = client.post(f"{A}/holiday/add/", {"date": "2026-03-12", "name": "店庆", "official": "on"})
    assert r.status_code == 302, r.content.decode()[:3000]
    assert AuditEntry.objects.get(action="flash_holiday.create").actor_id == client.user.pk
    h = Holiday.objects.get(date="2027-02-05")
    r = client.post(f"{A}/holiday/{h.pk}/change/", {"name": "春节", "official": "on"})
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Holiday.objects.get(pk=h.pk).official


def test_stock_and_claims_are_read_only(staff, zone):
    p = product()
    item(p)
    services.flash_tick(NOW)
    buyer = member()
    with transaction.atomic():
        c = services._flash_claim(product_id=p.pk, member=buyer, quantity=1, order_ref="O1", now=NOW)
    client = login(staff, "marketer")
    assert client.get(f"{A}/flashday/").status_code == 200
    assert client.get(f"{A}/flashclaim/").status_code == 200
    assert client.get(f"{A}/flashclaim/add/").status_code == 403
    r = client.get(f"{A}/flashclaim/{c.pk}/change/")
    assert r.status_code == 200 and "O1" in r.content.decode() and 'name="_save"' not in r.content.decode()
    cashier = login(staff, "cashier")
    assert cashier.get(f"{A}/flashclaim/").status_code == 403


def test_zone_settings_change_through_the_service(staff, zone):
    client = login(staff, "marketer")
    assert client.get(f"{A}/flashzone/").status_code == 200
    assert client.get(f"{A}/flashzone/add/").status_code == 403  # one row, installed by the presets
    data = {
        "items_per_day": "2",
        "units_per_day": "10",
        "units_per_day_holiday": "30",
        "step_bp": "1000",
        "opening_time": "09:30:00",
        "rotation_days": "10",
        "per_member_limit": "1",
        "old_customers_only": "on",
        "old_customer_min_orders": "1",
        "old_customer_window_months": "",
    }
    r = client.post(f"{A}/flashzone/1/change/", {**data, "step_bp": "0"})
    assert r.status_code == 200  # refused on the form
    r = client.post(f"{A}/flashzone/1/change/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="flash_zone.update")
    assert entry.after == {"units_per_day_holiday": 30, "opening_time": "09:30:00"}
    assert entry.actor_id == client.user.pk
