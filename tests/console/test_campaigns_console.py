"""The campaigns console: the pages render for a marketer and not for a cashier; the builder saves
a draft through the form (and names the bad field when it cannot); a service manager approves (the
creator cannot: the service's message is shown); scheduling reads shop time; the dry run shows the
messages exactly as they will be sent; the progress JSON follows the run; the member-360 partial
shows what the member got; the guards page saves for the admin only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client

from laoke.campaigns.dispatch import campaigns_tick
from laoke.campaigns.models import Campaign, CampaignSettings, CampaignState
from laoke.core import clock
from tests.campaigns.conftest import T0, CampaignShop

pytestmark = pytest.mark.django_db
PASSWORD = "console-pass-1"


@pytest.fixture
def shop(db, settings):
    """The campaigns tests' shop: tagged Double-11 customers, an SMS template with an offer."""
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    with clock.frozen(T0):
        yield CampaignShop()


def _client(staff, role):
    user = staff(role, password=PASSWORD)
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.user = user
    return client


def _post_form(client, shop, url="/admin/console/campaigns/new/", **over):
    structure = over.pop(
        "structure",
        {
            "branches": [],
            "waves": [
                {
                    "name": "感谢",
                    "branch": "",
                    "template_id": str(shop.sms.pk),
                    "offer_template_id": str(shop.offer.pk),
                    "send_at": "",
                    "delay_days": "0",
                    "send_time": "10:00",
                    "entry": "all",
                    "eval_days": "10",
                    "loops": "3",
                    "loop_every_days": "30",
                    "channel_code": "",
                },
            ],
        },
    )
    form = {
        "name": "双11回购",
        "plain_terms": "满100减10，10天有效",
        "objective": "retention",
        "target_metric": "response_rate",
        "target_value": "12.5",
        "segment_id": str(shop.segment.pk),
        "holdout": "10",
        "budget": "500.50",
        "old_budget": "",
        "attribution": "window",
        "structure": json.dumps(structure),
        **over,
    }
    return client.post(url, form)


def _flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_builder_creates_a_draft_and_names_the_bad_field(shop, staff):
    shop.customers(4)
    c = _client(staff, "marketer")
    r = c.get("/admin/console/campaigns/new/")
    html = r.content.decode()
    assert r.status_code == 200 and 'id="cb-init"' in html
    info = {t["id"]: t for t in r.context["init"]["templates"]}[shop.sms.pk]
    assert (info["channel"], info["segments"], info["cost"]) == ("sms", 1, "¥0.05")  # SMS length and cost
    assert c.get("/admin/console/campaigns/").status_code == 200

    # Invalid: three separate mistakes, each reported against its own field, nothing written.
    r = _post_form(c, shop, holdout="60")
    assert r.status_code == 400 and r.context["error"]["field"] == "holdout_bp"
    bad_loops = json.loads(r.context["init"]["structure"] and json.dumps(r.context["init"]["structure"]))
    bad_loops["waves"][0]["loops"] = "0"
    r = _post_form(c, shop, structure=bad_loops)
    assert r.status_code == 400 and r.context["error"]["field"] == "waves[0].loops"
    bad_rule = {
        "branches": [
            {"name": "食品", "rule": '{"all": [{"field": "orders.count", "op": "gte", "value": -1}]}'}
        ],
        "waves": bad_loops["waves"],
    }
    r = _post_form(c, shop, structure=bad_rule)
    err = r.context["error"]
    assert (
        r.status_code == 400
        and err["field"] == "branches[0].rule"
        and err["message"].startswith("all[0].value")
    )
    assert 'data-testid="campaign-error"' in r.content.decode()
    assert not Campaign.objects.exists()

    # Valid: the service's units (bp, fen) from percent and yuan; the page then shows the timeline.
    r = _post_form(c, shop)
    camp = Campaign.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/admin/console/campaigns/{camp.pk}/"
    assert (camp.holdout_bp, camp.budget_fen, camp.target_value, camp.created_by) == (
        1000,
        50050,
        1250,
        c.user,
    )
    wave = camp.waves.get()
    assert (wave.loops, wave.loop_every_days, wave.send_time.hour) == (3, 30, 10)
    html = c.get(r["Location"]).content.decode()
    assert html.count('data-testid="run-mark"') == 3 and 'data-testid="eval-bar"' in html

    # A duplicate name is the service's error, shown against "name".
    r = _post_form(c, shop)
    assert r.status_code == 400 and r.context["error"]["field"] == "name"

    # Editing the draft replaces its waves.
    two = {
        "branches": [],
        "waves": [
            bad_loops["waves"][0] | {"loops": "1"},
            bad_loops["waves"][0] | {"loops": "1", "entry": "no_order", "delay_days": "7", "name": "关怀"},
        ],
    }
    r = _post_form(c, shop, url=f"/admin/console/campaigns/{camp.pk}/", structure=two)
    assert r.status_code == 302 and camp.waves.count() == 2
    # A budget below the dry run's upper bound is flagged there.
    html = c.get(f"/admin/console/campaigns/{camp.pk}/dry-run/").content.decode()
    assert 'data-testid="over-budget"' not in html
    _post_form(c, shop, url=f"/admin/console/campaigns/{camp.pk}/", structure=two, budget="0.05")
    html = c.get(f"/admin/console/campaigns/{camp.pk}/dry-run/").content.decode()
    assert 'data-testid="over-budget"' in html

    # A cashier sees none of it.
    cashier = _client(staff, "cashier")
    for url in ("", "new/", f"{camp.pk}/", f"{camp.pk}/dry-run/", f"{camp.pk}/progress.json", "settings/"):
        assert cashier.get(f"/admin/console/campaigns/{url}").status_code == 403, url


def test_approve_schedule_dry_run_progress_history(shop, staff):
    members = shop.customers(10)
    admin = _client(staff, "admin")
    _post_form(admin, shop)
    camp = Campaign.objects.get()
    action = f"/admin/console/campaigns/{camp.pk}/action/"

    # Dry run: audience, control, and the SMS exactly as it will go out (signature, coupon).
    r = admin.get(f"/admin/console/campaigns/{camp.pk}/dry-run/")
    html = r.content.decode()
    assert r.status_code == 200 and r.context["dry"]["audience"] == 10 and r.context["dry"]["control"] == 1
    sample = r.context["waves"][0]["samples"][0]["body"]
    assert sample.startswith("【老客商城】顾客1您好，感谢您双11的惠顾！送您10.0") and sample in html
    assert 'data-testid="over-budget"' not in html

    # Four eyes: the creator (an admin, who holds the permission) is refused with the service's message.
    r = admin.post(action, {"action": "approve"})
    assert "someone other than its creator" in " ".join(_flash(r))
    marketer = _client(staff, "marketer")
    assert marketer.post(action, {"action": "approve"}).status_code == 403
    manager = _client(staff, "service_manager")
    manager.post(action, {"action": "approve"})
    camp.refresh_from_db()
    assert camp.state == CampaignState.APPROVED and camp.approved_by == manager.user

    # Approved: read-only for everyone; the marketer now has the schedule action, the manager none.
    html = marketer.get(f"/admin/console/campaigns/{camp.pk}/").content.decode()
    assert 'data-testid="save"' not in html and 'data-testid="schedule"' in html
    html = manager.get(f"/admin/console/campaigns/{camp.pk}/").content.decode()
    assert 'data-testid="schedule"' not in html and 'data-testid="approve"' not in html

    # Scheduling reads shop time (Asia/Shanghai, UTC+8).
    marketer.post(action, {"action": "schedule", "starts_at": "2026-11-12T18:30"})
    camp.refresh_from_db()
    assert camp.state == CampaignState.SCHEDULED
    assert camp.starts_at == datetime(2026, 11, 12, 10, 30, tzinfo=UTC)

    with clock.frozen(camp.starts_at):
        campaigns_tick(camp.starts_at)
        p = marketer.get(f"/admin/console/campaigns/{camp.pk}/progress.json").json()
        assert p["state"] == "running" and p["live"] is True and p["control"] == 1
        assert [(r["run"], r["state"], r["due_local"]) for r in p["runs"]][:2] == [
            (1, "pending", "2026-11-13 10:00"),  # the wave's 10:00 shop time, the day after the start
            (2, "pending", "2026-12-13 10:00"),
        ]
    due = datetime.fromisoformat(p["runs"][0]["due_at"])
    with clock.frozen(due):
        campaigns_tick(due)
        p = marketer.get(f"/admin/console/campaigns/{camp.pk}/progress.json").json()
        run = p["runs"][0]
        assert (run["run"], run["state"], run["contacted"], run["control"]) == (1, "done", 9, 1)
        assert run["parts"]["waiting"] + run["parts"]["sent"] + run["parts"]["suppressed"] == 9
        assert run["response"].count("0/9 (¥0.00)") == 1 and run["response"].endswith(
            "0/1 (¥0.00)"
        )  # no orders yet
        assert marketer.get(f"/admin/console/campaigns/{camp.pk}/progress/").status_code == 200

        # Member 360: what the first contacted member got, with the campaign's plain terms.
        got = next(
            m
            for m in members
            if manager.get(f"/admin/console/campaigns/members/{m.pk}/history/?format=json").json()["items"][
                0
            ]["outcome"]
            == "contacted"
        )
        items = manager.get(f"/admin/console/campaigns/members/{got.pk}/history/?format=json").json()["items"]
        assert items[0]["campaign"] == "双11回购" and items[0]["plain_terms"] == "满100减10，10天有效"
        assert items[0]["text"].startswith("【老客商城】")
        html = manager.get(f"/admin/console/campaigns/members/{got.pk}/history/").content.decode()
        assert items[0]["text"] in html and "满100减10" in html

        marketer.post(action, {"action": "pause", "reason": "库存不足"})
        camp.refresh_from_db()
        assert (camp.state, camp.stop_reason) == (CampaignState.PAUSED, "库存不足")
        assert marketer.get(f"/admin/console/campaigns/{camp.pk}/progress.json").json()["live"] is False
        marketer.post(action, {"action": "resume"})
        marketer.post(action, {"action": "cancel", "reason": "停止"})
        camp.refresh_from_db()
        assert camp.state == CampaignState.CANCELLED
        # An action the state does not allow is refused with the service's message, not a 500.
        r = marketer.post(action, {"action": "resume"})
        assert r.status_code == 302 and "cancelled" in " ".join(_flash(r))


def test_settings_and_presets(shop, staff):
    marketer = _client(staff, "marketer")
    r = marketer.get("/admin/console/campaigns/settings/")
    assert r.status_code == 200 and r.context["can_change"] is False
    assert marketer.post("/admin/console/campaigns/settings/", {}).status_code == 403
    admin = _client(staff, "admin")
    form = {
        "quiet_start": "22:00",
        "quiet_end": "08:30",
        "sms_per_day": "1",
        "sms_per_month": "3",
        "email_per_day": "1",
        "email_per_month": "8",
        "cool_off_hours": "72",
        "refund_suppress_days": "7",
        "sms_price": "0.06",
        "email_price": "0",
    }
    r = admin.post("/admin/console/campaigns/settings/", form)
    assert r.status_code == 302
    s = CampaignSettings.objects.get()
    assert (
        s.quiet_start.hour,
        s.quiet_end.minute,
        s.sms_per_month,
        s.cool_off_hours,
        s.sms_fen_per_segment,
    ) == (
        22,
        30,
        3,
        72,
        6,
    )
    r = admin.post("/admin/console/campaigns/settings/", {**form, "sms_per_day": "-1"})
    assert r.status_code == 400 and r.context["form"].errors["sms_per_day"]

    r = marketer.post("/admin/console/campaigns/presets/")
    assert r.status_code == 302 and Campaign.objects.filter(state="draft").count() == 3
    html = marketer.get("/admin/console/campaigns/").content.decode()
    assert html.count('data-testid="campaign-row"') == 3
    # The mother-baby preset's branches render in the builder (rules as JSON, one row per branch).
    mb = Campaign.objects.get(preset="mother_baby")
    r = marketer.get(f"/admin/console/campaigns/{mb.pk}/")
    assert len(r.context["init"]["structure"]["branches"]) == 3 and r.context["timeline"]["rows"]
    assert marketer.get(f"/admin/console/campaigns/{mb.pk}/dry-run/").status_code == 200
