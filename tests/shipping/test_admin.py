"""Shipping in the console: rule sets, rules and postage saved through the services (audited with
the staff user, checks shown as form errors, amounts in yuan); region groups read-only."""

from __future__ import annotations

from django.test import Client

from laoke.core.models import AuditEntry
from laoke.shipping.models import PostageRate, ShippingRule, ShippingRuleSet
from laoke.shipping.services import shipping_presets_install

A = "/admin/shipping"
EMPTY_INLINES = {
    f"{p}-{k}": "0" for p in ("rules", "rates", "regions") for k in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def login(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    client.user = user
    return client


def rule_form(rs, **over):
    data = {
        "rule_set": str(rs.pk),
        "rank": "90",
        "code": "vip-free",
        "name": "VIP 包邮",
        "member": "old",
        "region": "remote",
        "min_subtotal": "299.00",
        "outcome": "free_normal",
        "amount": "0",
        **over,
    }
    return {k: v for k, v in data.items() if v is not None}


def test_marketer_edits_rules_and_postage(staff, db):
    rs = shipping_presets_install()
    client = login(staff, "marketer")
    for page in ("shippingruleset", "shippingrule", "postagerate", "regionassignment"):
        assert client.get(f"{A}/{page}/").status_code == 200
    assert client.get(f"{A}/shippingruleset/{rs.pk}/change/").status_code == 200

    r = client.post(f"{A}/shippingrule/add/", rule_form(rs))
    assert r.status_code == 302, r.content.decode()[:3000]
    rule = ShippingRule.objects.get(code="vip-free")
    assert rule.min_subtotal_fen == 29_900
    assert AuditEntry.objects.filter(action="shipping_rule_set.update", actor=client.user).count() == 1

    bad = [
        (rule_form(rs, code="x", amount="5"), "take an amount"),
        (rule_form(rs, code="x"), "has this rank"),
        (rule_form(rs, rank="91"), "has this code"),
        (rule_form(rs, code="x", rank="91", min_subtotal="1.234"), "min_subtotal"),
    ]
    for data, text in bad:
        r = client.post(f"{A}/shippingrule/add/", data)
        assert r.status_code == 200 and text in r.content.decode(), (data, r.content.decode()[:2000])
    assert ShippingRule.objects.count() == 13

    r = client.post(f"{A}/shippingrule/{rule.pk}/change/", rule_form(rs, rule_set=None, min_subtotal="199"))
    assert r.status_code == 302, r.content.decode()[:3000]
    rule.refresh_from_db()
    assert rule.min_subtotal_fen == 19_900

    rate = PostageRate.objects.get(rule_set=rs, courier="sf", region_group="ordinary")
    r = client.post(f"{A}/postagerate/{rate.pk}/change/", {"postage": "23.50"})
    assert r.status_code == 302, r.content.decode()[:3000]
    rate.refresh_from_db()
    assert rate.postage_fen == 2350

    r = client.post(
        f"{A}/shippingruleset/{rs.pk}/change/",
        {
            "name": "老客包邮",
            "old_customer_min_orders": "2",
            "old_customer_window_months": "12",
            "is_active": "on",
            **EMPTY_INLINES,
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    rs.refresh_from_db()
    assert (rs.old_customer_min_orders, rs.old_customer_window_months) == (2, 12)

    data = {
        "name": "老客包邮",
        "old_customer_min_orders": "1",
        "old_customer_window_months": "",
        **EMPTY_INLINES,
    }
    r = client.post(f"{A}/shippingruleset/{rs.pk}/change/", data)  # unticking "active"
    assert r.status_code == 200 and "activate another one instead" in r.content.decode()
    rs.refresh_from_db()
    assert rs.is_active

    r = client.post(f"{A}/shippingrule/{rule.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302 and not ShippingRule.objects.filter(pk=rule.pk).exists()


def test_rule_set_created_in_the_console(staff, db):
    client = login(staff, "marketer")
    data = {
        "code": "summer",
        "name": "夏季",
        "old_customer_min_orders": "1",
        "old_customer_window_months": "",
    }
    r = client.post(f"{A}/shippingruleset/add/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert ShippingRuleSet.objects.get().code == "summer"
    r = client.post(f"{A}/shippingruleset/add/", {**data, "code": "w", "old_customer_min_orders": "0"})
    assert r.status_code == 200 and ShippingRuleSet.objects.count() == 1


def test_cashier_reads_only(staff, db):
    shipping_presets_install()
    client = login(staff, "cashier")
    assert client.get(f"{A}/shippingrule/").status_code == 200
    assert client.get(f"{A}/shippingrule/add/").status_code == 403
