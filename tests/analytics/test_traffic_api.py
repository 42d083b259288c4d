"""Page-view import and traffic reports through the API and the CLI (figures are pinned against
pandas in test_traffic.py; here: status codes, error bodies, permissions, formats)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from laoke.analytics.models import PageView
from laoke.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
P = "/api/v1/analytics"


def upload(client, name="pageviews.csv", **form):
    data = (FIXTURES / name).read_bytes()
    return client.post(f"{P}/pageviews/import", {"file": SimpleUploadedFile(name, data, "text/csv"), **form})


def test_import_dry_run_then_real_then_again(api, roles):
    client = api("analyst")
    dry = upload(client, dry_run="true")
    assert dry.status_code == 200, dry.content
    assert (dry.json()["valid"], dry.json()["imported"]) == (971, False) and PageView.objects.count() == 0
    first = upload(client)
    assert first.status_code == 201 and first.json()["inserted"] == 971
    again = upload(client)
    assert again.status_code == 201 and (again.json()["inserted"], again.json()["duplicates"]) == (0, 971)


def test_bad_rows_422_with_rows_and_columns(api, roles):
    client = api("marketer", lang="zh-hans")
    r = upload(client, "pageviews_bad.csv")
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "ANALYTICS_PAGEVIEW_ROWS_INVALID" and "5" in body["message"]
    errors = body["details"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (4, "ts"),
        (5, "session"),
        (6, "page"),
        (7, ""),
        (8, "ts"),
    ]
    assert errors[0]["message"].startswith("第 4 行")
    assert PageView.objects.count() == 0
    dry = upload(client, "pageviews_bad.csv", dry_run="true")
    assert dry.status_code == 200 and dry.json()["invalid"] == 5
    partial = upload(client, "pageviews_bad.csv", skip_invalid="true")
    assert partial.status_code == 201 and partial.json()["inserted"] == 2


def test_header_error_400(api, roles):
    r = api("analyst").post(
        f"{P}/pageviews/import", {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert r.status_code == 400 and r.json()["code"] == "ANALYTICS_PAGEVIEW_HEADER"


def test_reports_and_permissions(api, roles):
    analyst = api("analyst")
    assert upload(analyst).status_code == 201
    df = pd.read_csv(FIXTURES / "pageviews.csv", dtype=str, keep_default_na=False)
    entries = analyst.get(f"{P}/traffic/entries", {"limit": 3}).json()
    assert entries["sessions"] == df["session"].nunique() and len(entries["entries"]) == 3
    funnel = analyst.get(f"{P}/traffic/funnel", {"steps": ["/cart", "/checkout,/paid"]}).json()
    assert [s["page"] for s in funnel["steps"]] == ["/cart", "/checkout", "/paid"]
    assert funnel["steps"][0]["sessions"] >= funnel["steps"][2]["sessions"] > 0
    bad = analyst.get(f"{P}/traffic/funnel", {"steps": ","})
    assert bad.status_code == 400 and bad.json()["code"] == "ANALYTICS_FUNNEL_STEPS"
    paths = analyst.get(f"{P}/traffic/paths", {"depth": 2}).json()
    assert paths["depth"] == 2 and all(len(p["path"]) <= 2 for p in paths["paths"])
    daily = analyst.get(f"{P}/traffic/daily", {"since": "2026-03-02", "until": "2026-03-03"}).json()
    assert [d["day"] for d in daily["days"]] == ["2026-03-02", "2026-03-03"]
    assert (
        analyst.get(f"{P}/traffic/daily", {"since": "2026-03-04", "until": "2026-03-03"}).status_code == 400
    )
    x = analyst.get(f"{P}/traffic/entries", {"format": "xlsx"})
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxml")
    wb = load_workbook(io.BytesIO(x.content))
    every = analyst.get(f"{P}/traffic/entries").json()["entries"]
    assert wb.sheetnames == ["entries", "referrers"] and wb["entries"].max_row == len(every) + 1
    assert [c.value for c in wb["entries"][2]] == [every[0]["page"], every[0]["sessions"], every[0]["share"]]
    cashier = api("cashier")
    assert cashier.get(f"{P}/traffic/entries").status_code == 403
    assert upload(cashier).status_code == 403
    read_only = api("analyst", scopes=["analytics:read"])
    assert upload(read_only).status_code == 403
    assert read_only.get(f"{P}/traffic/paths").status_code == 200


def test_cli_import_funnel(db, capsys, tmp_path):
    path = tmp_path / "pv.csv"
    path.write_bytes((FIXTURES / "pageviews.csv").read_bytes())
    assert main(["analytics", "import-pageviews", str(path), "--dry-run"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["valid"] == 971 and PageView.objects.count() == 0
    assert main(["analytics", "import-pageviews", str(path)]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["inserted"] == 971 and "imported 971/971 rows" in out.err
    assert main(["analytics", "funnel", "--steps", "/cart,/checkout,/paid"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert [s["page"] for s in steps] == ["/cart", "/checkout", "/paid"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes((FIXTURES / "pageviews_bad.csv").read_bytes())
    assert main(["analytics", "import-pageviews", str(bad)]) == 2
    assert json.loads(capsys.readouterr().out)["errors"][0] == {
        "row": 4,
        "column": "ts",
        "value": "yesterday",
        "code": "ANALYTICS_PAGEVIEW_TS_INVALID",
        "message": "Row 4: ts is not an ISO 8601 time (e.g. 2026-03-01T10:15:00+08:00)",
    }


@pytest.mark.parametrize("role", ["analyst", "cashier"])
def test_console_traffic_page(client, staff, roles, role):
    from django.urls import reverse

    client.force_login(staff(role))
    r = client.get(reverse("analytics_traffic"), {"steps": "/cart,/checkout"})
    assert r.status_code == (200 if role == "analyst" else 403)


def test_console_import_dry_run_shows_row_errors_then_imports(client, staff, roles):
    from django.urls import reverse

    client.force_login(staff("marketer"))
    url = reverse("analytics_traffic")
    bad = SimpleUploadedFile("bad.csv", (FIXTURES / "pageviews_bad.csv").read_bytes(), "text/csv")
    page = client.post(url, {"file": bad, "dry_run": "1"}).content.decode()
    assert 'data-testid="import-errors"' in page and "yesterday" in page and PageView.objects.count() == 0
    good = SimpleUploadedFile("pv.csv", (FIXTURES / "pageviews.csv").read_bytes(), "text/csv")
    assert client.post(url, {"file": good}).status_code == 200
    assert PageView.objects.count() == 971
    page = client.get(url, {"steps": "/cart,/checkout"}).content.decode()
    assert 'data-testid="chart-funnel"' in page and "/checkout" in page
    x = client.get(reverse("analytics_traffic_xlsx"))
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxml")
    analyst = staff("cashier")
    client.force_login(analyst)
    assert client.post(url, {"file": good}).status_code == 403
