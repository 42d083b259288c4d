"""Coupons in the console: templates are created and changed through the services (validated,
audited with the staff user); issued coupons are read-only, voided by an audited action."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from laoke.core.models import AuditEntry
from laoke.promotions.models import Coupon, CouponTemplate
from laoke.promotions.services import coupon_issue
from tests.promotions.helpers import template

A = "/admin/promotions"
pytestmark = pytest.mark.django_db


def login(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    client.user = user
    return client


def form(**over):
    data = {
        "name": "满100减10",
        "kind": "fixed",
        "threshold_fen": "10000",
        "amount_off_fen": "1000",
        "rate_off_bp": "0",
        "cap_fen": "",
        "face_value_fen": "0",
        "gift": "",
        "product_skus": "[]",
        "per_member_limit": "1",
        "total_limit": "",
        "budget_fen": "",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_to_0": "2026-12-31",
        "valid_to_1": "23:59:59",
        "valid_days": "",
        "channel_code": "DM-2026",
        "sales_channel": "",
        "exclusive_group": "",
        "return_on_cancel": "on",
        "code_prefix": "",
        "is_active": "on",
    }
    data.update(over)
    return data


def test_marketer_creates_and_changes_a_template_through_the_service(staff, frozen):
    client = login(staff, "marketer")
    assert client.get(f"{A}/coupontemplate/add/").status_code == 200
    r = client.post(f"{A}/coupontemplate/add/", form(amount_off_fen="0"))
    assert r.status_code == 200 and CouponTemplate.objects.count() == 0  # the service's check, on the form
    r = client.post(f"{A}/coupontemplate/add/", form())
    assert r.status_code == 302, r.content.decode()[:3000]
    tpl = CouponTemplate.objects.get()
    assert tpl.valid_to == datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)  # shop time in the form
    assert AuditEntry.objects.get(action="coupon_template.create").actor_id == client.user.pk
    r = client.post(f"{A}/coupontemplate/{tpl.pk}/change/", form(name="新名", valid_to_1="23:59:59"))
    assert r.status_code == 302, r.content.decode()[:3000]
    assert CouponTemplate.objects.get().name == "新名"
    assert AuditEntry.objects.get(action="coupon_template.update").after == {"name": "新名"}


def test_coupons_are_read_only_and_voided_by_action(staff, member, frozen):
    c = coupon_issue(template=template(), member=member)
    client = login(staff, "marketer")
    assert client.get(f"{A}/coupon/").status_code == 200
    assert client.get(f"{A}/coupon/add/").status_code == 403
    r = client.post(f"{A}/coupon/", {"action": "void", "_selected_action": [c.pk]})
    assert r.status_code == 302
    assert Coupon.objects.get().state == "voided"
    assert AuditEntry.objects.filter(action="coupon.void").count() == 1
