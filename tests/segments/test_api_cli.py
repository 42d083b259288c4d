"""The /api/v1/segments endpoints and `laoke segment …` (thin adapters): happy paths, a bad rule as
400 with its code and path, masked mobiles in previews and snapshot members."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from laoke.cli import main
from laoke.core import clock
from laoke.members.services import member_create

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 2, tzinfo=UTC)
RULE = {"all": [{"field": "profile.registered_at", "op": "before", "value": "2026-03-01"}]}
P = "/api/v1/segments"


@pytest.fixture
def people():
    with clock.frozen(NOW):
        old = [
            member_create(name=f"老{i}", mobile=f"1380013800{i}", registered_at=NOW - timedelta(days=30))
            for i in range(3)
        ]
        member_create(name="新", mobile="13900139000")
        yield old


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_api_happy_path_and_bad_rule(api, people):
    marketer = api("marketer")
    with clock.frozen(NOW):
        r = _post(marketer, f"{P}/preview", {"rule": RULE, "sample": 2})
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["count"] == 3 and len(body["sample"]) == 2
        assert body["sample"][0]["mobile"] == "138****8002" and body["sample"][0]["name"] == "老2"

        r = _post(
            marketer,
            f"{P}/preview",
            {"rule": {"all": [RULE["all"][0], {"field": "x", "op": "eq", "value": 1}]}},
        )
        assert r.status_code == 400
        assert r.json()["code"] == "SEGMENT_FIELD_UNKNOWN" and r.json()["details"]["path"] == "all[1].field"

        r = _post(marketer, P, {"name": "老客", "rule": RULE})
        assert r.status_code == 201, r.content
        seg = r.json()
        r = _post(marketer, P, {"name": "坏", "rule": {"any": []}})
        assert (r.status_code, r.json()["code"], r.json()["details"]["path"]) == (
            400,
            "SEGMENT_GROUP_EMPTY",
            "any",
        )

        r = marketer.patch(
            f"{P}/{seg['id']}", json.dumps({"description": "三十天前"}), content_type="application/json"
        )
        assert r.status_code == 200 and r.json()["description"] == "三十天前"
        assert marketer.get(f"{P}/{seg['id']}").json()["name"] == "老客"
        assert [s["id"] for s in marketer.get(P).json()["items"]] == [seg["id"]]

        r = _post(marketer, f"{P}/{seg['id']}/snapshots", {"key": "campaign:9"})
        assert r.status_code == 201 and r.json()["member_count"] == 3 and r.json()["state"] == "complete"
        snap = r.json()
        assert _post(marketer, f"{P}/{seg['id']}/snapshots", {"key": "campaign:9"}).json()["id"] == snap["id"]
        assert marketer.get(f"{P}/{seg['id']}/snapshots").json()["items"][0]["id"] == snap["id"]
        assert marketer.get(f"{P}/{seg['id']}/snapshots/{snap['id']}").json()["key"] == "campaign:9"
        page = marketer.get(f"{P}/{seg['id']}/snapshots/{snap['id']}/members?limit=2").json()
        assert len(page["items"]) == 2 and page["next_cursor"]
        rest = marketer.get(
            f"{P}/{seg['id']}/snapshots/{snap['id']}/members?cursor={page['next_cursor']}"
        ).json()
        names = {x["name"] for x in page["items"] + rest["items"]}
        assert names == {"老0", "老1", "老2"} and all("****" in x["mobile"] for x in page["items"])

        fields = marketer.get(f"{P}/fields").json()
        assert any(f["key"] == "orders.discount_share" and f["type"] == "ratio" for f in fields)

        r = _post(marketer, f"{P}/{seg['id']}/archive", {})
        assert r.status_code == 200 and r.json()["archived"] is True
        assert marketer.get(P).json()["items"] == []

        analyst = api("analyst")
        assert _post(analyst, f"{P}/preview", {"rule": RULE}).json()["count"] == 3
        assert _post(analyst, P, {"name": "x", "rule": RULE}).status_code == 403


def test_xlsx_export_is_masked_audited_and_for_marketers(api, people):
    import io

    from openpyxl import load_workbook

    from laoke.core.models import AuditEntry
    from laoke.segments.services import segment_create

    with clock.frozen(NOW):
        seg = segment_create(name="老客", rule=RULE)
        r = api("marketer").get(f"{P}/{seg.pk}/export.xlsx")
        assert r.status_code == 200 and r["X-Rows"] == "3"
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        assert rows[0][:3] == ("member number", "name", "mobile")
        assert sorted(x[1] for x in rows[1:]) == ["老0", "老1", "老2"] and all(
            "****" in x[2] for x in rows[1:]
        )
        assert rows[1][5] == "2026-02-08 10:00"  # registered, shop time
        assert AuditEntry.objects.get(action="segment.export").after["rows"] == 3
        assert api("analyst").get(f"{P}/{seg.pk}/export.xlsx").status_code == 403


def test_cli_list_count_snapshot(people, capsys, db):
    from laoke.segments.services import segment_create

    with clock.frozen(NOW):
        seg = segment_create(name="老客", rule=RULE)
        assert main(["segment", "list"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["name"] == "老客"
        assert main(["segment", "count", str(seg.pk)]) == 0
        assert json.loads(capsys.readouterr().out)["count"] == 3
        assert main(["segment", "count", "--rule", json.dumps({"not": RULE})]) == 0
        assert json.loads(capsys.readouterr().out)["count"] == 1
        assert main(["segment", "count", "--rule", '{"all": []}']) == 2
        assert json.loads(capsys.readouterr().err)["code"] == "SEGMENT_GROUP_EMPTY"
        assert main(["segment", "snapshot", str(seg.pk), "--key", "k1"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["member_count"] == 3 and out["state"] == "complete" and out["key"] == "k1"
