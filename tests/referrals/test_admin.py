"""Referrals in the console: the programme and the subsidy table change through the services
(validated, audited with the staff user); referrals, subsidies and sales are read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from laoke.catalog.services import product_create
from laoke.core.models import AuditEntry
from laoke.referrals.models import ReferralProgramme, SubsidyRule
from laoke.referrals.services import referral_register

A = "/admin/referrals"
pytestmark = pytest.mark.django_db


def login(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    client.user = user
    return client


def programme_form(p, **over):
    data = {
        "is_active": "on",
        "trigger": p.trigger,
        "referrer_template": str(p.referrer_template_id),
        "new_member_template": str(p.new_member_template_id),
        "fraud_guard": "on",
        "window_days": str(p.window_days),
        "kpi_target_bp": str(p.kpi_target_bp),
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_marketer_changes_the_programme_through_the_service(staff, preset):
    client = login(staff, "marketer")
    url = f"{A}/referralprogramme/{preset.pk}/change/"
    assert client.get(url).status_code == 200
    assert client.get(f"{A}/referralprogramme/add/").status_code == 403  # one row only
    r = client.post(url, programme_form(preset, kpi_target_bp="10001"))
    assert r.status_code == 200 and ReferralProgramme.objects.get().kpi_target_bp == 2_000
    r = client.post(url, programme_form(preset, trigger="first_paid_order", fraud_guard=None))
    assert r.status_code == 302, r.content.decode()[:2000]
    p = ReferralProgramme.objects.get()
    assert (p.trigger, p.fraud_guard) == ("first_paid_order", False)
    entry = AuditEntry.objects.get(action="referral_programme.update")
    assert entry.actor_id == client.user.pk
    assert entry.after == {"trigger": "first_paid_order", "fraud_guard": False}


def test_subsidy_rules_are_added_through_the_service(staff, frozen):
    product = product_create(sku="CAR-1", title="轿车", list_price_fen=10_000_000)
    client = login(staff, "marketer")
    url = f"{A}/subsidyrule/add/"
    r = client.post(url, {"product": product.pk, "amount_fen": "10000", "is_active": "on"})
    assert r.status_code == 200 and not SubsidyRule.objects.exists()  # below 500元: the service's check
    r = client.post(url, {"product": product.pk, "amount_fen": "100000", "is_active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert SubsidyRule.objects.get().amount_fen == 100_000
    assert AuditEntry.objects.get(action="referral_subsidy_rule.save").actor_id == client.user.pk


def test_referrals_are_read_only(staff, preset, old, new):
    referral_register(new_member=new, referrer_ref=old.code)
    client = login(staff, "marketer")
    assert client.get(f"{A}/referral/").status_code == 200
    assert client.get(f"{A}/referral/add/").status_code == 403
    assert client.get(f"{A}/referralsubsidy/").status_code == 200
    assert client.get(f"{A}/referralsale/").status_code == 200
    assert login(staff, "cashier").get(f"{A}/subsidyrule/").status_code == 403
