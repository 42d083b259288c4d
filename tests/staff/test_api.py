"""/api/v1/staff end to end: a rep's log (idempotent replay), day, prospects with the object rule,
the assessment xlsx and the sign-off's approval codes; and the CLI."""

from __future__ import annotations

import argparse
import io
from datetime import date

from openpyxl import load_workbook

from laoke.core import clock
from laoke.staff import services
from tests.staff.fixtures import MON, local

S = "/api/v1/staff"


def test_log_day_and_idempotent_replay(api, team):
    rep = api("sales_rep", user=team.rep)
    with clock.frozen(MON):
        body = {"kind": "call", "content": "问候", "result": "约下周拜访"}
        r1 = rep.post(f"{S}/logs", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
        r2 = rep.post(f"{S}/logs", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
        assert r1.status_code == r2.status_code == 201 and r1.json() == r2.json()
        r = rep.post(
            f"{S}/logs", {**body, "kind": "dance"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
        )
        assert r.status_code == 409
        day = rep.get(f"{S}/day").json()
    assert day["completion"]["kinds"]["call"] == {"done": 1, "target": 4, "pct": 25.0}
    assert day["quota"]["scope"] == "preset"


def test_prospects_object_rule_over_the_api(api, team):
    rep = api("sales_rep", user=team.rep)
    rep2 = api("sales_rep", user=team.rep2)
    head = api("sales_manager", user=team.head)
    with clock.frozen(MON):
        r = rep.post(
            f"{S}/prospects", {"name": "访客甲", "phone": "13800001111"}, content_type="application/json"
        )
        assert r.status_code == 201, r.content
        pid = r.json()["id"]
        assert rep2.get(f"{S}/prospects/{pid}").status_code == 404
        assert rep2.get(f"{S}/prospects").json()["items"] == []
        r = rep2.get(f"{S}/day?rep_id={team.rep.pk}")
        assert r.status_code == 403 and r.json()["code"] == "STAFF_REP_NOT_VISIBLE"
        assert head.get(f"{S}/day?rep_id={team.rep.pk}").status_code == 200
        assert [p["id"] for p in head.get(f"{S}/prospects/pending").json()] == [pid]
        r = rep2.post(
            f"{S}/prospects/{pid}/close",
            {"outcome": "lost", "lost_reason": "price"},
            content_type="application/json",
        )
        assert r.status_code == 404
        r = rep.post(f"{S}/prospects/{pid}/close", {"outcome": "lost"}, content_type="application/json")
        assert r.status_code == 422 and r.json()["code"] == "STAFF_LOST_REASON_REQUIRED"
        r = rep.post(
            f"{S}/prospects/{pid}/close",
            {"outcome": "lost", "lost_reason": "competitor"},
            content_type="application/json",
        )
        assert r.status_code == 200 and r.json()["status"] == "lost"
        report = rep.get(f"{S}/prospects/report?month=2026-06").json()
    assert report["lost_by_reason"] == [{"reason": "competitor", "label": "Chose a competitor", "count": 1}]


def test_assessment_export_file_and_sign_over_the_api(api, team):
    for d in (1, 2):
        with clock.frozen(local(2026, 6, d)):
            services.work_log_add(actor=team.rep, kind="new_visit")
    rep = api("sales_rep", user=team.rep)
    head = api("sales_manager", user=team.head)
    gm = api("general_manager", user=team.gm)
    with clock.frozen(local(2026, 7, 1)):
        r = rep.post(f"{S}/assessments", {"month": "2026-06"}, content_type="application/json")
        assert r.status_code == 201, r.content
        aid = r.json()["id"]
        assert r.json()["figures"]["kinds"]["new_visit"] == {"done": 2, "target": 44, "pct": 4.5}
        assert rep.post(f"{S}/assessments/{aid}/sign", {}, content_type="application/json").status_code == 403
        x = gm.get(f"{S}/assessments/export?month=2026-06")
        assert x.status_code == 200
        ws = load_workbook(io.BytesIO(x.content)).active
        rows = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True)}
        assert rows["rep"][1] == 22 and rows["rep"][2:5] == (2, 44, 4.5)
        assert "far" in rows  # the general manager sees every rep
        r = head.post(f"{S}/assessments/{aid}/sign", {"note": "ok"}, content_type="application/json")
        assert r.status_code == 200 and r.json()["state"] == "signed"
        listed = {a["rep"]: a for a in head.get(f"{S}/assessments?month=2026-06").json()}
        assert "far" not in listed and listed["rep"]["assessment"]["state"] == "signed"


def test_cli_assessment_writes_the_xlsx(team, tmp_path):
    from laoke.staff.cli import cmd_assessment, cmd_tick

    with clock.frozen(local(2026, 6, 3)):
        services.work_log_add(actor=team.rep2, kind="call")
        out = tmp_path / "a.xlsx"
        assert cmd_assessment(argparse.Namespace(month="2026-06", output=str(out), as_user="")) == 0
        assert cmd_tick(argparse.Namespace()) == 0
    ws = load_workbook(out).active
    rows = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["rep2"][8] == 1 and rows["rep2"][1] == 3  # 1 call; Mon–Wed so far
    assert date(2026, 6, 1).isoweekday() == 1
