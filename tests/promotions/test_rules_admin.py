"""Order rules in the console: gift rules and member prices through the services (validated,
audited with the staff user); 满就送 rules and bundles read-only with audited on/off actions."""

from __future__ import annotations

import pytest

from laoke.catalog.models import GiftItem
from laoke.core.models import AuditEntry
from laoke.promotions.models import FullSendRule, GiftRule
from laoke.promotions.presets import promotions_presets_install
from tests.promotions.helpers import NOW
from tests.promotions.test_admin import login

A = "/admin/promotions"
pytestmark = pytest.mark.django_db


def gift_form(**over):
    data = {
        "code": "card",
        "name": "售后服务保障卡",
        "is_active": "on",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_to_0": "",
        "valid_to_1": "",
        "kind": "always",
        "threshold_fen": "0",
        "gift_product": "",
        "gift_item": str(GiftItem.objects.get(code="C").pk),
        "gift_qty": "1",
    }
    data.update(over)
    return data


def test_gift_rule_through_the_service(staff, frozen):
    GiftItem.objects.create(code="C", name="卡", created_at=NOW)
    client = login(staff, "marketer")
    assert client.get(f"{A}/giftrule/add/").status_code == 200
    r = client.post(f"{A}/giftrule/add/", gift_form(threshold_fen="100"))
    assert r.status_code == 200 and GiftRule.objects.count() == 0  # the service's check, on the form
    r = client.post(f"{A}/giftrule/add/", gift_form())
    assert r.status_code == 302, r.content.decode()[:3000]
    rule = GiftRule.objects.get()
    assert AuditEntry.objects.get(action="gift_rule.create").actor_id == client.user.pk
    r = client.post(f"{A}/giftrule/{rule.pk}/change/", gift_form(name="保障卡", gift_qty="2"))
    assert r.status_code == 302, r.content.decode()[:3000]
    assert AuditEntry.objects.get(action="gift_rule.update").after == {"name": "保障卡", "gift_qty": 2}
    assert client.get(f"{A}/giftrule/").status_code == 200


def test_full_send_rules_and_bundles_are_toggled_by_actions(staff, frozen):
    promotions_presets_install()
    rule = FullSendRule.objects.get()
    client = login(staff, "marketer")
    assert client.get(f"{A}/fullsendrule/").status_code == 200
    assert client.get(f"{A}/fullsendrule/{rule.pk}/change/").status_code == 200
    assert client.get(f"{A}/fullsendrule/add/").status_code == 403
    assert client.get(f"{A}/bundle/").status_code == 200
    assert client.get(f"{A}/memberprice/add/").status_code == 200
    r = client.post(f"{A}/fullsendrule/", {"action": "deactivate", "_selected_action": [rule.pk]})
    assert r.status_code == 302
    assert not FullSendRule.objects.get().is_active
    assert AuditEntry.objects.get(action="full_send_rule.update").after == {"is_active": False}
    cashier = login(staff, "cashier")
    assert cashier.get(f"{A}/fullsendrule/").status_code == 200
    r = cashier.post(f"{A}/fullsendrule/", {"action": "activate", "_selected_action": [rule.pk]})
    assert not FullSendRule.objects.get().is_active  # no change permission: no action
