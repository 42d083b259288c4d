"""The campaigns API as a marketer and a service manager would use it."""

from __future__ import annotations

import pytest

from .conftest import T0

pytestmark = pytest.mark.django_db
P = "/api/v1/campaigns"
J = "application/json"


def test_design_approve_launch_and_watch_by_api(api, cshop):
    cshop.customers(10)
    marketer, manager = api("marketer"), api("service_manager")
    body = {
        "name": "API活动",
        "objective": "retention",
        "segment_id": cshop.segment.pk,
        "seed": 1,
        "waves": [
            {
                "name": "感谢",
                "template_id": cshop.sms.pk,
                "send_time": "10:00",
                "loops": 2,
                "loop_every_days": 30,
            }
        ],
    }
    bad = marketer.post(P, {**body, "waves": [{**body["waves"][0], "template_id": 999}]}, content_type=J)
    assert bad.status_code == 422 and bad.json()["code"] == "CAMPAIGN_WAVE_INVALID"
    assert bad.json()["details"]["field"] == "waves[0].template_id" or "waves[0]" in bad.text
    r1 = marketer.post(P, body, content_type=J, HTTP_IDEMPOTENCY_KEY="c1")
    r2 = marketer.post(P, body, content_type=J, HTTP_IDEMPOTENCY_KEY="c1")
    assert r1.status_code == 201 and r2.json() == r1.json()
    cid = r1.json()["id"]
    assert r1.json()["waves"][0]["channel"] == "sms" and r1.json()["state"] == "draft"
    # The creator cannot approve (and a marketer has no approval permission at all).
    assert marketer.post(f"{P}/{cid}/approve").status_code == 403
    approved = manager.post(f"{P}/{cid}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    dry = marketer.get(f"{P}/{cid}/dry-run").json()
    assert dry["audience"] == 10 and len(dry["waves"][0]["runs"]) == 2
    assert (
        marketer.post(f"{P}/{cid}/schedule", {"starts_at": T0.isoformat()}, content_type=J).json()["state"]
        == "scheduled"
    )
    from laoke.campaigns.dispatch import campaigns_tick

    campaigns_tick(T0)
    progress = marketer.get(f"{P}/{cid}/progress").json()
    assert progress["state"] == "running" and progress["runs"][0]["contacted"] == 9
    assert progress["runs"][0]["outbox"] == {"waiting": 9}
    late = marketer.patch(f"{P}/{cid}", {"name": "改名"}, content_type=J)
    assert late.status_code == 409 and late.json()["code"] == "CAMPAIGN_STATE"
    assert marketer.post(f"{P}/{cid}/pause", {"reason": "暂停"}, content_type=J).json()["state"] == "paused"
    settings = api("admin").put(f"{P}/settings", {"sms_per_day": 2, "quiet_start": "22:00"}, content_type=J)
    assert settings.status_code == 200 and settings.json()["sms_per_day"] == 2
