"""Drill 3: the SMS provider answers 5xx, then times out, then recovers — through the official
Aliyun SDK against the project's local fake (laoke.channels.fake_sms), driven by the real
dispatcher (``messaging_tick``) at the business times the worker's ticks would run.

Already covered in tests/channels/ (not repeated here): error codes mapped to transient /
permanent and an unreachable provider (test_sms_providers.py), one answer that never comes
resolved through the status API (test_sms_providers.py), a worker SIGKILLed mid-send three
times (test_crash_pg.py). This drill adds HTTP-level failures (a JSON 503, a proxy's HTML 502,
a timeout before and one after the provider accepted) in SEQUENCE for the same message, and
checks the schedule between attempts, the final states and the fake's own record of what it
accepted: each message delivered exactly once, also when the timeout came after acceptance
(our row id travels as ``OutId``; the lease resolver asks QuerySendDetails before resending).

- A: 503 → 503 → timeout before the provider saw it → accepted. Sent once.
- B: 503 → accepted, then no answer (timeout after acceptance) → confirmed by status, not resent.
- C: 503 five times → failed after MESSAGING_MAX_ATTEMPTS, backoff 30 s, 60 s, 120 s, 240 s.
- D: a proxy's 502 HTML page → outcome unknown (it may have been forwarded) → status → resent once.

Negative control: with the resolver resending blindly (``_BLIND_RESEND_FOR_TESTS``), B reaches
the fake twice — the exactly-once check catches it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest

from laoke.channels.fake_sms import FakeSmsServer, _Handler, digits
from laoke.core import clock
from laoke.members.services import member_create
from laoke.messaging import services as messaging
from laoke.messaging.models import Message
from laoke.messaging.services import message_enqueue, messaging_tick
from tests.channels.test_sms_providers import _configure
from tests.drills.common import figure

pytestmark = pytest.mark.django_db

READ_TIMEOUT = 0.5
HANG = 1.5  # longer than the read timeout

SCRIPTS = {
    "13900007001": ["503", "503", "hang", "ok"],  # A
    "13900007002": ["503", "accept-hang"],  # B
    "13900007003": ["503"] * 5,  # C
    "13900007004": ["502html", "ok"],  # D
}


class ScriptedHandler(_Handler):
    """The fake's Aliyun handler with scripted HTTP failures per number (one step per SendSms)."""

    def _aliyun(self, method, parts, body):
        server: ScriptedFake = self.server
        action = self.headers.get("x-acs-action", "")
        if action == "SendSms":
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            if body and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                params.update(parse_qsl(body.decode(), keep_blank_values=True))
            phone = digits(params.get("PhoneNumbers", ""))
            step = server.next_step(phone)
            if step == "503":
                self._reply(
                    503,
                    {"Code": "ServiceUnavailable", "Message": "The request has failed due to a temporary "
                     "failure of the server.", "RequestId": "fake-503"},
                )  # fmt: skip
                return
            if step == "502html":
                self._reply_raw(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                return
            if step == "hang":  # never reaches the provider: the client times out, nothing recorded
                time.sleep(HANG)
                self._reply_raw(504, b"gateway timeout", "text/plain")
                return
            if step == "accept-hang":  # recorded (accepted), the answer comes too late
                server.config.number_delays[phone] = HANG
                try:
                    return super()._aliyun(method, parts, body)
                finally:
                    server.config.number_delays.pop(phone, None)
        return super()._aliyun(method, parts, body)

    def _reply_raw(self, status: int, data: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


class ScriptedFake(FakeSmsServer):
    def __init__(self, store: str, scripts: dict[str, list[str]]):
        super().__init__(store)
        self.RequestHandlerClass = ScriptedHandler
        self.scripts = {k: list(v) for k, v in scripts.items()}
        self.steps: list[tuple[str, str]] = []

    def next_step(self, phone: str) -> str:
        script = self.scripts.get(phone) or []
        step = script.pop(0) if script else "ok"
        self.steps.append((phone, step))
        return step


@pytest.fixture
def fake(tmp_path):
    with ScriptedFake(str(tmp_path / "sms.sqlite3"), SCRIPTS) as server:
        yield server


def _accepted(fake, pk: int) -> int:
    return len(fake.store.query("SELECT id FROM messages WHERE accepted = 1 AND out_id = ?", (str(pk),)))


def _drive(messages: dict[str, Message], t0) -> dict:
    """Run the dispatcher at each next due time (what the worker's ticks would do), recording
    every attempt's scheduled delay. Returns per-message traces and the tick count."""
    trace: dict[str, list] = {name: [] for name in messages}
    now, ticks = t0, 0
    lease = timedelta(seconds=120)
    while ticks < 40:
        with clock.frozen(now):
            messaging_tick(now)
        ticks += 1
        rows = {name: Message.objects.get(pk=m.pk) for name, m in messages.items()}
        for name, row in rows.items():
            last = trace[name][-1][:2] if trace[name] else None
            if (row.state, row.attempts) != last:  # this tick changed it: the delay it scheduled
                trace[name].append((row.state, row.attempts, (row.not_before - now).total_seconds()))
        due = [r.not_before for r in rows.values() if r.state == "waiting"]
        due += [r.lease_until + timedelta(seconds=1) for r in rows.values() if r.state == "sending"]
        if not due:
            return {"trace": trace, "ticks": ticks, "business_seconds": (now - t0).total_seconds()}
        now = max(min(due), now + timedelta(seconds=1))
        assert now - t0 < lease * 20
    raise AssertionError(f"the dispatcher did not settle every message: {trace}")


def _enqueue(t0) -> dict[str, Message]:
    out = {}
    with clock.frozen(t0):
        for name, number in zip("ABCD", SCRIPTS, strict=True):
            m = member_create(name=f"演练{name}", mobile=number)
            out[name] = message_enqueue(
                purpose=f"drill-sms:{name}",
                member=m,
                channel="sms",
                kind="transactional",
                body="【老客】演练",
            )
    return out


@pytest.fixture
def dispatcher(settings, fake):
    _configure(settings, fake, read_timeout=READ_TIMEOUT)
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"sms": "laoke.channels.sms_providers.AliyunSmsProvider"},
        "MESSAGING_KICK_ON_COMMIT": False,
        "MESSAGING_BACKOFF_SECONDS": 30,
    }


def test_5xx_then_timeouts_then_success_backs_off_and_delivers_once(fake, dispatcher):
    t0 = clock.now()  # the fake stamps real time; its status query matches by day
    messages = _enqueue(t0)
    started = time.monotonic()
    result = _drive(messages, t0)
    wall = time.monotonic() - started
    trace = result["trace"]
    rows = {name: Message.objects.get(pk=m.pk) for name, m in messages.items()}

    # A: 503, 503 (backoff 30 s then 60 s), a timeout before the provider (unknown → the lease
    # resolver finds nothing → requeued), then sent: one record at the fake.
    assert rows["A"].state == "sent" and rows["A"].attempts == 4
    assert [e for e in trace["A"] if e[0] == "waiting"][:2] == [("waiting", 1, 30.0), ("waiting", 2, 60.0)]
    assert _accepted(fake, rows["A"].pk) == 1
    # B: the timeout came after the provider accepted: confirmed by QuerySendDetails, not resent.
    assert rows["B"].state == "sent" and rows["B"].attempts == 2
    assert _accepted(fake, rows["B"].pk) == 1
    assert [s for p, s in fake.steps if p == "13900007002"] == ["503", "accept-hang"]
    # C: five 503s: backoff doubles (30, 60, 120, 240 s), then failed after the last attempt.
    assert rows["C"].state == "failed" and rows["C"].attempts == 5
    assert rows["C"].error.startswith("gave up after 5 attempts")
    waits = [delay for state, _, delay in trace["C"] if state == "waiting"]
    assert waits == [30.0, 60.0, 120.0, 240.0]
    assert _accepted(fake, rows["C"].pk) == 0
    # D: a proxy's HTML 502 is an unknown outcome (the request may have been forwarded): the
    # status query finds nothing, so it is sent again — once.
    assert rows["D"].state == "sent" and _accepted(fake, rows["D"].pk) == 1

    accepted = fake.store.accepted_per_out_id()
    duplicates = sum(n - 1 for n in accepted.values() if n > 1)
    assert duplicates == 0
    figure("sms-failures", "A attempts (503, 503, timeout, ok)", rows["A"].attempts)
    for name in "ABD":
        figure(
            "sms-failures", f"{name}: business time until sent (s)", (rows[name].sent_at - t0).total_seconds()
        )
    figure("sms-failures", "C backoff between attempts (s)", waits)
    figure("sms-failures", "business time until all settled (s)", result["business_seconds"])
    figure("sms-failures", "dispatcher ticks", result["ticks"])
    figure("sms-failures", "wall time incl. timeouts (s)", wall)
    figure("sms-failures", "requests at the fake", len(fake.steps))
    figure("sms-failures", "accepted / duplicated", f"{sum(accepted.values())} / {duplicates}")


def test_negative_control_blind_resend_duplicates_after_a_late_answer(fake, dispatcher, monkeypatch):
    monkeypatch.setattr(messaging, "_BLIND_RESEND_FOR_TESTS", True)
    t0 = clock.now()
    messages = _enqueue(t0)
    _drive(messages, t0)
    b = Message.objects.get(pk=messages["B"].pk)
    assert _accepted(fake, b.pk) >= 2, "resending without asking the provider delivers B twice"
