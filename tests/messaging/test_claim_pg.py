"""Several workers claiming from one outbox on PostgreSQL: each message is claimed exactly once.

Negative control: the same race with a naive claim (read the waiting ids, then update them —
no row lock, no SKIP LOCKED) claims messages twice, which proves the race is real and the test
would notice a broken claim helper.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection, transaction

from laoke.core import clock
from laoke.members.models import Member
from laoke.messaging import services
from laoke.messaging.models import Message

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
WORKERS = 16
MESSAGES = 500


def naive_claim(*, now, limit=None):
    """What not to do: read, then write, without a lock."""
    limit = limit or 20
    with transaction.atomic():
        ids = list(
            Message.objects.filter(state="waiting", not_before__lte=now)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=ids).update(state="sending", lease_until=now)
    return ids


@pytest.fixture
def outbox():
    member_ids = []
    now = T0
    Member.objects.bulk_create(
        [Member(code=f"C{i:08d}", registered_at=now, created_at=now, updated_at=now) for i in range(MESSAGES)]
    )
    member_ids = list(Member.objects.values_list("id", flat=True))
    Message.objects.bulk_create(
        [
            Message(
                purpose="race",
                member_id=mid,
                channel="sms",
                kind="transactional",
                to_address="+8613800000000",
                body="x",
                not_before=now,
                created_at=now,
            )
            for mid in member_ids
        ]
    )


def _race(claim) -> Counter:
    barrier = threading.Barrier(WORKERS)
    claimed: list[int] = []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=30)
            with clock.frozen(T0):
                while True:
                    try:
                        ids = claim(now=T0, limit=20)
                    except OperationalError:  # the naive claim deadlocks now and then: retry
                        continue
                    if not ids:
                        break
                    with lock:
                        claimed.extend(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return Counter(claimed)


def test_every_message_claimed_exactly_once(outbox):
    counts = _race(services.message_claim_batch)
    assert len(counts) == MESSAGES
    assert max(counts.values()) == 1
    assert Message.objects.filter(state="sending").count() == MESSAGES


def test_negative_control_naive_claim_double_claims(outbox):
    counts = _race(naive_claim)
    assert len(counts) == MESSAGES
    assert max(counts.values()) > 1, "the naive claim should have double-claimed under this race"
