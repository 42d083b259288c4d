"""The fake SMS provider itself: it never deduplicates, its records survive a restart, concurrent
requests lose nothing, failures are injected reproducibly, it pulls and pushes receipts and
replies, and it runs as a command."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from laoke.channels.fake_sms import FakeSmsConfig, FakeSmsServer
from laoke.channels.sms_providers import AliyunSmsProvider, HttpGatewayProvider, TencentSmsProvider
from laoke.messaging.providers import TransientSendError


def _use(settings, fake):
    settings.LAOKE = {
        **settings.LAOKE,
        "SMS": {
            **settings.LAOKE["SMS"],
            "template_marketing": "SMS_100",
            "aliyun": {
                "access_key_id": "fake-ak",
                "access_key_secret": "fake-secret",
                "endpoint": fake.endpoint,
                "protocol": "http",
            },
            "tencent": {
                "secret_id": "fake-sid",
                "secret_key": "fake-skey",
                "sdk_app_id": fake.config.tencent_app_id,
                "endpoint": fake.endpoint,
                "protocol": "http",
            },
            "gateway": {"url": fake.url + "/gateway", "secret": fake.config.gateway_secret},
        },
    }


def _msg(pk, number="+8613900000001"):
    return SimpleNamespace(
        pk=pk,
        body="【老客】回T退订",
        to_address=number,
        template_code="",
        template_params=None,
        kind="marketing",
        segments=1,
        lease_until=datetime.now(UTC) + timedelta(seconds=60),
    )


def test_never_deduplicates_and_survives_a_restart(tmp_path, settings):
    store = str(tmp_path / "sms.sqlite3")
    with FakeSmsServer(store) as fake:
        _use(settings, fake)
        provider = AliyunSmsProvider()
        first = provider.send(_msg(1))
        second = provider.send(_msg(1))  # the same OutId again: two SMS, two records
        assert first.provider_message_id != second.provider_message_id
        assert fake.store.accepted_per_out_id() == {"1": 2}
    with FakeSmsServer(store) as fake:  # a new process on the same file
        _use(settings, fake)
        provider = AliyunSmsProvider()
        assert provider.status(_msg(1)) == "sent"
        third = provider.send(_msg(2))
        assert third.provider_message_id not in (first.provider_message_id, second.provider_message_id)
        assert fake.store.accepted_per_out_id() == {"1": 2, "2": 1}


def test_concurrent_requests_lose_nothing(tmp_path, settings):
    with FakeSmsServer(str(tmp_path / "sms.sqlite3")) as fake:
        _use(settings, fake)
        errors = []

        def worker(i):
            provider = HttpGatewayProvider()
            try:
                for j in range(10):
                    provider.send(_msg(i * 100 + j, number=f"+86139{i:04d}{j:04d}"))
            except Exception as exc:  # pragma: no cover - the assertion reports it
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        records = fake.store.accepted()
        assert len(records) == 120 and len({r["provider_id"] for r in records}) == 120
        assert len(fake.store.query("SELECT id FROM requests WHERE action = 'send'")) == 120


def test_error_rate_is_seeded_and_refusals_are_recorded(tmp_path, settings):
    outcomes = []
    for run in range(2):
        with FakeSmsServer(
            str(tmp_path / f"s{run}.sqlite3"), config=FakeSmsConfig(error_rate=0.4, seed=7)
        ) as fake:
            _use(settings, fake)
            provider = TencentSmsProvider()
            result = []
            for i in range(20):
                try:
                    provider.send(_msg(i))
                    result.append("ok")
                except TransientSendError as exc:
                    assert "LimitExceeded" in str(exc)
                    result.append("throttled")
            outcomes.append(result)
            refused = fake.store.query("SELECT count(*) AS n FROM messages WHERE accepted = 0")[0]["n"]
            assert refused == result.count("throttled") > 0
    assert outcomes[0] == outcomes[1]


def test_tencent_pull_returns_each_receipt_once(tmp_path, settings):
    with FakeSmsServer(
        str(tmp_path / "sms.sqlite3"), config=FakeSmsConfig(number_undelivered={"13900000002": "X"})
    ) as fake:
        _use(settings, fake)
        provider = TencentSmsProvider()
        provider.send(_msg(11, "+8613900000001"))
        provider.send(_msg(12, "+8613900000002"))
        receipts = provider.pull_receipts()
        assert sorted((r.out_id, r.delivered) for r in receipts) == [("11", True), ("12", False)]
        assert provider.pull_receipts() == []


class _Capture(BaseHTTPRequestHandler):
    received: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Capture.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def test_pushes_receipts_and_replies_on_demand(tmp_path, settings):
    _Capture.received = []
    capture = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=capture.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{capture.server_address[1]}"
    try:
        with FakeSmsServer(str(tmp_path / "sms.sqlite3")) as fake:
            _use(settings, fake)
            AliyunSmsProvider().send(_msg(21))
            assert fake.push_receipts(url + "/report", "aliyun") == 1
            assert fake.push_receipts(url + "/report", "aliyun") == 0  # each receipt once
            fake.push_reply(url + "/up", "aliyun", "+8613900000001", "TD")
            # the control endpoint does the same for demos (another process, the CLI)
            req = urllib.request.Request(
                fake.url + "/_fake/push",
                data=json.dumps(
                    {
                        "kind": "reply",
                        "api": "tencent",
                        "url": url + "/reply",
                        "phone": "13900000001",
                        "text": "退订",
                    }
                ).encode(),
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert json.loads(resp.read())["pushed"] == 1
    finally:
        capture.shutdown()
        capture.server_close()
    (p1, report), (p2, up), (p3, reply) = _Capture.received
    assert p1 == "/report" and report[0]["out_id"] == "21" and report[0]["success"] is True
    assert p2 == "/up" and up[0]["content"] == "TD" and up[0]["phone_number"] == "13900000001"
    assert p3 == "/reply" and reply["text"] == "退订" and reply["mobile"] == "13900000001"


def test_runs_as_a_command(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "laoke.channels.fake_sms",
            "--port",
            "0",
            "--store",
            str(tmp_path / "cli.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = json.loads(proc.stdout.readline())
        assert banner["listening"].startswith("http://127.0.0.1:")
        req = urllib.request.Request(banner["listening"] + "/nothing-here", method="GET")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        assert err.value.code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_pull_tick_applies_tencent_receipts(tmp_path, settings, db):
    from laoke.core import clock
    from laoke.members.services import consent_set, member_create
    from laoke.messaging.models import Message
    from laoke.messaging.services import message_enqueue, messaging_receipts_pull_tick, messaging_tick

    with FakeSmsServer(str(tmp_path / "sms.sqlite3")) as fake:
        _use(settings, fake)
        settings.LAOKE = {
            **settings.LAOKE,
            "MESSAGING_PROVIDERS": {"sms": "laoke.channels.sms_providers.TencentSmsProvider"},
            "MESSAGING_KICK_ON_COMMIT": False,
        }
        m = member_create(name="拉", mobile="13900000031")
        consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
        msg = message_enqueue(
            purpose="pull:1", member=m, channel="sms", kind="marketing", body="【老客】回T退订"
        )
        assert messaging_tick(clock.now())["sent"] == 1
        assert messaging_receipts_pull_tick(clock.now()) == {"applied": 1, "duplicate": 0, "unmatched": 0}
        assert Message.objects.get(pk=msg.pk).delivery == "delivered"


def test_status_before_and_after_the_receipt(tmp_path, settings):
    """Aliyun: SendStatus 1 (waiting for the receipt) is 'sent' — it was handed over; 2
    (undelivered) is 'failed'. Tencent's status API lists receipts only: before the receipt a sent
    message is 'unknown' (the hazard 0025 describes: keep the lease above the receipt delay)."""
    config = FakeSmsConfig(receipt_delay=0.6, number_undelivered={"13900000002": "MK:0005"})
    with FakeSmsServer(str(tmp_path / "sms.sqlite3"), config=config) as fake:
        _use(settings, fake)
        aliyun, tencent = AliyunSmsProvider(), TencentSmsProvider()
        aliyun.send(_msg(41))
        aliyun.send(_msg(42, "+8613900000002"))
        tencent.send(_msg(43))
        assert (aliyun.status(_msg(41)), aliyun.status(_msg(42, "+8613900000002"))) == ("sent", "sent")
        assert tencent.status(_msg(43)) == "unknown"
        import time

        time.sleep(0.7)
        assert (aliyun.status(_msg(41)), aliyun.status(_msg(42, "+8613900000002"))) == ("sent", "failed")
        assert tencent.status(_msg(43)) == "sent"


@pytest.mark.parametrize("secret", ["fake-secret", "wrong"])
def test_aliyun_rpc_signature_is_checked_too(tmp_path, settings, secret):
    """The older RPC signature (HMAC-SHA1 in the query, the SDK's ``signature_algorithm='v2'``)."""
    with FakeSmsServer(str(tmp_path / "sms.sqlite3")) as fake:
        _use(settings, fake)
        settings.LAOKE["SMS"]["aliyun"]["access_key_secret"] = secret
        provider = AliyunSmsProvider()
        provider.client._signature_algorithm = "v2"
        if secret == "wrong":
            with pytest.raises(TransientSendError, match="SignatureDoesNotMatch"):
                provider.send(_msg(51))
        else:
            provider.send(_msg(51))
            assert fake.store.accepted_per_out_id() == {"51": 1}
        [path] = [r["path"] for r in fake.store.query("SELECT path FROM requests")]
        assert "SignatureMethod=HMAC-SHA1" in path  # the RPC signature, not ACS3
