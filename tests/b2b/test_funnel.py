"""The funnel report: figures recomputed here from the list of projects the test created (not from
the project's helpers), the API's JSON, the xlsx export and the CLI."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from laoke.b2b import services as s
from laoke.b2b.selectors import funnel

from .helpers import approve, customer, project, to_initiation

pytestmark = pytest.mark.django_db

# (stage reached, expected amount in yuan, close-out) — the test's own record of what it builds.
PLAN = [
    ("development", 100, None),
    ("development", 250, ("abandoned", "customer_cancelled")),
    ("initiation", 300, None),
    ("initiation", 120, ("lost", "not_shortlisted")),
    ("proposal", 500, None),
    ("bidding", 700, ("lost", "bid_lost")),
    ("bidding", 900, None),
]
ORDER = ["development", "initiation", "proposal", "bidding", "negotiation", "delivery"]


def _build(staff):
    rep, manager = staff("sales_rep"), staff("sales_manager")
    cust = customer(rep)
    for stage, yuan, close in PLAN:
        opp = project(rep, cust, amount=yuan * 100, name=f"项目{yuan}")
        target = ORDER.index(stage)
        if target >= 1:
            to_initiation(opp, rep)
        if target >= 2:
            approve(opp, "project", rep, manager)
            s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
        if target >= 3:
            s.opportunity_check(opportunity_id=opp.pk, stage="proposal", item=0, actor=rep)
            s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
        if close:
            s.opportunity_close(
                opportunity_id=opp.pk, outcome=close[0], reason=close[1], summary="总结", actor=manager
            )
    return rep


def _expected():
    out = []
    for i, key in enumerate(ORDER):
        reached = [p for p in PLAN if ORDER.index(p[0]) >= i]
        open_here = [p for p in PLAN if p[0] == key and p[2] is None]
        out.append(
            {
                "key": key,
                "reached": len(reached),
                "reached_amount_fen": sum(p[1] for p in reached) * 100,
                "open": len(open_here),
                "open_amount_fen": sum(p[1] for p in open_here) * 100,
            }
        )
    for this, nxt in zip(out, [*out[1:], None], strict=True):
        this["conversion_bp"] = (
            None if nxt is None or this["reached"] == 0 else round(10000 * nxt["reached"] / this["reached"])
        )
    return out


def test_funnel_figures_match_an_independent_count(staff):
    _build(staff)
    f = funnel()
    got = [
        {
            k: getattr(st, k)
            for k in ("key", "reached", "reached_amount_fen", "open", "open_amount_fen", "conversion_bp")
        }
        for st in f.stages
    ]
    assert got == _expected()
    # spelled out once for the reader: 7 reached 开发, 5 立项, 3 提案, 2 招投标; 5/7 = 71.43 %
    assert [st.reached for st in f.stages] == [7, 5, 3, 2, 0, 0]
    assert f.stages[0].conversion_bp == 7143
    assert f.outcomes == {"open": 4, "won": 0, "lost": 2, "abandoned": 1}
    assert sorted((r["status"], r["reason"], r["count"]) for r in f.reasons) == [
        ("abandoned", "customer_cancelled", 1),
        ("lost", "bid_lost", 1),
        ("lost", "not_shortlisted", 1),
    ]


def test_funnel_api_xlsx_and_cli(staff, api, capsys):
    _build(staff)
    client = api("analyst")
    body = client.get("/api/v1/b2b/funnel").json()
    assert [st["reached"] for st in body["stages"]] == [e["reached"] for e in _expected()]
    r = client.get("/api/v1/b2b/funnel.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content))["漏斗"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "阶段" and [row[1] for row in rows[1:]] == [7, 5, 3, 2, 0, 0]
    assert rows[1][5] == pytest.approx(71.43)
    from laoke.b2b.cli import cmd_funnel

    class Args:
        created_from = created_to = xlsx = None

    assert cmd_funnel(Args()) == 0
    out = json.loads(capsys.readouterr().out)
    assert (
        out["outcomes"]["lost"] == 2
        and out["stages"][2]["reached_amount_fen"] == sum(p[1] for p in PLAN if ORDER.index(p[0]) >= 2) * 100
    )
