"""Many workers claiming from one outbox on PostgreSQL: each message is claimed exactly once.

Negative control: the same race through the service with its test-only hook that drops
``FOR UPDATE SKIP LOCKED`` and reads the ids before updating them in a second statement — messages
get claimed twice, which proves the race is real and the test would notice a broken claim helper.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection

from laoke.core import clock
from laoke.members.services import member_create
from laoke.messaging import services
from laoke.messaging.models import Message
from laoke.messaging.services import message_claim_batch, message_enqueue
from tests.race import pg_threads

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
MESSAGES = 500
BATCH = 20


@pytest.fixture
def outbox(settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    with clock.frozen(T0):
        for i in range(MESSAGES):
            m = member_create(name=f"会员{i}", mobile=f"139{i:08d}")
            message_enqueue(purpose="race", member=m, channel="sms", kind="transactional", body="余额变动")
    assert Message.objects.filter(state="waiting").count() == MESSAGES


def _race() -> Counter:
    workers = pg_threads()
    barrier = threading.Barrier(workers)
    claimed: list[int] = []
    lock = threading.Lock()
    errors: list[Exception] = []

    def worker():
        try:
            barrier.wait(timeout=30)
            while True:
                try:
                    ids = message_claim_batch(now=T0, limit=BATCH)
                except OperationalError as exc:  # the naive claim may deadlock: count it, retry
                    errors.append(exc)
                    continue
                if not ids:
                    break
                with lock:
                    claimed.extend(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return Counter(claimed)


def test_every_message_claimed_exactly_once(outbox):
    counts = _race()
    assert len(counts) == MESSAGES
    assert max(counts.values()) == 1
    assert Message.objects.filter(state="sending").count() == MESSAGES
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}


def test_negative_control_naive_claim_double_claims(outbox, monkeypatch):
    monkeypatch.setattr(services, "_NAIVE_CLAIM_FOR_TESTS", True)
    counts = _race()
    assert len(counts) == MESSAGES
    assert max(counts.values()) > 1, "the naive claim should have double-claimed under this race"
    assert max(Message.objects.values_list("attempts", flat=True)) > 1
