"""Outgoing webhooks against a local http.server that verifies the HMAC signature the way a
receiver would: 2xx → sent, 4xx → failed, 5xx and timeouts → retried; the message id header is
stable across retries (receivers dedupe by it); a crash after a 2xx is resolved as sent."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from laoke.channels.webhook_provider import WebhookProvider, message_id, verify
from laoke.core import clock
from laoke.members.services import member_create
from laoke.messaging.models import Message
from laoke.messaging.providers import PermanentSendError, TransientSendError

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests"


class Receiver(BaseHTTPRequestHandler):
    """Answers per path: /ok → 200 after verifying the signature (401 if it does not verify),
    /gone → 404, /down → 503, /slow → sleeps past the client's timeout."""

    received: list[dict] = []
    release = threading.Event()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = verify(SECRET, self.headers["X-Laoke-Timestamp"], body, self.headers["X-Laoke-Signature"])
        Receiver.received.append(
            {
                "path": self.path,
                "ok": ok,
                "id": self.headers["X-Laoke-Message-Id"],
                "ts": self.headers["X-Laoke-Timestamp"],
                "sig": self.headers["X-Laoke-Signature"],
                "raw": body,
                "json": json.loads(body),
            }
        )
        if self.path == "/slow":
            Receiver.release.wait(3)
        status = {"/ok": 200 if ok else 401, "/gone": 404, "/down": 503, "/slow": 200}[self.path]
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    Receiver.release.set()
    httpd.shutdown()


@pytest.fixture
def hook(server, settings, tmp_path):
    Receiver.received = []
    settings.DATA_DIR = tmp_path

    def configure(path="/ok", secret=SECRET, timeout=2.0):
        settings.LAOKE = {
            **settings.LAOKE,
            "WEBHOOK": {"url": server + path, "secret": secret, "timeout": timeout, "rate_per_minute": None},
        }
        return WebhookProvider()

    with clock.frozen(T0):
        yield configure


def _message(db_member, purpose="hook-1"):
    # A bare row is enough for the provider (the outbox path is the last test).
    return Message.objects.create(
        purpose=purpose,
        member=db_member,
        channel="webhook",
        kind="marketing",
        to_address="",
        subject="双11",
        body="老客专享：满100减10",
        not_before=T0,
        created_at=T0,
    )


@pytest.fixture
def member(db):
    return member_create(name="赵六", mobile="13800006666")


def test_signed_post_is_verified_and_journaled(hook, member):
    provider = hook("/ok")
    msg = _message(member)
    result = provider.send(msg)
    [got] = Receiver.received
    assert got["ok"] is True
    assert got["id"] == message_id(msg) == result.provider_message_id
    assert got["json"] == {
        "message_id": message_id(msg),
        "purpose": "hook-1",
        "kind": "marketing",
        "member": {"code": member.code, "name": "赵六"},
        "subject": "双11",
        "body": "老客专享：满100减10",
    }
    assert provider.status(msg) == "sent"  # journaled after the 2xx: a crash here is not resent
    assert provider.status(_message(member, "hook-2")) == "unknown"


def test_wrong_secret_is_refused_by_the_receiver(hook, member):
    with pytest.raises(PermanentSendError, match="401"):
        hook("/ok", secret="not-the-receivers-secret").send(_message(member))
    assert Receiver.received[0]["ok"] is False


def test_status_mapping(hook, member):
    msg = _message(member)
    with pytest.raises(PermanentSendError, match="404"):
        hook("/gone").send(msg)
    with pytest.raises(TransientSendError, match="503"):
        hook("/down").send(msg)
    with pytest.raises(TransientSendError):
        hook("/slow", timeout=0.3).send(msg)
    Receiver.release.set()
    assert {r["id"] for r in Receiver.received} == {message_id(msg)}  # the same id on every retry
    assert WebhookProvider().status(msg) == "unknown"


def test_unconfigured_channel_fails_permanently(hook, member):
    with pytest.raises(PermanentSendError, match="not configured"):
        hook("/ok", secret="").send(_message(member))
    assert Receiver.received == []


def test_timestamp_is_part_of_the_signature(hook, member):
    hook("/ok").send(_message(member))
    with clock.frozen(T0 + timedelta(seconds=7)):
        hook("/ok").send(_message(member, "hook-2"))
    a, b = Receiver.received
    assert a["ok"] and b["ok"]
    assert (a["ts"], b["ts"]) == (str(int(T0.timestamp())), str(int(T0.timestamp()) + 7))
    assert not verify(SECRET, a["ts"], b["raw"], b["sig"])  # a signature does not move to another time
    assert not verify(SECRET, b["ts"], a["raw"], b["sig"])  # nor to another body


def test_through_the_outbox_with_a_crash_after_the_2xx(hook, member, settings):
    """End to end: enqueued in the outbox, sent by the dispatcher; a worker that died after the
    receiver's 2xx is resolved from the journal, not by posting again."""
    from laoke.members.services import consent_set
    from laoke.messaging.services import message_claim_batch, message_enqueue, messaging_tick

    hook("/ok")
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"webhook": "laoke.channels.webhook_provider.WebhookProvider"},
        "MESSAGING_KICK_ON_COMMIT": False,
    }
    consent_set(member_id=member.pk, channel="app_push", granted=True, source="test")
    first = message_enqueue(purpose="im-1", member=member, channel="webhook", kind="marketing", body="上新啦")
    assert messaging_tick(T0)["sent"] == 1
    crashed = message_enqueue(
        purpose="im-2", member=member, channel="webhook", kind="marketing", body="第二条"
    )
    assert message_claim_batch(now=T0, channel="webhook") == [crashed.pk]
    WebhookProvider().send(Message.objects.get(pk=crashed.pk))  # …and the worker dies here
    later = T0 + timedelta(minutes=5)
    with clock.frozen(later):
        result = messaging_tick(later)
    assert (result["confirmed"], result["sent"]) == (1, 0)
    assert [r["id"] for r in Receiver.received] == [message_id(first), message_id(crashed)]  # once each
    assert all(r["ok"] for r in Receiver.received)
    assert Message.objects.get(pk=crashed.pk).state == "sent"
