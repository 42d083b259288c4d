"""The outbox: dedup, consent, channel validity, claim/send/backoff, rate and batch size, lease
resolution, the file provider, PIPL scrub."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.members.privacy import member_forget, member_merge
from laoke.members.services import consent_set, member_create, member_unsubscribe, member_update
from laoke.messaging import services
from laoke.messaging.models import Message
from laoke.messaging.providers import FileProvider, PermanentSendError, SendResult, TransientSendError
from laoke.messaging.selectors import member_messages, message_progress
from laoke.messaging.services import (
    message_claim_batch,
    message_enqueue,
    message_send_batch,
    messaging_privacy_tick,
    messaging_tick,
    sms_segments,
)

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
PROMO = "老客专享：满100减10，回T退订"


class FakeProvider:
    """A stand-in for the SMS company (outside the system): records sends, fails on demand."""

    name = "fake"
    batch_size = 200
    rate_per_minute = None
    sent: list[int] = []
    fail_with: Exception | None = None
    status_answer = "unknown"
    status_asked: list[int] = []

    def send(self, message):
        if FakeProvider.fail_with is not None:
            raise FakeProvider.fail_with
        FakeProvider.sent.append(message.pk)
        return SendResult(provider_message_id=f"fake-{message.pk}", segments=message.segments)

    def status(self, message):
        FakeProvider.status_asked.append(message.pk)
        return FakeProvider.status_answer


@pytest.fixture
def fake(settings):
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"sms": f"{__name__}.FakeProvider", "email": f"{__name__}.FakeProvider"},
        "MESSAGING_KICK_ON_COMMIT": False,
    }
    FakeProvider.sent = []
    FakeProvider.status_asked = []
    FakeProvider.fail_with = None
    FakeProvider.status_answer = "unknown"
    FakeProvider.batch_size = 200
    FakeProvider.rate_per_minute = None
    with clock.frozen(T0):
        yield FakeProvider


@pytest.fixture
def member(db):
    m = member_create(name="收信人", mobile="13800001111", email="a@example.com")
    consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
    return m


def _enqueue(member, purpose="p1", kind="marketing", channel="sms", body=PROMO, **kw):
    return message_enqueue(purpose=purpose, member=member, channel=channel, kind=kind, body=body, **kw)


def _members(n, start=0):
    out = []
    for i in range(start, start + n):
        m = member_create(name=f"会员{i}", mobile=f"1390000{i:04d}")
        consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
        out.append(m)
    return out


# --- enqueue -----------------------------------------------------------------------------------------


def test_enqueue_is_unique_per_purpose_and_member(fake, member):
    a = _enqueue(member)
    b = _enqueue(member, body="different text")
    assert a.pk == b.pk and Message.objects.count() == 1
    assert Message.objects.get().body == PROMO
    other = member_create(name="另一位", mobile="13800009999")
    consent_set(member_id=other.pk, channel="sms", granted=True, source="test")
    assert _enqueue(other).pk != a.pk  # same purpose, another member: a row of its own


def test_marketing_respects_unsubscribe_transactional_does_not(fake, member):
    member_unsubscribe(member_id=member.pk, channel="sms", source="sms_reply")
    marketing = _enqueue(member, purpose="promo")
    balance = _enqueue(member, purpose="balance:1", kind="transactional", body="您的余额变动 -10.00 元")
    assert (marketing.state, marketing.error) == ("suppressed", "unsubscribed")
    assert (balance.state, balance.error) == ("waiting", "")
    assert messaging_tick(T0)["sent"] == 1
    assert FakeProvider.sent == [balance.pk]


def test_unsubscribe_is_per_channel(fake, member):
    consent_set(member_id=member.pk, channel="email", granted=True, source="test")
    member_unsubscribe(member_id=member.pk, channel="sms", source="sms_reply")
    assert _enqueue(member, purpose="a", channel="sms").state == "suppressed"
    assert _enqueue(member, purpose="b", channel="email", subject="双十一").state == "waiting"


def test_marketing_needs_granted_consent(fake, db):
    m = member_create(name="无授权", mobile="13800002222")
    msg = _enqueue(m)
    assert (msg.state, msg.error) == ("suppressed", "no marketing consent")


def test_exclude_personalised_does_not_block_plain_marketing(fake, db):
    m = member_create(name="不要个性化", mobile="13800002223", exclude_personalised=True)
    consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
    assert _enqueue(m).state == "waiting"


def test_channel_validity_applies_to_transactional_too(fake, db):
    m = member_create(name="无邮箱", mobile="13800003333")
    msg = _enqueue(m, channel="email", kind="transactional")
    assert (msg.state, msg.error) == ("suppressed", "no address for this channel")
    no_mobile = member_create(name="只有邮箱", email="b@example.com")
    msg = _enqueue(no_mobile, purpose="p2", kind="transactional")
    assert (msg.state, msg.error, msg.to_address) == ("suppressed", "no address for this channel", "")
    assert messaging_tick(T0)["sent"] == 0


def test_enqueue_decides_on_the_current_member_row(fake, member):
    stale = member
    member_update(member_id=member.pk, data={"mobile": None})  # mobile removed meanwhile
    msg = _enqueue(stale, kind="transactional")
    assert (msg.state, msg.to_address) == ("suppressed", "")


def test_merged_member_is_not_written_to(fake, member):
    target = member_create(name="收信人")
    member_merge(source_id=member.pk, target_id=target.pk)
    msg = _enqueue(member, kind="transactional")
    assert (msg.state, msg.error) == ("suppressed", "member merged")


@pytest.mark.parametrize(
    ("kw", "err"),
    [
        ({"channel": "fax"}, "MESSAGE_CHANNEL_INVALID"),
        ({"kind": "promo"}, "FIELD_INVALID"),
        ({"body": "  "}, "MESSAGE_BODY_REQUIRED"),
        ({"purpose": ""}, "MESSAGE_PURPOSE_INVALID"),
        ({"purpose": "x" * 121}, "MESSAGE_PURPOSE_INVALID"),
        ({"body": "字" * 1001}, "FIELD_TOO_LONG"),
        ({"subject": "s" * 201, "channel": "email"}, "FIELD_TOO_LONG"),
        ({"job_id": "j" * 65}, "FIELD_TOO_LONG"),
    ],
)
def test_enqueue_rejects_programming_errors(fake, member, kw, err):
    with pytest.raises(DomainError) as exc:
        _enqueue(member, **kw)
    assert exc.value.code == err
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_enqueue_kicks_the_dispatcher_only_after_commit(settings):
    """With the real settings (file provider, Huey immediate in tests), a committed enqueue is
    sent at once; a rolled-back one leaves nothing and sends nothing."""
    m = member_create(name="收信人", mobile="13800005555")
    outbox = settings.DATA_DIR / "outbox" / "sms.jsonl"
    before = outbox.read_text(encoding="utf-8") if outbox.exists() else ""
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        services._message_enqueue(purpose="rollback", member=m, channel="sms", kind="transactional", body="x")
        1 / 0
    assert not Message.objects.exists()
    with transaction.atomic():
        msg = services._message_enqueue(
            purpose="card:recharge:1",
            member=m,
            channel="sms",
            kind="transactional",
            body="充值 100.00 元到账",
        )
        assert Message.objects.get(pk=msg.pk).state == "waiting"  # nothing sent inside the transaction
    msg.refresh_from_db()
    assert msg.state == "sent" and msg.provider == "file"
    new_lines = outbox.read_text(encoding="utf-8")[len(before) :].splitlines()
    assert [json.loads(line)["purpose"] for line in new_lines] == ["card:recharge:1"]


@pytest.mark.django_db(transaction=True)
def test_one_kick_per_transaction_and_none_lost_to_a_rolled_back_savepoint():
    ms = [member_create(name=f"会员{i}", mobile=f"1380000700{i}") for i in range(3)]

    def enqueue(m, purpose):
        services._message_enqueue(purpose=purpose, member=m, channel="sms", kind="transactional", body="x")

    def kicks():
        return sum(1 for entry in connection.run_on_commit if entry[1] is services._kick)

    with transaction.atomic():
        for m in ms:
            enqueue(m, "burst")
        assert kicks() == 1
    assert set(Message.objects.filter(purpose="burst").values_list("state", flat=True)) == {"sent"}

    with transaction.atomic():
        try:
            with transaction.atomic():
                enqueue(ms[0], "savepoint")
                assert kicks() == 1
                raise ValueError
        except ValueError:
            pass
        assert kicks() == 0  # went with the savepoint
        enqueue(ms[1], "savepoint")
        assert kicks() == 1
    assert list(Message.objects.filter(purpose="savepoint").values_list("member_id", "state")) == [
        (ms[1].pk, "sent")
    ]

    with transaction.atomic():
        with transaction.atomic():  # a per-member savepoint, released
            enqueue(ms[0], "released")
        enqueue(ms[1], "released")
        assert kicks() == 1
    assert set(Message.objects.filter(purpose="released").values_list("state", flat=True)) == {"sent"}


# --- claim, send, retry ------------------------------------------------------------------------------


def test_tick_sends_each_due_message_once(fake, member):
    later = _enqueue(member, purpose="later", not_before=T0 + timedelta(hours=1))
    now_msg = _enqueue(member, purpose="now")
    assert messaging_tick(T0)["sent"] == 1
    assert messaging_tick(T0)["sent"] == 0
    assert FakeProvider.sent == [now_msg.pk]
    assert messaging_tick(T0 + timedelta(hours=1))["sent"] == 1
    assert FakeProvider.sent == [now_msg.pk, later.pk]
    now_msg.refresh_from_db()
    assert (now_msg.provider, now_msg.provider_message_id, now_msg.attempts) == (
        "fake",
        f"fake-{now_msg.pk}",
        1,
    )
    assert now_msg.sent_at == T0 and now_msg.lease_until is None


def test_transient_error_backs_off_exponentially_then_succeeds(fake, member):
    msg = _enqueue(member)
    FakeProvider.fail_with = TransientSendError("timeout")
    at = T0
    for attempt, wait in enumerate([30, 60, 120], start=1):
        assert messaging_tick(at)["retry"] == 1
        msg.refresh_from_db()
        assert (msg.state, msg.attempts, msg.error) == ("waiting", attempt, "timeout")
        assert msg.not_before == at + timedelta(seconds=wait)
        assert messaging_tick(at + timedelta(seconds=wait - 1))["retry"] == 0  # still backing off
        at += timedelta(seconds=wait)
    FakeProvider.fail_with = None
    assert messaging_tick(at)["sent"] == 1
    assert FakeProvider.sent == [msg.pk]


def test_permanent_error_fails_without_retry(fake, member):
    msg = _enqueue(member)
    FakeProvider.fail_with = PermanentSendError("invalid number")
    assert messaging_tick(T0)["failed"] == 1
    FakeProvider.fail_with = None
    assert messaging_tick(T0 + timedelta(days=1))["sent"] == 0
    msg.refresh_from_db()
    assert (msg.state, msg.error, msg.attempts) == ("failed", "invalid number", 1)


def test_gives_up_after_max_attempts(fake, member, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_MAX_ATTEMPTS": 2}
    msg = _enqueue(member)
    FakeProvider.fail_with = TransientSendError("busy")
    assert messaging_tick(T0)["retry"] == 1
    assert messaging_tick(T0 + timedelta(hours=2))["failed"] == 1
    msg.refresh_from_db()
    assert msg.state == "failed" and msg.attempts == 2 and msg.error.startswith("gave up after 2 attempts")
    assert messaging_tick(T0 + timedelta(days=2))["retry"] == 0


def test_provider_rate_defers_without_counting_an_attempt(fake, db):
    FakeProvider.rate_per_minute = 2
    msgs = [_enqueue(m) for m in _members(5)]
    result = messaging_tick(T0)
    assert (result["sent"], result["deferred"]) == (2, 3)
    waiting = Message.objects.filter(state="waiting").order_by("pk")
    assert [m.pk for m in waiting] == [m.pk for m in msgs[2:]]
    assert {(m.attempts, m.not_before) for m in waiting} == {(0, T0 + timedelta(minutes=1))}
    assert messaging_tick(T0 + timedelta(seconds=30))["sent"] == 0
    assert messaging_tick(T0 + timedelta(minutes=1))["sent"] == 2
    assert messaging_tick(T0 + timedelta(minutes=2))["sent"] == 1
    assert FakeProvider.sent == [m.pk for m in msgs]
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}


def test_claims_follow_the_providers_batch_size(fake, db):
    FakeProvider.batch_size = 2
    msgs = [_enqueue(m) for m in _members(5)]
    assert messaging_tick(T0, max_batches=1)["sent"] == 2
    assert FakeProvider.sent == [m.pk for m in msgs[:2]]
    assert messaging_tick(T0)["sent"] == 3


def test_claim_by_channel(fake, member):
    consent_set(member_id=member.pk, channel="email", granted=True, source="test")
    sms = _enqueue(member, purpose="a")
    email = _enqueue(member, purpose="b", channel="email")
    assert message_claim_batch(now=T0, channel="email") == [email.pk]
    assert message_claim_batch(now=T0) == [sms.pk]
    assert message_claim_batch(now=T0) == []


def test_send_outcome_only_applies_to_rows_still_sending(fake, member):
    msg = _enqueue(member)
    ids = message_claim_batch(now=T0)
    Message.objects.filter(pk=msg.pk).update(state="failed", lease_until=None)  # resolved elsewhere meanwhile
    assert message_send_batch(ids, now=T0)["sent"] == 0
    assert FakeProvider.sent == []


# --- leases ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "state", "resent"),
    [("sent", "sent", False), ("failed", "failed", False), ("unknown", "sent", True)],
)
def test_expired_lease_asks_provider_before_resending(fake, member, answer, state, resent):
    msg = _enqueue(member)
    assert message_claim_batch(now=T0) == [msg.pk]  # a worker claimed it, then died
    FakeProvider.status_answer = answer
    assert messaging_tick(T0 + timedelta(seconds=60))["sent"] == 0  # lease not expired: hands off
    assert FakeProvider.status_asked == []
    messaging_tick(T0 + timedelta(seconds=121))
    assert FakeProvider.status_asked == [msg.pk]
    msg.refresh_from_db()
    assert msg.state == state
    assert FakeProvider.sent == ([msg.pk] if resent else [])


def test_a_stalled_worker_never_sends_a_reclaimed_row(fake, member):
    msg = _enqueue(member)
    stalled_ids = message_claim_batch(now=T0)
    # The lease runs out; the resolver finds "unknown" and another worker reclaims the row.
    services._resolve_expired_leases(T0 + timedelta(seconds=200))
    fresh_ids = message_claim_batch(now=T0 + timedelta(seconds=200))
    assert stalled_ids == fresh_ids == [msg.pk]
    assert message_send_batch(stalled_ids, now=T0)["sent"] == 0  # the stalled worker wakes up
    assert message_send_batch(fresh_ids, now=T0 + timedelta(seconds=200))["sent"] == 1
    assert FakeProvider.sent == [msg.pk]


def test_a_batch_out_of_time_hands_rows_back_untouched(fake, member):
    msg = _enqueue(member)
    ids = message_claim_batch(now=T0)
    with clock.frozen(T0 + timedelta(seconds=100)):  # only 20 of the 120 lease seconds left
        assert message_send_batch(ids, now=T0)["deferred"] == 1
    msg.refresh_from_db()
    assert (msg.state, msg.attempts, msg.lease_until) == ("waiting", 0, None)
    assert FakeProvider.sent == []


def test_an_unexpected_provider_error_is_resolved_by_status_not_resent(fake, member):
    msg = _enqueue(member)
    FakeProvider.fail_with = RuntimeError("connection reset after the request was written")
    assert messaging_tick(T0)["unknown"] == 1
    msg.refresh_from_db()
    assert msg.state == "sending"
    FakeProvider.fail_with = None
    FakeProvider.status_answer = "sent"  # it did get there
    assert messaging_tick(T0 + timedelta(minutes=5))["confirmed"] == 1
    msg.refresh_from_db()
    assert msg.state == "sent" and FakeProvider.sent == []


# --- file provider -----------------------------------------------------------------------------------


def test_file_provider_writes_json_lines_and_knows_status(member, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    msg = _enqueue(member)
    assert FileProvider().status(msg) == "unknown"
    messaging_tick(clock.now())
    msg.refresh_from_db()
    assert msg.state == "sent" and msg.provider == "file"
    lines = (settings.DATA_DIR / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    assert record["id"] == msg.provider_message_id == FileProvider.message_id(msg)
    assert (record["to"], record["body"], record["purpose"]) == ("+8613800001111", PROMO, "p1")
    assert FileProvider().status(msg) == "sent"


def test_file_provider_survives_a_line_cut_short(member, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    msg = _enqueue(member, purpose="cut")
    path = tmp_path / "outbox" / "sms.jsonl"
    path.parent.mkdir(parents=True)
    full = json.dumps({"id": FileProvider.message_id(msg), "body": PROMO}, ensure_ascii=False)
    path.write_text(full[:25], encoding="utf-8")  # a crash in the middle of the write
    assert FileProvider().status(msg) == "unknown"  # so it is sent again, in full
    FileProvider().send(msg)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == full[:25] and json.loads(lines[1])["id"] == FileProvider.message_id(msg)
    assert FileProvider().status(msg) == "sent"


def test_file_ids_do_not_collide_across_databases(member, settings):
    msg = _enqueue(member, purpose="x")
    other = Message(pk=msg.pk, channel="sms", created_at=msg.created_at + timedelta(microseconds=1))
    assert FileProvider.message_id(msg) != FileProvider.message_id(other)


# --- selectors, privacy ------------------------------------------------------------------------------


def test_progress_and_history(fake, db):
    ms = _members(3)
    for m in ms:
        _enqueue(m, purpose="camp:7:wave:1", job_id="job-7")
    _enqueue(ms[0], purpose="camp:8", job_id="job-8")
    no_consent = member_create(name="无授权", mobile="13800006666")
    _enqueue(no_consent, purpose="camp:7:wave:1", job_id="job-7")
    FakeProvider.rate_per_minute = 2
    messaging_tick(T0)
    assert message_progress(job_id="job-7") == {
        "waiting": 1,
        "sending": 0,
        "sent": 2,
        "failed": 0,
        "suppressed": 1,
    }
    assert message_progress(purpose_prefix="camp:")["waiting"] == 2
    assert [m.purpose for m in member_messages(ms[0].pk)] == ["camp:8", "camp:7:wave:1"]


def test_forgotten_members_leave_no_text_in_the_outbox(fake, member):
    sent = _enqueue(member, purpose="sent", kind="transactional", body="余额变动 -10.00 元")
    messaging_tick(T0)
    _enqueue(member, purpose="later", not_before=T0 + timedelta(hours=1))
    claimed = _enqueue(member, purpose="claimed", kind="transactional")
    ids = message_claim_batch(now=T0)
    assert ids == [claimed.pk]
    member_forget(member_id=member.pk, reason="会员申请注销")
    assert message_send_batch(ids, now=T0)["sent"] == 0  # forgotten after it was claimed: not sent
    assert messaging_privacy_tick(T0) == 2
    for row in Message.objects.all():
        assert (row.to_address, row.body, row.subject, row.html_body) == ("", "", "", "")
    states = dict(Message.objects.values_list("purpose", "state"))
    assert states == {"sent": "sent", "later": "suppressed", "claimed": "suppressed"}
    assert messaging_tick(T0 + timedelta(hours=2))["sent"] == 0
    assert FakeProvider.sent == [sent.pk]
    assert messaging_privacy_tick(T0) == 0


def test_sms_segments():
    assert sms_segments("字" * 70) == 1
    assert sms_segments("字" * 71) == 2
    assert sms_segments("字" * 134) == 2
    assert sms_segments("字" * 135) == 3


def test_query_count_per_message_is_pinned(fake, db):
    """A tick costs a fixed few queries plus two per message (the still-ours check right before
    the hand-over and the outcome UPDATE): no per-message lookups of member, consent or config."""
    counts = {}
    for n in (5, 10):
        for m in _members(n, start=n * 100):
            _enqueue(m, purpose=f"q{n}")
        with CaptureQueriesContext(connection) as ctx:
            assert messaging_tick(T0)["sent"] == n
        counts[n] = sum(1 for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"])
    assert counts[10] - counts[5] == 2 * 5
    # expired leases (1); sms: claim, batch read, the batch's consent re-check, empty claim (4);
    # email: empty claim (1)
    assert counts[5] == 6 + 2 * 5


# --- bulk enqueue (campaign waves) -------------------------------------------------------------------


def test_bulk_enqueue_decides_like_single_enqueue_in_constant_queries(fake, db):
    granted = _members(6)
    withdrawn = member_create(name="退订", mobile="13911112222")
    consent_set(member_id=withdrawn.pk, channel="sms", granted=False, source="test")
    no_consent = member_create(name="未同意", mobile="13911113333")
    no_mobile = member_create(name="无手机", email="x@example.com")
    consent_set(member_id=no_mobile.pk, channel="sms", granted=True, source="test")
    everyone = [*granted, withdrawn, no_consent, no_mobile]
    # The single-row path decides first, under another purpose: the bulk path must agree row by row.
    for m in everyone:
        _enqueue(m, purpose="single")
    _enqueue(granted[0], purpose="bulk")  # already there: kept, not duplicated
    specs = [services.MessageSpec(member_id=m.pk, body=f"{PROMO}{m.pk}") for m in everyone]
    specs[1] = services.MessageSpec(member_id=granted[1].pk, body=PROMO, suppress="cap: 1 per day")
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        counts = services._messages_enqueue_bulk(
            purpose="bulk", channel="sms", kind="marketing", specs=specs, not_before=T0, job_id="j1"
        )
    # savepoint, existing, members, consents, insert, release (PostgreSQL: the insert is a temp
    # table, COPY, one upsert and a clean-up) — constant whatever the number of members
    assert len(ctx.captured_queries) <= (8 if connection.vendor == "postgresql" else 6)
    assert counts == {"waiting": 4, "suppressed": 4, "existing": 1}
    single = {m.member_id: (m.state, m.error) for m in Message.objects.filter(purpose="single")}
    bulk = {m.member_id: (m.state, m.error) for m in Message.objects.filter(purpose="bulk")}
    assert bulk.pop(granted[1].pk) == ("suppressed", "cap: 1 per day")
    assert single.pop(granted[1].pk) == ("waiting", "")
    assert bulk == single
    assert Message.objects.get(purpose="bulk", member=granted[0]).body == PROMO  # the first row stands
    assert Message.objects.filter(purpose="bulk", job_id="j1").count() == 8


def test_bulk_enqueue_refuses_an_empty_body(fake, member):
    with pytest.raises(DomainError), transaction.atomic():
        services._messages_enqueue_bulk(
            purpose="b",
            channel="sms",
            kind="marketing",
            specs=[services.MessageSpec(member_id=member.pk, body=" ")],
            not_before=T0,
        )
