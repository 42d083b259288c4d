"""The API and the CLI over the gift workflow and the draw."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from laoke.cli import main as laoke
from laoke.core import clock
from laoke.members.services import member_create

from .helpers import form

pytestmark = pytest.mark.django_db
P = "/api/v1/holidays"
J = "application/json"


def test_story_5_through_the_api_and_cli(api, tmp_path, capsys):
    plan, rep, smgr, xmgr = api("marketer"), api("sales_rep"), api("service_manager"), api("sales_manager")
    with clock.frozen(datetime(2026, 9, 1, 2, 0, tzinfo=UTC)):
        r = plan.post(
            f"{P}/campaigns",
            {"year": 2026, "high_price_fen": 16_800, "normal_price_fen": 8_800},
            content_type=J,
        )
        assert r.status_code == 201, r.content
        c = r.json()
        assert (c["courier_deadline"], c["delivery_from"]) == ("2026-09-18", "2026-09-19")  # 中秋 9/25
        ids = []
        for i, level in enumerate(["high", "high", "normal"]):
            r = rep.post(
                f"{P}/campaigns/{c['id']}/applications", form(name=f"客户{i}", level=level), content_type=J
            )
            assert r.status_code == 201, r.content
            ids.append(r.json()["id"])
        # a sales manager's own request is not in a colleague's queue, and is refused by the API
        own = xmgr.post(f"{P}/campaigns/{c['id']}/applications", form(name="经理推荐"), content_type=J).json()
        colleague = api("sales_manager")
        assert own["id"] not in [a["id"] for a in colleague.get(f"{P}/applications/to-review").json()]
        r = colleague.post(f"{P}/applications/{own['id']}/sales-review", {"approve": True}, content_type=J)
        assert (r.status_code, r.json()["code"]) == (403, "APPROVAL_OWN_ROLE")
        # the sales rep cannot review; each manager reviews their own step
        assert (
            rep.post(f"{P}/applications/{ids[0]}/sales-review", {"approve": True}, content_type=J).status_code
            == 403
        )
        queue = smgr.get(f"{P}/applications/to-review").json()
        assert sorted(a["id"] for a in queue) == sorted([*ids, own["id"]])
        for i in ids:
            assert (
                smgr.post(
                    f"{P}/applications/{i}/service-review", {"approve": True}, content_type=J
                ).status_code
                == 200
            )
            assert (
                xmgr.post(f"{P}/applications/{i}/sales-review", {"approve": True}, content_type=J).status_code
                == 200
            )
        r = plan.post(
            f"{P}/applications/{ids[2]}/final", {"approve": False, "reason": "重复申请"}, content_type=J
        )
        assert r.json()["state"] == "rejected"
        for i in ids[:2]:
            assert plan.post(f"{P}/applications/{i}/final", {"approve": True}, content_type=J).json()[
                "state"
            ] == ("approved")
        b = plan.get(f"{P}/campaigns/{c['id']}/budget").json()
        assert (b["gifts_fen"], b["cards_fen"], b["total_fen"]) == (2 * 16_800, 2 * 300, 2 * 16_800 + 600)
        detail = plan.get(f"{P}/campaigns/{c['id']}").json()
        kp = next(q for q in detail["quotas"] if q["recipient_type"] == "key_prospect")
        assert (kp["approved"], kp["left"]) == (2, 198)
        r = plan.get(f"{P}/campaigns/{c['id']}/export?format=xlsx")
        assert r.status_code == 200 and r["X-Laoke-Late"] == "0"
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        assert [row[2] for row in rows[1:]] == ["客户0", "客户1"]
        assert laoke(["gifts", "budget", str(c["id"])]) == 0
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["total_fen"] == b["total_fen"]
        out = tmp_path / "couriers.csv"
        assert laoke(["gifts", "export-couriers", str(c["id"]), "--output", str(out), "--format", "csv"]) == 0
        assert out.read_bytes().decode("utf-8-sig").count("\n") == 3
    with clock.frozen(datetime(2026, 9, 20, 2, 0, tzinfo=UTC)):  # after the deadline
        assert plan.get(f"{P}/campaigns/{c['id']}/export").json()["code"] == "GIFT_EXPORT_LATE"
        assert laoke(["gifts", "export-couriers", str(c["id"]), "--output", str(out)]) == 2
        assert plan.get(f"{P}/campaigns/{c['id']}/export?late=true")["X-Laoke-Late"] == "1"
    capsys.readouterr()


def test_draw_needs_an_idempotency_key_and_replays(api):
    plan, cashier = api("marketer"), api("cashier")
    now = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)
    m = member_create(name="丙", mobile="13900000009")
    with clock.frozen(now):
        r = plan.post(
            f"{P}/draw-games",
            {
                "code": "api-g",
                "name": "购物前抽奖",
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(days=1)).isoformat(),
                "prizes": [{"name": "购物袋", "probability_bp": 10_000, "stock": 1}],
            },
            content_type=J,
        )
        assert r.status_code == 201, r.content
        gid = r.json()["id"]
        body = json.dumps({"member_id": m.pk})
        assert cashier.post(f"{P}/draw-games/{gid}/draw", body, content_type=J).status_code == 400
        first = cashier.post(f"{P}/draw-games/{gid}/draw", body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
        again = cashier.post(f"{P}/draw-games/{gid}/draw", body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
        assert first.status_code == 201 and first.json() == again.json()
        assert first.json()["prize"] == "购物袋"
        assert plan.get(f"{P}/draw-games/{gid}").json()["prizes"][0]["awarded"] == 1
