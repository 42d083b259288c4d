"""Event forecasts through the API, the CLI and the console (the arithmetic is pinned by hand in
test_forecast.py: 200,000 × 40% × 50% × 30% × 1.1% = 132 visitors → 44 households → ¥11,000)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from laoke.analytics.models import EventForecast
from laoke.cli import main

P = "/api/v1/analytics/forecasts"
BODY = {
    "reachable": 200_000,
    "income_share_bp": 4_000,
    "area_share_bp": 5_000,
    "brand_share_bp": 3_000,
    "response_bp": 110,
    "aov": "250.00",
}


def test_calculate_create_actuals_list(api, roles):
    analyst, marketer = api("analyst"), api("marketer")
    calc = analyst.post(f"{P}/calculate", BODY, content_type="application/json").json()
    assert (calc["forecast"]["visitors"], calc["forecast"]["orders"], calc["forecast"]["revenue"]) == (
        132,
        44,
        11000.0,
    )
    assert (calc["low"]["revenue_fen"], calc["high"]["revenue_fen"]) == (200_000, 2_000_000)
    created = analyst.post(
        P,
        {**BODY, "name": "店庆", "event_date": "2026-04-01"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert created.status_code == 201, created.content
    again = analyst.post(
        P,
        {**BODY, "name": "店庆", "event_date": "2026-04-01"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert again.json()["id"] == created.json()["id"] and EventForecast.objects.count() == 1
    fid = created.json()["id"]
    assert (
        analyst.patch(f"{P}/{fid}", {"actual_orders": 33}, content_type="application/json").status_code == 403
    )
    r = marketer.patch(
        f"{P}/{fid}",
        {"actual_visitors": 150, "actual_orders": 33, "actual_revenue": "9900"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    rows = {c["measure"]: c for c in r.json()["comparison"]}
    assert rows["revenue_fen"] == {
        "measure": "revenue_fen",
        "forecast": 1_100_000,
        "actual": 990_000,
        "difference": -110_000,
        "error": -0.1,
    }
    assert rows["orders"]["error"] == -0.25
    assert analyst.get(f"{P}/{fid}").json()["inputs"]["aov"] == 250.0
    assert [f["id"] for f in analyst.get(P).json()["items"]] == [fid]
    missing = analyst.get(f"{P}/{fid + 9}")
    assert missing.status_code == 404 and missing.json()["code"] == "ANALYTICS_FORECAST_NOT_FOUND"
    bad = analyst.post(f"{P}/calculate", {**BODY, "aov": "2.345"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "ANALYTICS_FORECAST_INVALID"
    assert api("cashier").get(P).status_code == 403


def test_cli_forecast(db, capsys):
    args = [
        "analytics",
        "forecast",
        "--reachable",
        "200000",
        "--income",
        "40",
        "--area",
        "50",
        "--brand",
        "30",
    ]
    assert main([*args, "--aov", "250", "--response", "1.1%"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["scenarios"]["forecast"]["visitors"], out["scenarios"]["forecast"]["revenue_fen"]) == (
        132,
        1_100_000,
    )
    assert main([*args, "--aov", "250", "--save", "店庆", "--date", "2026-04-01"]) == 0
    assert EventForecast.objects.get(pk=json.loads(capsys.readouterr().out)["id"]).name == "店庆"


@pytest.mark.parametrize("role", ["analyst", "marketer", "cashier"])
def test_console_forecast(client, staff, roles, role):
    user = staff(role)
    client.force_login(user)
    page = client.get(reverse("analytics_forecast"))
    if role == "cashier":
        assert page.status_code == 403
        return
    assert page.status_code == 200
    form = {
        "reachable": "200000",
        "income": "40",
        "area": "50",
        "brand": "30",
        "response": "1.1",
        "household_size": "3",
        "aov": "250",
        "name": "店庆",
        "event_date": "2026-04-01",
    }
    calc = client.post(reverse("analytics_forecast"), {**form, "action": "calculate"})
    assert calc.status_code == 200 and "11,000.00" in calc.content.decode()
    assert client.post(reverse("analytics_forecast"), {**form, "income": "abc"}).status_code == 400
    saved = client.post(reverse("analytics_forecast"), {**form, "action": "save"})
    f = EventForecast.objects.get()
    assert saved.status_code == 302 and saved["Location"] == reverse("analytics_forecast_detail", args=[f.pk])
    actuals = client.post(reverse("analytics_forecast_detail", args=[f.pk]), {"actual_revenue": "9900"})
    if role == "analyst":
        assert actuals.status_code == 403
    else:
        assert actuals.status_code == 302
        detail = client.get(reverse("analytics_forecast_detail", args=[f.pk])).content.decode()
        assert "9,900.00" in detail and "-10.0%" in detail
