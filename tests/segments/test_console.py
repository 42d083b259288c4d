"""The console builder: list and edit pages render for a marketer (not for a cashier), the live
count endpoint answers with a count and masked samples or a located error, save and snapshot."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client

from laoke.core import clock
from laoke.members.services import member_create
from laoke.segments.models import Segment, SegmentSnapshot

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 2, tzinfo=UTC)
RULE = {"all": [{"field": "profile.registered_at", "op": "before", "value": "2026-03-01"}]}


def _client(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client(enforce_csrf_checks=False)
    assert client.login(username=user.username, password="console-pass-1")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_builder_pages_live_count_save_and_snapshot(staff):
    with clock.frozen(NOW):
        for i in range(3):
            member_create(name=f"老{i}", mobile=f"1380013800{i}", registered_at=NOW - timedelta(days=30))
        c = _client(staff, "marketer")
        r = c.get("/admin/console/segments/new/")
        html = r.content.decode()
        assert r.status_code == 200 and 'id="builder"' in html and 'id="seg-fields"' in html
        assert "orders.discount_share" in html  # the field catalogue is embedded for the builder

        r = c.post(
            "/admin/console/segments/preview/", json.dumps({"rule": RULE}), content_type="application/json"
        )
        body = r.json()
        assert r.status_code == 200 and body["count"] == 3 and body["sample"][0]["mobile"] == "138****8002"
        assert body["sample"][0]["url"].startswith("/admin/console/member/")
        bad = {"all": [RULE["all"][0], {"field": "orders.count", "op": "gte", "value": -1}]}
        r = c.post(
            "/admin/console/segments/preview/", json.dumps({"rule": bad}), content_type="application/json"
        )
        assert r.status_code == 400 and r.json()["error"]["path"] == "all[1].value"

        r = c.post(
            "/admin/console/segments/new/", {"name": "老客", "kind": "dynamic", "rule": json.dumps(RULE)}
        )
        seg = Segment.objects.get(name="老客")
        assert r.status_code == 302 and r["Location"] == f"/admin/console/segments/{seg.pk}/"
        r = c.post(f"/admin/console/segments/{seg.pk}/", {"name": "老客", "rule": json.dumps({"any": []})})
        assert r.status_code == 400 and "any" in r.content.decode()
        c.post(f"/admin/console/segments/{seg.pk}/", {"action": "snapshot"})
        assert SegmentSnapshot.objects.get(segment=seg).member_count == 3
        html = c.get(f"/admin/console/segments/{seg.pk}/").content.decode()
        assert 'data-testid="snapshots"' in html and "老客" in html
        assert "老客" in c.get("/admin/console/segments/").content.decode()

        cashier = _client(staff, "cashier")
        assert cashier.get("/admin/console/segments/").status_code == 403
        r = cashier.post(
            "/admin/console/segments/preview/", json.dumps({"rule": RULE}), content_type="application/json"
        )
        assert r.status_code == 403
