"""Sending guards and receipts in the outbox: the consent re-check after the claim, cancelling a
member's pending marketing, provider windows per number, delivery receipts, the webhook channel,
the lease resolver under a stale list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from laoke.core import clock
from laoke.members.services import consent_set, member_create, member_unsubscribe
from laoke.messaging import services
from laoke.messaging.models import Message
from laoke.messaging.providers import SendResult
from laoke.messaging.selectors import message_progress
from laoke.messaging.services import (
    Receipt,
    message_claim_batch,
    message_enqueue,
    message_receipts_apply,
    message_send_batch,
    messages_cancel_pending,
    messaging_tick,
)

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
PROMO = "【老客】满100减10，回T退订"


class WindowProvider:
    """Records sends; Aliyun-like windows per number (1 per minute, 2 per hour here)."""

    name = "win"
    batch_size = 200
    rate_per_minute = None
    windows = [(60, 1), (3600, 2)]
    sent: list[int] = []
    status_answer = "unknown"

    def window_key(self, message):
        return f"老客:{message.to_address}"

    def send(self, message):
        WindowProvider.sent.append(message.pk)
        return SendResult(provider_message_id=f"win-{message.pk}")

    def status(self, message):
        return WindowProvider.status_answer


@pytest.fixture
def provider(settings):
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"sms": f"{__name__}.WindowProvider", "webhook": f"{__name__}.WindowProvider"},
        "MESSAGING_KICK_ON_COMMIT": False,
    }
    WindowProvider.sent = []
    WindowProvider.status_answer = "unknown"
    with clock.frozen(T0):
        yield WindowProvider


def _member(i: int, *, consent=True):
    m = member_create(name=f"会员{i}", mobile=f"1390000{i:04d}")
    if consent:
        consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
    return m


def _promo(member, purpose="wave:1", kind="marketing", channel="sms"):
    return message_enqueue(purpose=purpose, member=member, channel=channel, kind=kind, body=PROMO)


def test_unsubscribe_after_the_claim_stops_the_hand_over(provider, db):
    a, b = _member(1), _member(2)
    ma, mb = _promo(a), _promo(b)
    ids = message_claim_batch(now=T0)
    assert ids == [ma.pk, mb.pk]
    member_unsubscribe(member_id=b.pk, channel="sms", source="sms-reply")  # while the batch is claimed
    outcome = message_send_batch(ids, now=T0)
    assert outcome["sent"] == 1 and outcome["suppressed"] == 1
    assert WindowProvider.sent == [ma.pk]
    mb.refresh_from_db()
    assert (mb.state, mb.error) == ("suppressed", "unsubscribed")


def test_transactional_messages_ignore_the_marketing_recheck(provider, db):
    a = _member(1)
    m = _promo(a, purpose="balance:1", kind="transactional")
    ids = message_claim_batch(now=T0)
    member_unsubscribe(member_id=a.pk, channel="sms", source="operator")
    assert message_send_batch(ids, now=T0)["sent"] == 1
    assert WindowProvider.sent == [m.pk]


def test_cancel_pending_suppresses_only_waiting_marketing_on_that_channel(provider, db):
    a, b = _member(1), _member(2)
    w1, w2 = _promo(a, "wave:1"), _promo(a, "wave:2")
    tx = _promo(a, "balance:1", kind="transactional")
    other = _promo(b, "wave:1")
    assert messages_cancel_pending(member_id=a.pk, channel="sms") == 2
    states = dict(Message.objects.values_list("pk", "state"))
    assert states[w1.pk] == states[w2.pk] == "suppressed"
    assert states[tx.pk] == states[other.pk] == "waiting"


def test_second_sms_to_the_same_number_within_a_minute_waits(provider, db):
    a = _member(1)
    first, second = _promo(a, "wave:1"), _promo(a, "wave:2")
    result = messaging_tick(T0)
    assert (result["sent"], result["held"]) == (1, 1)
    second.refresh_from_db()
    assert second.state == "waiting" and second.attempts == 0  # not an attempt
    assert second.not_before == T0 + timedelta(minutes=1)
    assert messaging_tick(T0 + timedelta(seconds=30))["sent"] == 0
    assert messaging_tick(T0 + timedelta(minutes=1))["sent"] == 1
    # the hour allows two: a third waits for the next hour, other numbers are not held up
    third = _promo(a, "wave:3")
    b = _member(2)
    other = _promo(b, "wave:3")
    result = messaging_tick(T0 + timedelta(minutes=2))
    assert (result["sent"], result["held"]) == (1, 1)
    third.refresh_from_db()
    assert third.not_before == T0 + timedelta(hours=1)
    assert WindowProvider.sent == [first.pk, second.pk, other.pk]


def test_receipts_apply_by_our_id_or_the_providers_idempotently(provider, db):
    a, b, c = _member(1), _member(2), _member(3)
    ma, mb, mc = _promo(a), _promo(b), _promo(c)
    messaging_tick(T0)
    at = T0 + timedelta(seconds=5)
    receipts = [
        Receipt(provider="win", delivered=True, out_id=str(ma.pk), at=at),
        Receipt(provider="win", delivered=False, provider_message_id=f"win-{mb.pk}", error="MK:0001"),
        Receipt(provider="win", delivered=True, provider_message_id="nobody"),
    ]
    assert message_receipts_apply(receipts) == {"applied": 2, "duplicate": 0, "unmatched": 1}
    assert message_receipts_apply(receipts) == {"applied": 0, "duplicate": 2, "unmatched": 1}
    # a later, contradicting receipt does not overwrite the first
    message_receipts_apply([Receipt(provider="win", delivered=True, out_id=str(mb.pk))])
    ma.refresh_from_db()
    mb.refresh_from_db()
    assert (ma.delivery, ma.delivered_at) == ("delivered", at)
    assert (mb.delivery, mb.delivery_error) == ("undelivered", "MK:0001")
    progress = message_progress(purpose_prefix="wave:", delivery=True)
    assert (progress["sent"], progress["delivered"], progress["undelivered"]) == (3, 1, 1)
    assert Message.objects.get(pk=mc.pk).delivery == "unknown"


def test_webhook_messages_address_the_member_code_and_need_app_push_consent(provider, db):
    a = _member(1)
    consent_set(member_id=a.pk, channel="app_push", granted=True, source="test")
    m = _promo(a, channel="webhook")
    assert (m.state, m.to_address) == ("waiting", a.code)
    b = _member(2)
    assert _promo(b, channel="webhook").error == "no marketing consent"


def test_a_stale_resolver_does_not_requeue_a_live_claim(provider, db, settings, monkeypatch):
    """Two resolvers walk the same list of expired rows; the first requeues a row and another
    worker claims and sends it; the second resolver must leave that live claim alone."""
    a = _member(1)
    m = _promo(a)
    message_claim_batch(now=T0)  # a worker claims, then dies
    later = T0 + timedelta(seconds=settings.LAOKE["MESSAGING_LEASE_SECONDS"] + 1)
    stale = list(Message.objects.filter(state="sending"))  # what the second resolver read
    assert services._resolve_expired_leases(later)["requeued"] == 1  # the first resolver
    assert message_claim_batch(now=later) == [m.pk]  # a third worker claims it again
    original = Message.objects.filter
    monkeypatch.setattr(  # the second resolver goes through its stale list now
        Message.objects,
        "filter",
        lambda *args, **kw: (
            _StaleList(stale)
            if kw == {"state": "sending", "lease_until__lt": later}
            else original(*args, **kw)
        ),
    )
    assert services._resolve_expired_leases(later)["requeued"] == 0
    monkeypatch.undo()
    m.refresh_from_db()
    assert m.state == "sending"  # still the third worker's claim


class _StaleList(list):
    def order_by(self, *args):
        return self


def test_the_worker_resolves_expired_leases_when_it_starts(provider, db, settings):
    from huey.contrib.djhuey import HUEY

    from laoke.messaging.tasks import messaging_resolve_at_start

    assert "messaging_resolve_at_start" in HUEY._startup  # registered as a Huey startup hook
    m = _promo(_member(1))
    message_claim_batch(now=T0)  # claimed, then the worker died
    WindowProvider.status_answer = "sent"  # the provider got it
    with clock.frozen(T0 + timedelta(seconds=settings.LAOKE["MESSAGING_LEASE_SECONDS"] + 1)):
        assert messaging_resolve_at_start()["confirmed"] == 1
    m.refresh_from_db()
    assert m.state == "sent" and WindowProvider.sent == []  # confirmed, not resent


def test_replies_of_a_forgotten_member_are_scrubbed(provider, db):
    from laoke.members.privacy import member_forget
    from laoke.messaging.models import InboundMessage
    from laoke.messaging.services import _inbound_record, messaging_privacy_tick

    a, b = _member(1), _member(2)
    from django.db import transaction

    with transaction.atomic():
        for m in (a, b):
            _inbound_record(
                provider="aliyun",
                from_address=m.mobile,
                text="发货了吗",
                member_id=m.pk,
                action="stored",
                received_at=T0,
            )
    member_forget(member_id=a.pk, reason="PIPL request")
    assert messaging_privacy_tick(T0) == 1
    rows = dict(InboundMessage.objects.values_list("member_id", "text"))
    assert rows == {a.pk: "", b.pk: "发货了吗"}
