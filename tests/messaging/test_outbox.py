"""The outbox: dedup, consent, claim/send/backoff, lease resolution, the file provider."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from laoke.core import clock
from laoke.members.services import consent_set, member_create, member_unsubscribe
from laoke.messaging.models import Message
from laoke.messaging.providers import PermanentSendError, SendResult, TransientSendError
from laoke.messaging.selectors import message_progress
from laoke.messaging.services import (
    message_claim_batch,
    message_enqueue,
    message_send_batch,
    messaging_tick,
    sms_segments,
)

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)


class FakeProvider:
    """A stand-in for the SMS company (outside the system): records sends, fails on demand."""

    name = "fake"
    sent: list[int] = []
    fail_with: Exception | None = None
    status_answer = "unknown"

    def send(self, message):
        if FakeProvider.fail_with is not None:
            raise FakeProvider.fail_with
        FakeProvider.sent.append(message.pk)
        return SendResult(provider_message_id=f"fake-{message.pk}", segments=message.segments)

    def status(self, message):
        return FakeProvider.status_answer


@pytest.fixture
def fake(settings):
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"sms": f"{__name__}.FakeProvider", "email": f"{__name__}.FakeProvider"},
        "MESSAGING_KICK_ON_COMMIT": False,
    }
    FakeProvider.sent = []
    FakeProvider.fail_with = None
    FakeProvider.status_answer = "unknown"
    with clock.frozen(T0):
        yield FakeProvider


@pytest.fixture
def member(db):
    m = member_create(name="收信人", mobile="13800001111", email="a@example.com")
    consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
    return m


def _enqueue(member, purpose="p1", kind="marketing", channel="sms", body="老客专享：满100减10，回T退订"):
    return message_enqueue(purpose=purpose, member=member, channel=channel, kind=kind, body=body)


def test_enqueue_is_unique_per_purpose_and_member(fake, member):
    a = _enqueue(member)
    b = _enqueue(member, body="different text")
    assert a.pk == b.pk and Message.objects.count() == 1


def test_marketing_respects_unsubscribe_transactional_does_not(fake, member):
    member_unsubscribe(member_id=member.pk, channel="sms", source="sms_reply")
    marketing = _enqueue(member, purpose="promo")
    balance = _enqueue(member, purpose="balance:1", kind="transactional", body="您的余额变动 -10.00 元")
    assert marketing.state == "suppressed" and marketing.error == "unsubscribed"
    assert balance.state == "waiting"


def test_marketing_needs_granted_consent(fake, db):
    m = member_create(name="无授权", mobile="13800002222")
    assert _enqueue(m).error == "no marketing consent"


def test_channel_validity_applies_to_transactional_too(fake, db):
    m = member_create(name="无邮箱", mobile="13800003333")
    msg = _enqueue(m, channel="email", kind="transactional")
    assert msg.state == "suppressed" and msg.error == "no address for this channel"


def test_tick_sends_each_due_message_once(fake, member):
    later = _enqueue(member, purpose="later")
    Message.objects.filter(pk=later.pk).update(not_before=T0 + timedelta(hours=1))
    now_msg = _enqueue(member, purpose="now")
    assert messaging_tick(T0)["sent"] == 1
    assert messaging_tick(T0)["sent"] == 0
    assert FakeProvider.sent == [now_msg.pk]
    assert messaging_tick(T0 + timedelta(hours=1))["sent"] == 1
    assert FakeProvider.sent == [now_msg.pk, later.pk]
    assert message_progress(purpose_prefix="")["sent"] == 2


def test_transient_error_backs_off_then_succeeds(fake, member):
    msg = _enqueue(member)
    FakeProvider.fail_with = TransientSendError("timeout")
    assert messaging_tick(T0)["retry"] == 1
    msg.refresh_from_db()
    assert msg.state == "waiting" and msg.not_before == T0 + timedelta(seconds=30) and msg.attempts == 1
    FakeProvider.fail_with = None
    assert messaging_tick(T0 + timedelta(seconds=10))["sent"] == 0  # still backing off
    assert messaging_tick(T0 + timedelta(seconds=30))["sent"] == 1
    assert FakeProvider.sent == [msg.pk]


def test_permanent_error_fails_without_retry(fake, member):
    msg = _enqueue(member)
    FakeProvider.fail_with = PermanentSendError("invalid number")
    assert messaging_tick(T0)["failed"] == 1
    FakeProvider.fail_with = None
    assert messaging_tick(T0 + timedelta(days=1))["sent"] == 0
    msg.refresh_from_db()
    assert msg.state == "failed" and msg.error == "invalid number"


def test_gives_up_after_max_attempts(fake, member, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_MAX_ATTEMPTS": 2}
    msg = _enqueue(member)
    FakeProvider.fail_with = TransientSendError("busy")
    messaging_tick(T0)
    messaging_tick(T0 + timedelta(hours=2))
    msg.refresh_from_db()
    assert msg.state == "failed" and msg.attempts == 2


@pytest.mark.parametrize(("answer", "state", "resent"), [("sent", "sent", False), ("unknown", "sent", True)])
def test_expired_lease_asks_provider_before_resending(fake, member, answer, state, resent):
    msg = _enqueue(member)
    assert message_claim_batch(now=T0) == [msg.pk]  # a worker claimed it, then died
    FakeProvider.status_answer = answer
    # Lease not expired yet: nothing happens.
    assert messaging_tick(T0 + timedelta(seconds=60))["sent"] == 0
    messaging_tick(T0 + timedelta(seconds=121))
    msg.refresh_from_db()
    assert msg.state == state
    assert FakeProvider.sent == ([msg.pk] if resent else [])


def test_send_outcome_only_applies_to_rows_still_sending(fake, member):
    msg = _enqueue(member)
    ids = message_claim_batch(now=T0)
    Message.objects.filter(pk=msg.pk).update(state="failed")  # resolved elsewhere meanwhile
    assert message_send_batch(ids, now=T0) == {"sent": 0, "retry": 0, "failed": 0}


def test_file_provider_writes_json_lines_and_knows_status(member, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    msg = _enqueue(member)
    messaging_tick(clock.now())
    msg.refresh_from_db()
    assert msg.state == "sent" and msg.provider == "file"
    lines = (settings.DATA_DIR / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    assert record["id"] == f"file-{msg.pk}" and record["to"] == "+8613800001111"
    from laoke.messaging.providers import FileProvider

    assert FileProvider().status(msg) == "sent"


def test_sms_segments():
    assert sms_segments("字" * 70) == 1
    assert sms_segments("字" * 71) == 2
    assert sms_segments("字" * 134) == 2
    assert sms_segments("字" * 135) == 3
