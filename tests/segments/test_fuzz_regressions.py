"""What the API fuzz (decision 0040) found in /api/v1/segments: a keyed write whose answer holds a
datetime could not be stored for replay (500 after the change was made)."""

from laoke.segments.models import Segment
from laoke.segments.services import segment_create

J = "application/json"
RULE = {"all": [{"field": "profile.registered_at", "op": "before", "value": "2026-03-01"}]}


def test_keyed_writes_answer_and_replay_the_same(api):
    seg = segment_create(name="老客", rule=RULE)
    client = api("admin")
    patch = [
        client.patch(
            f"/api/v1/segments/{seg.pk}", {"name": "老顾客"}, content_type=J, HTTP_IDEMPOTENCY_KEY="s-1"
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in patch] == [200, 200], patch[0].content[:300]
    assert patch[0].json() == patch[1].json() and patch[0].json()["name"] == "老顾客"
    archive = [
        client.post(f"/api/v1/segments/{seg.pk}/archive", HTTP_IDEMPOTENCY_KEY="s-2") for _ in range(2)
    ]
    assert [r.status_code for r in archive] == [200, 200], archive[0].content[:300]
    assert archive[0].json() == archive[1].json()
    assert Segment.objects.get(pk=seg.pk).archived
