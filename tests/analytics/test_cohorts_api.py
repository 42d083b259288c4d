"""Cohorts, repurchase intervals and lifecycle through the API, the CLI and the console (figures are
pinned against pandas in test_cohorts.py; here: the same figures come out of every adapter)."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from laoke.analytics import cohorts
from laoke.cli import main
from laoke.core import clock
from tests.analytics.test_cohorts import NOW, _build

P = "/api/v1/analytics"


@pytest.fixture
def shop(db):
    _build(seed=5, members=40)
    with clock.frozen(NOW):
        yield


def test_api_cohorts_json_and_xlsx(api, roles, shop):
    client = api("analyst")
    body = client.get(f"{P}/cohorts").json()
    assert body == json.loads(json.dumps(cohorts.cohort_retention(now=NOW)))
    assert body["cohorts"] and body["as_of"] == "2026-03-10"
    x = client.get(f"{P}/cohorts", {"format": "xlsx"})
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    ws = wb["retention"]
    first = body["cohorts"][0]
    assert [c.value for c in ws[2]][: 2 + len(first["retention"])] == [
        first["cohort"],
        first["size"],
        *first["retention"],
    ]
    assert ws.max_row == len(body["cohorts"]) + 1
    assert client.get(f"{P}/cohorts", {"months": 2}).json()["cohorts"] == body["cohorts"][-2:]


def test_api_intervals_lifecycle_and_permissions(api, roles, shop):
    client = api("marketer")
    assert client.get(f"{P}/repurchase-intervals").json() == json.loads(
        json.dumps(cohorts.repurchase_intervals())
    )
    life = client.get(f"{P}/lifecycle").json()
    assert life["stages"] == cohorts.lifecycle(now=NOW)["stages"]
    assert life["activity"] == cohorts.activity_summary(now=NOW)
    tight = client.get(f"{P}/lifecycle", {"dormant_days": 60, "lost_days": 180}).json()
    assert tight["rules"] == {"new_days": 30, "dormant_days": 60, "lost_days": 180}
    bad = client.get(f"{P}/lifecycle", {"dormant_days": 400})
    assert bad.status_code == 400 and bad.json()["code"] == "ANALYTICS_REPORT_PARAM"
    for path in ("cohorts", "repurchase-intervals", "lifecycle"):
        assert api("cashier").get(f"{P}/{path}").status_code == 403
        assert api("analyst", scopes=["members:read"]).get(f"{P}/{path}").status_code == 403


def test_cli_cohorts(shop, capsys):
    assert main(["analytics", "cohorts", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cohorts"] == json.loads(
        json.dumps(cohorts.cohort_retention(now=NOW)["cohorts"])
    )
    assert main(["analytics", "cohorts", "--months", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    last = cohorts.cohort_retention(now=NOW)["cohorts"][-1]
    assert lines[0].startswith("cohort") and len(lines) == 2
    assert lines[1].split() == [
        last["cohort"],
        str(last["size"]),
        *[f"{v * 100:.1f}%" for v in last["retention"]],
    ]
    assert main(["analytics", "intervals"]) == 0
    assert json.loads(capsys.readouterr().out)["intervals"] == cohorts.repurchase_intervals()["intervals"]


@pytest.mark.parametrize("role", ["analyst", "cashier"])
def test_console_cohorts_and_lifecycle(client, staff, roles, shop, role):
    client.force_login(staff(role))
    for name in ("analytics_cohorts", "analytics_lifecycle", "analytics_cohorts_xlsx"):
        r = client.get(reverse(name))
        assert r.status_code == (200 if role == "analyst" else 403), name
    if role == "analyst":
        page = client.get(reverse("analytics_cohorts")).content.decode()
        assert 'data-testid="chart-heatmap"' in page and "plotly.min.js" in page
        first = cohorts.cohort_retention(now=NOW, months=24)["cohorts"][0]["cohort"]
        assert first in page
        life = client.get(reverse("analytics_lifecycle")).content.decode()
        assert 'data-testid="chart-stages"' in life
