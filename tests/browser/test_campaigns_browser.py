"""The campaign builder in a real Chromium: a marketer designs a two-wave campaign (the segment's
live count, the template's SMS length and cost), saves it, sees the timeline, and the dry run shows
the SMS exactly as it will be sent.

The shop's data (a tagged audience with consent, an SMS template, a coupon template, a marketer)
is made in the live server's own data dir through the services."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SETUP = """
import json
from datetime import timedelta
from laoke.channels.services import message_template_create
from laoke.core import clock
from laoke.core.services import staff_user_create
from laoke.members.services import consent_set, member_create
from laoke.members.tagging import member_tag_add, tag_create
from laoke.promotions.services import coupon_template_create
from laoke.segments.services import segment_create
staff_user_create(username="mkt1", password=PASSWORD, role="marketer")
tag_create(name="双11新客")
for i in range(3):
    # registered long ago: these are old customers, and the dashboard test counts new members
    m = member_create(name=f"李{i}", mobile=f"1390000000{i}", registered_at=clock.now() - timedelta(days=400))
    consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
    member_tag_add(member_id=m.pk, tag_name="双11新客")
sms = message_template_create(name="双11感谢（浏览器）", channel="sms", kind="marketing", signature="老客商城",
    body="{name}您好，感谢您双11的惠顾！送您{coupon_amount}元券{coupon_code}，{coupon_expiry}前有效。回T退订")
care = message_template_create(name="关怀（浏览器）", channel="sms", kind="marketing", signature="老客商城",
    body="{name}，好久不见，新品已上架。回T退订")
offer = coupon_template_create(data={"name": "回购券10元（浏览器）", "kind": "fixed", "amount_off_fen": 1000,
    "valid_days": 10, "valid_to": clock.now() + timedelta(days=400)})
seg = segment_create(name="双11新客（浏览器）", rule={"all": [{"field": "tags", "op": "any", "value": ["双11新客"]}]})
# A second campaign, approved by the admin and started, for the progress page (no quiet hours, so
# its first run is written at once whatever the time of day).
from django.contrib.auth import get_user_model
from laoke.campaigns.dispatch import campaigns_tick
from laoke.campaigns.services import (campaign_approve, campaign_create, campaign_schedule,
    campaign_settings_update)
User = get_user_model()
campaign_settings_update(data={"quiet_start": "00:00", "quiet_end": "00:00"})
live = campaign_create(data={"name": "进行中（浏览器）", "objective": "retention", "segment_id": seg.pk,
    "holdout_bp": 3400, "budget_fen": 100000, "plain_terms": "满100减10", "waves": [{"name": "感谢",
    "template_id": sms.pk, "offer_template_id": offer.pk, "loops": 2, "loop_every_days": 30}]},
    actor=User.objects.get(username="mkt1"))
campaign_approve(campaign_id=live.pk, actor=User.objects.get(username="boss"))
campaign_schedule(campaign_id=live.pk)
for _ in range(3):
    campaigns_tick(clock.now())
print(json.dumps({"sms": sms.pk, "care": care.pk, "offer": offer.pk, "segment": seg.pk, "live": live.pk}))
"""


@pytest.fixture(scope="module")
def shop(laoke_server):
    env = {
        **os.environ,
        "LAOKE_DATA_DIR": str(laoke_server["data_dir"]),
        "DJANGO_SETTINGS_MODULE": "laoke.settings",
    }
    for key in ("DATABASE_URL", "LAOKE_TESTING", "REDIS_URL"):
        env.pop(key, None)
    code = SETUP.replace("PASSWORD", repr(laoke_server["password"]))
    out = subprocess.run(
        [Path(sys.executable).parent / "laoke", "manage", "shell", "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_marketer_builds_and_dry_runs_a_campaign(browser, laoke_server, shop, shot):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(laoke_server["base"] + "/admin/login/")
    page.fill("input[name=username]", "mkt1")
    page.fill("input[name=password]", laoke_server["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/admin/login/" not in page.url

    page.goto(laoke_server["base"] + "/admin/console/campaigns/")
    page.click("[data-testid=new-campaign]")
    page.wait_for_load_state("networkidle")
    page.fill("[data-testid=name]", "双11回购（浏览器）")
    page.fill("[data-testid=plain-terms]", "满100减10，10天内有效，每人一张")
    page.select_option("[data-testid=segment]", str(shop["segment"]))
    page.wait_for_function("document.querySelector('[data-testid=segment-count]').textContent === '3'")
    page.fill("[data-testid=budget]", "100")

    wave = page.locator("[data-testid=wave]").nth(0)
    wave.locator("[data-testid=wave-name]").fill("感谢+券")
    wave.locator("[data-testid=wave-template]").select_option(str(shop["sms"]))
    assert "短信" in wave.locator("[data-testid=template-info]").inner_text()  # zh-hans by default
    wave.locator("[data-testid=wave-offer]").select_option(str(shop["offer"]))
    wave.locator("[data-testid=wave-loops]").fill("3")
    wave.locator("[data-testid=wave-loop_every_days]").fill("30")
    page.click("[data-testid=add-wave]")
    care = page.locator("[data-testid=wave]").nth(1)
    care.locator("[data-testid=wave-name]").fill("关怀")
    care.locator("[data-testid=wave-template]").select_option(str(shop["care"]))
    care.locator("[data-testid=wave-delay_days]").fill("3")
    # A mistake is shown next to its field, and nothing typed is lost.
    care.locator("[data-testid=wave-loops]").fill("0")
    page.click("[data-testid=save]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=campaign-error]").get_attribute("data-field") == "waves[1].loops"
    error = page.locator("[data-testid=wave]").nth(1).locator("[data-testid=field-error]")
    assert error.is_visible() and "1–24" in error.inner_text()
    assert page.input_value("[data-testid=name]") == "双11回购（浏览器）"
    shot(page, "campaign-builder-error")
    care = page.locator("[data-testid=wave]").nth(1)
    assert care.locator("[data-testid=wave-name]").input_value() == "关怀"
    care.locator("[data-testid=wave-loops]").fill("1")
    page.click("[data-testid=save]")
    page.wait_for_load_state("networkidle")
    assert "/admin/console/campaigns/new/" not in page.url, page.inner_text("body")[:800]
    # The timeline: three runs of the first wave and one of the second, each with its window.
    assert page.locator("[data-testid=run-mark]").count() == 4
    assert page.locator("[data-testid=eval-bar]").count() == 4
    shot(page, "campaign-builder")

    page.click("[data-testid=tab-dry-run]")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("[data-testid=audience]").strip() == "3"
    bodies = page.locator("[data-testid=sample-body]").all_inner_texts()
    assert any(b.startswith("【老客商城】李0您好，感谢您双11的惠顾！送您10") for b in bodies), bodies
    shot(page, "campaign-dry-run")

    # The running campaign's progress: a stacked bar per run, contacted vs control, refreshing.
    page.goto(f"{laoke_server['base']}/admin/console/campaigns/{shop['live']}/progress/")
    page.wait_for_selector("[data-testid=run-row]")
    assert page.locator("[data-testid=run-row]").count() == 2
    assert page.inner_text("[data-testid=control]").strip() == "1"
    assert page.locator("[data-testid=run-bar] [data-part]").count() >= 1  # the first run's messages
    with page.expect_response(lambda r: r.url.endswith("/progress.json") and r.status == 200, timeout=10_000):
        pass  # the page polls its JSON while the campaign runs
    shot(page, "campaign-progress")
    context.close()
