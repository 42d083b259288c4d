"""Idempotency under real concurrency (PostgreSQL): 16 identical requests → one effect.

The endpoint is POST /api/v1/members with a body that has nothing unique in it (a name only),
so nothing but the idempotency layer can stop duplicates. The negative control sends the same
race without the Idempotency-Key header and must create more than one member: proof that the
test can see duplicates when the protection is missing.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from laoke.core.services import api_token_create, roles_sync, staff_user_create
from laoke.members.models import Member

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
N = 16
BODY = {"name": "并发测试会员"}


@pytest.fixture
def secret():
    roles_sync()
    user = staff_user_create(username="race", password="race-password-1", role="service_agent")
    _, secret = api_token_create(user=user, name="race", scopes=["members:read", "members:write"])
    return secret


def _race(secret: str, *, key: str | None) -> list:
    barrier = threading.Barrier(N)
    results: list = [None] * N

    def worker(i: int):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        try:
            barrier.wait(timeout=30)
            r = client.post("/api/v1/members", BODY, content_type="application/json", **headers)
            results[i] = (r.status_code, r.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_sixteen_identical_requests_make_one_member(secret):
    results = _race(secret, key="race-key-1")
    assert Member.objects.filter(name=BODY["name"]).count() == 1
    created = [body for status, body in results if status == 201]
    in_progress = [body for status, body in results if status == 409]
    assert len(created) + len(in_progress) == N, results
    assert created, "at least the first request succeeds"
    assert all(b == created[0] for b in created), "replays return the stored response"
    assert all(b["code"] == "IDEMPOTENCY_IN_PROGRESS" for b in in_progress)
    # After the race, a retry gets the stored response; another body with the key is a conflict.
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    again = client.post(
        "/api/v1/members", BODY, content_type="application/json", HTTP_IDEMPOTENCY_KEY="race-key-1"
    )
    assert again.status_code == 201 and again.json() == created[0]
    other = client.post(
        "/api/v1/members",
        {"name": "别的"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="race-key-1",
    )
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert Member.objects.filter(name=BODY["name"]).count() == 1


def test_negative_control_without_key_duplicates(secret):
    results = _race(secret, key=None)
    assert all(status == 201 for status, _ in results), results
    assert Member.objects.filter(name=BODY["name"]).count() > 1


def test_a_failure_inside_the_service_releases_the_key_and_concurrent_retries_succeed_once(secret):
    from laoke.core.models import IdempotencyRecord

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")
    # The schema accepts this body; the service rejects the mobile after the key was claimed.
    bad = {"name": BODY["name"], "mobile": "123"}
    r = client.post(
        "/api/v1/members", bad, content_type="application/json", HTTP_IDEMPOTENCY_KEY="race-key-2"
    )
    assert r.status_code == 422 and r.json()["code"] == "MEMBER_MOBILE_INVALID"
    assert not IdempotencyRecord.objects.filter(key="race-key-2").exists()
    assert not Member.objects.filter(name=BODY["name"]).exists()
    # The client retries with the same key and a corrected body, here 16 times at once.
    results = _race(secret, key="race-key-2")
    assert Member.objects.filter(name=BODY["name"]).count() == 1
    assert all(status in (201, 409) for status, _ in results), results
    assert [status for status, _ in results].count(201) >= 1
