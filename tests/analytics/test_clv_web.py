"""The CLV/RFM API and console pages: refresh, latest fits, the RFM table and its xlsx for an
analyst; 403 for a cashier (API) and the console pages refused to a cashier. The shop is the one
of test_scores (24 members with purchase histories, built through the real services)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from openpyxl import load_workbook

from laoke.analytics.models import ClvFit
from laoke.analytics.scores import member_scores_refresh
from laoke.core import clock
from laoke.stats.models import MemberStats
from tests.analytics import test_scores

NOW = test_scores.NOW
shop = test_scores.shop  # the module-scoped shop fixture, built once for this module too

pytestmark = pytest.mark.django_db


def _console(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client()
    assert client.login(username=user.username, password="console-pass-1")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_api_refresh_fits_rfm_and_xlsx(shop, api):
    analyst = api("analyst")
    with clock.frozen(NOW):
        r = analyst.post("/api/v1/analytics/clv/refresh")
    body = r.json()
    assert r.status_code == 200 and body["members"] == 24 and body["clv"] is False
    assert "too few repeat buyers" in body["reason"]  # 20 repeat buyers, 30 needed
    assert MemberStats.objects.filter(scores_at=NOW, rfm_segment__isnull=False).count() == 24

    with clock.frozen(NOW + timedelta(minutes=5)):
        member_scores_refresh(now=NOW + timedelta(minutes=5), min_repeat_buyers=10)
        r = analyst.get("/api/v1/analytics/clv/fits")
    items = {f["model"]: f for f in r.json()["items"]}
    assert r.status_code == 200 and set(items) == {"bgnbd", "gamma_gamma"}
    latest = ClvFit.objects.get(model="bgnbd")
    assert items["bgnbd"]["params"] == latest.params and items["bgnbd"]["customers"] == 24
    assert r.json()["scores"]["members"] == 24 and r.json()["scores"]["with_clv"] == 24

    with clock.frozen(NOW):
        r = analyst.get("/api/v1/analytics/rfm")
    rows = r.json()["items"]
    stats = MemberStats.objects.filter(rfm_segment__isnull=False)
    assert r.status_code == 200 and sum(row["members"] for row in rows) == stats.count()
    for row in rows:
        assert row["members"] == stats.filter(rfm_segment=row["segment"]).count()

    with clock.frozen(NOW):
        r = analyst.get("/api/v1/analytics/rfm/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.values)
    assert values[0][:3] == ("segment", "label", "members")
    assert [v[0] for v in values[1:]] == [row["segment"] for row in rows]
    assert [v[2] for v in values[1:]] == [row["members"] for row in rows]


def test_api_refused_to_a_cashier_and_without_the_write_scope(api):
    cashier = api("cashier")
    for method, path in (
        ("get", "/api/v1/analytics/clv/fits"),
        ("post", "/api/v1/analytics/clv/refresh"),
        ("get", "/api/v1/analytics/rfm"),
        ("get", "/api/v1/analytics/rfm/export.xlsx"),
    ):
        assert getattr(cashier, method)(path).status_code == 403, path
    read_only = api("analyst", scopes=["analytics:read"])
    assert read_only.post("/api/v1/analytics/clv/refresh").status_code == 403
    assert read_only.get("/api/v1/analytics/rfm").status_code == 200


def test_console_pages_for_an_analyst_not_a_cashier(shop, staff):
    member_scores_refresh(now=NOW, min_repeat_buyers=10)
    c = _console(staff, "analyst")
    with clock.frozen(NOW):
        r = c.get("/admin/console/analytics/clv/")
        html = r.content.decode()
        assert r.status_code == 200 and 'data-testid="chart-p-alive"' in html and "BG/NBD" in html
        assert "plotly/plotly.min.js" in html and 'data-testid="refresh"' in html
        r = c.get("/admin/console/analytics/clv/rfm/")
        html = r.content.decode()
        assert (
            r.status_code == 200
            and 'data-testid="chart-segments"' in html
            and 'data-testid="rfm-table"' in html
        )
        r = c.get("/admin/console/analytics/clv/rfm.xlsx")
        assert r.status_code == 200 and r.content[:2] == b"PK"
        r = c.post("/admin/console/analytics/clv/refresh/")
        assert r.status_code == 302 and r["Location"].endswith("/admin/console/analytics/clv/")
    assert MemberStats.objects.filter(scores_at=NOW).count() == 24

    cashier = _console(staff, "cashier")
    for path in ("/admin/console/analytics/clv/", "/admin/console/analytics/clv/rfm/"):
        assert cashier.get(path).status_code in (302, 403), path
    assert cashier.post("/admin/console/analytics/clv/refresh/").status_code in (302, 403)
