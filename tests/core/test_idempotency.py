"""Idempotency on any database: replay, conflict, release after a failure."""

from laoke.core import idempotency
from laoke.core.models import IdempotencyRecord
from laoke.members.models import Member

J = "application/json"


def test_replay_returns_stored_response_and_writes_once(api):
    client = api("service_agent")
    r1 = client.post("/api/v1/members", {"name": "甲"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k-1")
    r2 = client.post("/api/v1/members", {"name": "甲"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k-1")
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json()
    assert Member.objects.filter(name="甲").count() == 1


def test_conflicting_body_is_409(api):
    client = api("service_agent")
    client.post("/api/v1/members", {"name": "甲"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k-2")
    r = client.post("/api/v1/members", {"name": "乙"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k-2")
    assert r.status_code == 409 and r.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert not Member.objects.filter(name="乙").exists()


def test_failure_releases_the_key_so_a_fixed_retry_succeeds_once(api):
    client = api("service_agent")
    bad = client.post(
        "/api/v1/members", {"name": "丙", "mobile": "123"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k-3"
    )
    # The schema accepts the body; the service rejects the mobile after the key was claimed.
    assert bad.status_code == 422 and bad.json()["code"] == "MEMBER_MOBILE_INVALID"
    assert not IdempotencyRecord.objects.filter(key="k-3").exists()
    # Same key, same (bad) body again: the same error, still nothing stored.
    assert (
        client.post(
            "/api/v1/members", {"name": "丙", "mobile": "123"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k-3"
        ).status_code
        == 422
    )
    ok = client.post("/api/v1/members", {"name": "丙"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k-3")
    assert ok.status_code == 201
    assert (
        client.post("/api/v1/members", {"name": "丙"}, content_type=J, HTTP_IDEMPOTENCY_KEY="k-3").json()
        == ok.json()
    )
    assert Member.objects.filter(name="丙").count() == 1


def test_keys_are_per_caller(api):
    a, b = api("service_agent"), api("service_agent")
    a.post("/api/v1/members", {"name": "甲"}, content_type=J, HTTP_IDEMPOTENCY_KEY="same")
    r = b.post("/api/v1/members", {"name": "乙"}, content_type=J, HTTP_IDEMPOTENCY_KEY="same")
    assert r.status_code == 201  # another caller's key is not a conflict


def test_invalid_key_is_rejected(api):
    r = api("service_agent").post(
        "/api/v1/members", {"name": "甲"}, content_type=J, HTTP_IDEMPOTENCY_KEY="x" * 129
    )
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_INVALID"


def test_in_progress_claim_blocks_duplicate(db):
    claim = idempotency.claim(scope="t", key="k", payload={"a": 1})
    import pytest

    from laoke.core.errors import DomainError

    with pytest.raises(DomainError) as exc:
        idempotency.claim(scope="t", key="k", payload={"a": 1})
    assert exc.value.code == "IDEMPOTENCY_IN_PROGRESS"
    idempotency.release(claim)
    assert idempotency.claim(scope="t", key="k", payload={"a": 1}).record_id is not None
