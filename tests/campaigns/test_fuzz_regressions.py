"""What the API fuzz (decision 0040) found in /api/v1/campaigns."""

import io

from laoke.analytics.external import external_campaign_import
from laoke.campaigns.models import Campaign

J = "application/json"
CONTACTS = "member_ref,arm,contacted_at\nA1,sms,2026-06-01\nA2,control,2026-06-01\nA3,sms,2026-06-01\n"
ORDERS = "member_ref,ordered_at,amount\nA1,2026-06-02,10\n"


def _external():
    external_campaign_import(name="外部短信", contacts=io.StringIO(CONTACTS), orders=io.StringIO(ORDERS))
    campaign = Campaign.objects.get(name="外部短信")
    assert campaign.segment_id is None  # the case at hand: an imported campaign has no segment
    return campaign


def test_the_list_shows_an_external_campaign_without_a_segment(api):
    campaign = _external()
    r = api("admin").get("/api/v1/campaigns")
    assert r.status_code == 200, r.content[:300]  # was 500: segment_id was declared never null
    row = next(c for c in r.json()["items"] if c["id"] == campaign.pk)
    assert row["segment_id"] is None


def test_an_external_campaign_has_no_dry_run(api):
    campaign = _external()
    r = api("admin").get(f"/api/v1/campaigns/{campaign.pk}/dry-run")
    assert r.status_code == 409, r.content[:300]  # was 500 (no segment to count)
    assert r.json()["code"] == "CAMPAIGN_STATE"


def test_quiet_hours_are_local_times(api):
    client = api("admin")
    r = client.put("/api/v1/campaigns/settings", {"quiet_start": "00:00:00Z"}, content_type=J)
    assert r.status_code == 422, r.content[:300]  # was 500 on SQLite (a time with a zone)
    assert r.json()["details"]["errors"][0]["field"] == "quiet_start"
    ok = client.put("/api/v1/campaigns/settings", {"quiet_start": "22:30"}, content_type=J)
    assert ok.status_code == 200 and ok.json()["quiet_start"] == "22:30:00"


def test_null_in_a_campaign_patch_leaves_the_field_alone_but_clears_the_budget(api, cshop):
    client = api("marketer")
    body = {
        "name": "补丁活动",
        "objective": "retention",
        "segment_id": cshop.segment.pk,
        "budget_fen": 5000,
        "holdout_bp": 1000,
        "waves": [{"name": "感谢", "template_id": cshop.sms.pk}],
    }
    cid = client.post("/api/v1/campaigns", body, content_type=J).json()["id"]
    r = client.patch(
        f"/api/v1/campaigns/{cid}",
        {"holdout_bp": None, "plain_terms": None, "waves": None, "budget_fen": None},
        content_type=J,
    )
    assert r.status_code == 200, r.content[:300]  # was 500 (int(None) in the service)
    got = r.json()
    assert (got["holdout_bp"], got["budget_fen"], len(got["waves"])) == (1000, None, 1)
