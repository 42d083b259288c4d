"""Email over SMTP against a real local SMTP server (aiosmtpd on 127.0.0.1): multipart text + HTML,
Message-ID from our row, List-Unsubscribe (RFC 2369/8058) on marketing mail only, 4xx → retry and
5xx → failed through the outbox, and a crash after the server's 250 resolved without resending."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from laoke.channels.email_provider import SmtpEmailProvider, message_id
from laoke.core import clock
from laoke.members.services import consent_set, member_create
from laoke.messaging.models import Message
from laoke.messaging.providers import PermanentSendError, TransientSendError
from laoke.messaging.services import message_claim_batch, message_enqueue, messaging_tick
from tests.live import free_port

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)


class Handler:
    """Accepts mail, except: RCPT of temp@… → 451, of gone@… → 550."""

    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("temp@"):
            return "451 4.3.0 try again later"
        if address.startswith("gone@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK queued"


@pytest.fixture(scope="module")
def smtp_server():
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def smtp(smtp_server, settings, tmp_path):
    controller, handler = smtp_server
    handler.received.clear()
    settings.DATA_DIR = tmp_path
    settings.LAOKE_PUBLIC_URL = "https://shop.example.com"
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"email": "laoke.channels.email_provider.SmtpEmailProvider"},
        "MESSAGING_KICK_ON_COMMIT": False,
        "EMAIL": {
            "host": "127.0.0.1",
            "port": controller.port,
            "user": "",
            "password": "",
            "security": "none",
            "from": "老客俱乐部 <club@shop.example.com>",
            "unsubscribe_mailto": "unsubscribe@shop.example.com",
            "timeout": 5,
            "rate_per_minute": None,
        },
    }
    with clock.frozen(T0):
        yield handler


def _member(address="li@example.com"):
    m = member_create(name="李四", email=address)
    consent_set(member_id=m.pk, channel="email", granted=True, source="test")
    return m


def _mail(member, purpose="edm-1", kind="marketing"):
    return message_enqueue(
        purpose=purpose,
        member=member,
        channel="email",
        kind=kind,
        subject="双11老客专享",
        body="满100减10，点击查看",
        html_body="<p>满100减10，<a href='https://shop.example.com'>点击查看</a></p>",
    )


def test_marketing_mail_is_multipart_with_unsubscribe_headers(db, smtp):
    m = _member()
    msg = _mail(m)
    assert messaging_tick(T0)["sent"] == 1
    [(rcpts, raw)] = smtp.received
    assert rcpts == ["li@example.com"]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Message-ID"] == message_id(msg)
    assert parsed["Message-ID"].startswith(f"<laoke-{msg.pk}-") and parsed["Message-ID"].endswith(
        "@shop.example.com>"
    )
    assert str(parsed["Subject"]) == "双11老客专享"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "满100减10，点击查看"
    assert "点击查看</a>" in parsed.get_body(("html",)).get_content()
    lu = str(parsed["List-Unsubscribe"])
    assert lu.startswith("<mailto:unsubscribe@shop.example.com?subject=unsubscribe%20")
    assert "<https://shop.example.com/u/unsubscribe/" in lu and lu.endswith("/one-click/>")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    msg.refresh_from_db()
    assert (msg.state, msg.provider, msg.provider_message_id) == ("sent", "smtp", message_id(msg).strip("<>"))

    notice = _mail(m, purpose="notice-1", kind="transactional")
    messaging_tick(T0)
    parsed = email.message_from_bytes(smtp.received[-1][1], policy=email.policy.default)
    assert parsed["List-Unsubscribe"] is None  # transactional mail has none
    assert parsed["Message-ID"] == message_id(notice)


def test_4xx_retries_and_5xx_fails(db, smtp):
    temp = _mail(_member("temp@example.com"), purpose="p-temp")
    gone = _mail(_member("gone@example.com"), purpose="p-gone")
    provider = SmtpEmailProvider()
    with pytest.raises(TransientSendError, match="451"):
        provider.send(temp)
    with pytest.raises(PermanentSendError, match="550"):
        provider.send(gone)
    result = messaging_tick(T0)
    assert (result["retry"], result["failed"], result["sent"]) == (1, 1, 0)
    temp.refresh_from_db()
    gone.refresh_from_db()
    assert temp.state == "waiting" and temp.not_before > T0 and "451" in temp.error
    assert gone.state == "failed" and "550" in gone.error
    assert smtp.received == []


def test_connection_refused_is_transient(db, smtp, settings):
    settings.LAOKE = {**settings.LAOKE, "EMAIL": {**settings.LAOKE["EMAIL"], "port": free_port()}}
    with pytest.raises(TransientSendError):
        SmtpEmailProvider().send(_mail(_member()))


def test_crash_after_250_is_resolved_without_resending(db, smtp):
    delivered = _mail(_member("a@example.com"), purpose="crash-a")
    lost = _mail(_member("b@example.com"), purpose="crash-b")
    assert sorted(message_claim_batch(now=T0)) == sorted([delivered.pk, lost.pk])
    # The worker handed `delivered` over (250 received, journaled), then died before recording
    # it; it died before touching `lost` at all.
    SmtpEmailProvider().send(Message.objects.get(pk=delivered.pk))
    assert len(smtp.received) == 1
    provider = SmtpEmailProvider()
    assert provider.status(Message.objects.get(pk=delivered.pk)) == "sent"
    assert provider.status(Message.objects.get(pk=lost.pk)) == "unknown"
    later = T0 + timedelta(minutes=5)  # past the lease
    with clock.frozen(later):
        result = messaging_tick(later)
    assert (result["confirmed"], result["requeued"], result["sent"]) == (1, 1, 1)
    assert sorted(r[0][0] for r in smtp.received) == ["a@example.com", "b@example.com"]  # nobody twice
    assert Message.objects.get(pk=delivered.pk).state == "sent"
    assert Message.objects.get(pk=lost.pk).state == "sent"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_the_configured_credentials(db, smtp, settings):
    from aiosmtpd.smtp import AuthResult

    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"right")

    handler = Handler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # the test server has no certificate; production uses STARTTLS/SSL
    )
    controller.start()
    try:
        cfg = {**settings.LAOKE["EMAIL"], "port": controller.port, "user": "club", "password": "right"}
        settings.LAOKE = {**settings.LAOKE, "EMAIL": cfg}
        SmtpEmailProvider().send(_mail(_member()))
        assert len(handler.received) == 1 and seen[-1][1:] == (b"club", b"right")
        settings.LAOKE = {**settings.LAOKE, "EMAIL": {**cfg, "user": ""}}  # no login: refused
        with pytest.raises(PermanentSendError, match="530"):
            SmtpEmailProvider().send(_mail(_member("c@example.com"), purpose="p2"))
        assert len(handler.received) == 1
    finally:
        controller.stop()
