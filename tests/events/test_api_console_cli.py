"""The thin adapters: API (lottery cycle, Idempotency-Key on value moves, verify, export, the
approval refusal over HTTP), console pages by role, and `laoke lottery …`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from laoke.cli import main as cli_main
from laoke.core import clock
from laoke.events import event_services as ev
from laoke.events import services
from laoke.events.models import Event, Lottery, Win

from .conftest import EVENT_AT, NOW


def _lottery(world, actor=None):
    lot = services.lottery_create(
        name="会员日抽奖",
        kind="member_day",
        entry_opens_at=NOW - timedelta(days=1),
        entry_closes_at=NOW + timedelta(days=1),
        actor=actor,
    )
    services.prize_add(lottery_id=lot.pk, tier=1, name="一等奖", stock=1)
    services.prize_add(lottery_id=lot.pk, tier=2, name="二等奖", stock=2, kind="points", points=500)
    return lot


def test_api_lottery_cycle(world, api):
    c = api("marketer")
    r = c.post(
        "/api/v1/events/lotteries",
        {
            "name": "六月会员日",
            "kind": "member_day",
            "entry_opens_at": (NOW - timedelta(days=1)).isoformat(),
            "entry_closes_at": (NOW + timedelta(days=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    lid = r.json()["id"]
    assert r.json()["min_points"] == 5_000
    r = c.post(
        f"/api/v1/events/lotteries/{lid}/prizes",
        {"tier": 1, "name": "电饭煲", "stock": 2},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["prizes"][0]["stock"] == 2
    assert c.post(f"/api/v1/events/lotteries/{lid}/open").json()["state"] == "open"
    r = c.post(f"/api/v1/events/lotteries/{lid}/commit")
    body = r.json()
    assert body["state"] == "committed" and len(body["seed_hash"]) == 64 and body["seed"] is None
    assert body["entrant_count"] == 4
    r = c.post(f"/api/v1/events/lotteries/{lid}/draw")
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    r = c.post(f"/api/v1/events/lotteries/{lid}/draw", HTTP_IDEMPOTENCY_KEY="draw-1")
    drawn = r.json()
    assert r.status_code == 200 and drawn["state"] == "drawn" and len(drawn["winners"]) == 2
    again = c.post(f"/api/v1/events/lotteries/{lid}/draw", HTTP_IDEMPOTENCY_KEY="draw-2").json()
    assert again["winners"] == drawn["winners"] and again["seed"] == drawn["seed"]
    export = c.get(f"/api/v1/events/lotteries/{lid}/entrants?format=json")
    assert export.status_code == 200 and "attachment" in export["Content-Disposition"]
    r = c.post(
        f"/api/v1/events/lotteries/{lid}/verify",
        {"seed": drawn["seed"], "entrants": export.content.decode()},
        content_type="application/json",
    )
    assert r.json()["verified"] is True and r.json()["winners_ok"] is True
    doc = json.loads(export.content)
    doc["entrants"] = doc["entrants"][:-1]
    r = c.post(
        f"/api/v1/events/lotteries/{lid}/verify",
        {"entrants": json.dumps(doc)},
        content_type="application/json",
    )
    assert r.json()["verified"] is False and r.json()["entrants_ok"] is False
    r = c.post(f"/api/v1/events/lotteries/{lid}/verify", {"seed": "zz"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "LOTTERY_SEED_INVALID"
    # An analyst reads and verifies, but may not draw.
    a = api("analyst")
    assert a.get(f"/api/v1/events/lotteries/{lid}").json()["seed"] == drawn["seed"]
    assert a.post(f"/api/v1/events/lotteries/{lid}/draw", HTTP_IDEMPOTENCY_KEY="x").status_code == 403


def test_api_event_approval_and_sign_in(world, api, staff):
    mk = api("marketer")
    r = mk.post(
        "/api/v1/events",
        {
            "name": "答谢会",
            "starts_at": EVENT_AT.isoformat(),
            "venue_store_id": world.store.pk,
            "voucher_template_id": world.voucher.pk,
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    eid = r.json()["id"]
    assert r.json()["rsvp_deadline"] == (EVENT_AT - timedelta(days=2)).isoformat()
    r = mk.post(
        f"/api/v1/events/{eid}/invitees",
        {"member_id": world.members["A"].pk, "department": "市场部"},
        content_type="application/json",
    )
    assert r.status_code == 201
    iid = r.json()["id"]
    assert mk.post(f"/api/v1/events/{eid}/invitees/submit").json()["list_state"] == "submitted"
    assert (
        mk.post(
            f"/api/v1/events/{eid}/invitees/decide", {"approve": True}, content_type="application/json"
        ).status_code
        == 403
    )
    gm = api("general_manager")
    r = gm.post(f"/api/v1/events/{eid}/invitees/decide", {"approve": True}, content_type="application/json")
    assert r.json()["list_state"] == "approved"
    till = api("cashier")
    with clock.frozen(EVENT_AT):
        r = till.post(
            f"/api/v1/events/invitees/{iid}/sign-in",
            {"business_card": "名片"},
            content_type="application/json",
        )
        assert r.status_code == 400
        r1 = till.post(
            f"/api/v1/events/invitees/{iid}/sign-in",
            {"business_card": "名片"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="s1",
        )
        r2 = till.post(
            f"/api/v1/events/invitees/{iid}/sign-in",
            {"business_card": "名片"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="s1",
        )
    assert r1.status_code == 200 and r1.json() == r2.json() and r1.json()["ticket"]
    report = gm.get(f"/api/v1/events/{eid}/report").json()
    assert report["attended"] == 1 and report["invited"] == 1


def test_api_approval_refuses_requesting_role_over_http(world, api):
    admin1, admin2 = api("admin"), api("admin")
    e = ev.event_create(name="答谢会", starts_at=EVENT_AT, venue_store=world.store)
    ev.invitee_add(event_id=e.pk, member=world.members["A"], department="市场部")
    admin1.post(f"/api/v1/events/{e.pk}/invitees/submit")
    r = admin2.post(
        f"/api/v1/events/{e.pk}/invitees/decide", {"approve": True}, content_type="application/json"
    )
    assert r.status_code in (403, 409, 422) and r.json()["code"] == "APPROVAL_OWN_ROLE"


def test_console_pages_by_role(world, staff, client):
    lot = _lottery(world)
    e = ev.event_create(name="答谢会", starts_at=EVENT_AT, venue_store=world.store)
    pages = [
        "/admin/console/events/",
        f"/admin/console/events/lotteries/{lot.pk}/",
        f"/admin/console/events/{e.pk}/",
    ]
    client.force_login(staff("marketer"))
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    client.force_login(staff("redemption_clerk"))
    for url in pages:
        assert client.get(url).status_code == 403, url
    assert (
        client.post(f"/admin/console/events/lotteries/{lot.pk}/action/", {"action": "commit"}).status_code
        == 403
    )
    client.logout()
    assert client.get(pages[0]).status_code == 302


def test_console_commit_draw_verify(world, staff, client):
    lot = _lottery(world)
    services.lottery_open(lottery_id=lot.pk)
    client.force_login(staff("marketer"))
    base = f"/admin/console/events/lotteries/{lot.pk}/"
    assert client.post(base + "action/", {"action": "commit"}).status_code == 302
    lot.refresh_from_db()
    page = client.get(base).content.decode()
    assert lot.seed_hash in page and lot.seed not in page  # the commitment shown, the seed kept secret
    client.post(base + "action/", {"action": "draw"})
    lot.refresh_from_db()
    page = client.get(base).content.decode()
    assert lot.state == "drawn" and lot.seed in page and 'data-testid="winner-row"' in page
    r = client.post(base + "verify/", {})
    assert 'data-testid="verified"' in r.content.decode()
    r = client.post(base + "verify/", {"seed": "0" * 64})
    assert 'data-testid="not-verified"' in r.content.decode()
    assert client.get(base + "entrants.csv").content.decode().startswith("ticket\n")
    # A cashier sees neither the lottery page nor may draw.
    client.force_login(staff("cashier"))
    assert client.get(base).status_code == 403


def test_console_event_workflow(world, staff, client):
    mk, gm = staff("marketer"), staff("general_manager")
    client.force_login(mk)
    r = client.post(
        "/admin/console/events/new/",
        {"name": "答谢会", "kind": "appreciation", "starts_at": "2026-06-20T17:00", "store": world.store.pk},
    )
    e = Event.objects.get()
    assert r.status_code == 302 and e.starts_at == EVENT_AT
    url = f"/admin/console/events/{e.pk}/action/"
    client.post(url, {"action": "invite", "member": world.members["A"].code, "department": "市场部"})
    client.post(url, {"action": "submit"})
    assert client.post(url, {"action": "approve"}).status_code == 403
    client.force_login(gm)
    client.post(url, {"action": "approve"})
    e.refresh_from_db()
    assert e.list_state == "approved"
    page = client.get(f"/admin/console/events/{e.pk}/").content.decode()
    assert "会员A" in page


def test_cli_draw_export_verify(world, tmp_path, capsys):
    lot = _lottery(world)
    services.lottery_open(lottery_id=lot.pk)
    assert cli_main(["lottery", "commit", str(lot.pk)]) == 0
    committed = json.loads(capsys.readouterr().out)
    assert committed["seed"] is None and len(committed["seed_hash"]) == 64
    assert cli_main(["lottery", "draw", str(lot.pk)]) == 0
    drawn = json.loads(capsys.readouterr().out)
    assert len(drawn["winners"]) == 3 and drawn["seed_hash"] == committed["seed_hash"]
    f = tmp_path / "entrants.csv"
    assert cli_main(["lottery", "export-entrants", str(lot.pk), str(f)]) == 0
    capsys.readouterr()
    assert cli_main(["lottery", "verify", str(lot.pk), "--seed", drawn["seed"], "--entrants", str(f)]) == 0
    assert capsys.readouterr().out.strip().endswith("verified")
    # Negative controls: a ticket removed from the file; a wrong seed.
    lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:-1]) + "\n")
    assert cli_main(["lottery", "verify", str(lot.pk), "--entrants", str(f)]) == 1
    assert capsys.readouterr().out.strip().endswith("NOT verified")
    assert cli_main(["lottery", "verify", str(lot.pk), "--seed", "1" * 64]) == 1
    assert Win.objects.filter(lottery=lot).count() == 3
    assert Lottery.objects.get(pk=lot.pk).state == "drawn"


@pytest.mark.parametrize("fmt", ["json"])
def test_standalone_verifier_from_json_export(world, tmp_path, fmt, capsys):
    from laoke.events import draw

    lot = _lottery(world)
    services.lottery_commit(lottery_id=services.lottery_open(lottery_id=lot.pk).pk)
    services.lottery_draw(lottery_id=lot.pk)
    f = tmp_path / f"export.{fmt}"
    assert cli_main(["lottery", "export-entrants", str(lot.pk), str(f)]) == 0
    assert draw.main([str(f)]) == 0
    assert draw.main([str(f), "2" * 64]) == 1
