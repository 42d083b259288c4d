"""SMS callbacks (delivery receipts, inbound replies) in each provider's own push format, as the
fake provider produces them: the URL token, receipts applied idempotently, the unsubscribe
keywords, other replies stored for the service desk, and — the issue's MUST SHOW — an unsubscribe
received during a running wave stops that member's pending marketing messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.channels.fake_sms import FakeSmsConfig, FakeSmsServer, receipts_payload, reply_payload
from laoke.channels.receipts import callback_token, callback_url, is_unsubscribe
from laoke.core import clock
from laoke.members.models import Consent, ConsentEvent
from laoke.members.services import consent_set, member_create
from laoke.messaging.models import InboundMessage, Message
from laoke.messaging.selectors import message_progress
from laoke.messaging.services import MessageSpec, _messages_enqueue_bulk, messaging_tick

KINDS = {"aliyun": ("report", "up"), "tencent": ("status", "reply"), "gateway": ("receipts", "inbound")}
PROVIDER_CLASS = {
    "aliyun": "AliyunSmsProvider",
    "tencent": "TencentSmsProvider",
    "gateway": "HttpGatewayProvider",
}
OK_BODY = {"aliyun": {"code": 0, "msg": "成功"}, "tencent": {"result": 0, "errmsg": "OK"}}


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    config = FakeSmsConfig(number_undelivered={"13900000002": "MK:0001"})
    with FakeSmsServer(str(tmp_path_factory.mktemp("fake") / "sms.sqlite3"), config=config) as server:
        yield server


@pytest.fixture
def sms(settings, fake):
    def use(provider: str, batch: int = 200):
        settings.LAOKE = {
            **settings.LAOKE,
            "MESSAGING_PROVIDERS": {"sms": f"laoke.channels.sms_providers.{PROVIDER_CLASS[provider]}"},
            "MESSAGING_KICK_ON_COMMIT": False,
            "MESSAGING_BATCH_SIZE": batch,
            "SMS": {
                **settings.LAOKE["SMS"],
                "callback_secret": "callback-secret",
                "template_marketing": "SMS_100",
                "windows": [],
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

    return use


def _wave(n: int, purpose: str) -> list[Message]:
    members = []
    for i in range(1, n + 1):
        m = member_create(name=f"老客{i}", mobile=f"1390000{i:04d}")
        consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
        members.append(m)
    from django.db import transaction

    with transaction.atomic():
        _messages_enqueue_bulk(
            purpose=purpose,
            channel="sms",
            kind="marketing",
            specs=[
                MessageSpec(member_id=m.pk, body="【老客】双十一返场，满299减50，回T退订") for m in members
            ],
            not_before=clock.now(),
        )
    return list(Message.objects.filter(purpose=purpose).order_by("pk"))


def _post(client, provider, kind, payload, token=None):
    token = callback_token(provider, kind) if token is None else token
    return client.post(
        f"/api/v1/channels/sms/{provider}/{kind}/{token}", payload, content_type="application/json"
    )


@pytest.mark.parametrize("provider", KINDS)
def test_receipts_update_delivery_idempotently(provider, sms, fake, client, db):
    sms(provider)
    rows = _wave(3, f"receipts:{provider}")
    assert messaging_tick(clock.now())["sent"] == 3
    ours = {str(m.pk) for m in rows}
    records = [
        r
        for r in fake.store.query("SELECT * FROM messages WHERE api = ?", (provider,))
        if r["out_id"] in ours
    ]
    assert len(records) == 3
    payload = receipts_payload(provider, records)
    r = _post(client, provider, KINDS[provider][0], payload)
    assert r.status_code == 200, r.content
    if provider in OK_BODY:
        assert r.json() == OK_BODY[provider]
    else:
        assert r.json() == {"ok": True, "applied": 3, "duplicate": 0, "unmatched": 0}
    first = dict(Message.objects.filter(purpose=f"receipts:{provider}").values_list("to_address", "delivery"))
    assert first == {
        "+8613900000001": "delivered",
        "+8613900000002": "undelivered",
        "+8613900000003": "delivered",
    }
    assert _post(client, provider, KINDS[provider][0], payload).status_code == 200  # pushed again
    assert (
        dict(Message.objects.filter(purpose=f"receipts:{provider}").values_list("to_address", "delivery"))
        == first
    )
    progress = message_progress(purpose_prefix=f"receipts:{provider}", delivery=True)
    assert (progress["delivered"], progress["undelivered"]) == (2, 1)
    assert Message.objects.get(to_address="+8613900000002", purpose=f"receipts:{provider}").delivery_error


def test_callback_tokens(sms, client, db):
    sms("aliyun")
    good = callback_token("aliyun", "report")
    assert callback_url("aliyun", "report").endswith(f"/api/v1/channels/sms/aliyun/report/{good}")
    assert len(good) == 32 and good != callback_token("aliyun", "up")  # one token per endpoint
    assert _post(client, "aliyun", "report", []).status_code == 200
    wrong = "0" * 32
    r = _post(client, "aliyun", "report", [], token=wrong)
    assert (r.status_code, r.json()["code"]) == (403, "CALLBACK_TOKEN_INVALID")
    r = _post(client, "aliyun", "up", [], token=good)  # the report token does not open the reply door
    assert r.status_code == 403
    r = _post(client, "aliyun", "report", [], token="nonsense")
    assert (r.status_code, r.json()["code"]) == (401, "AUTH_REQUIRED")
    r = client.post(f"/api/v1/channels/sms/aliyun/report/{good}", "not json", content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (400, "CALLBACK_BODY_INVALID")


def test_without_a_secret_every_callback_is_refused(settings, client, db):
    settings.LAOKE = {**settings.LAOKE, "SMS": {**settings.LAOKE["SMS"], "callback_secret": ""}}
    assert callback_token("aliyun", "report") == ""
    assert _post(client, "aliyun", "report", [], token="a" * 32).status_code == 403


@pytest.mark.parametrize(
    "text", ["T", "t", "TD", "td", "ＴＤ", "ｔｄ", " TD ", "TD。", "【退订】", "退订", "取消", "N", "r", "T!"]
)
def test_unsubscribe_keywords(text):
    assert is_unsubscribe(text)


@pytest.mark.parametrize("text", ["TD please call me", "好的", "TDD", "", "退订了吗？谢谢", "10"])
def test_other_replies_are_not_unsubscribes(text):
    assert not is_unsubscribe(text)


@pytest.mark.parametrize("provider", KINDS)
def test_reply_td_unsubscribes_and_other_replies_are_stored(provider, sms, client, db):
    sms(provider)
    a = member_create(name="甲", mobile="13900000001")
    b = member_create(name="乙", mobile="13900000002")
    for m in (a, b):
        consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
    kind = KINDS[provider][1]
    r = _post(client, provider, kind, reply_payload(provider, "+8613900000001", "ＴＤ", ref=f"{provider}-1"))
    assert r.status_code == 200, r.content
    r = _post(
        client, provider, kind, reply_payload(provider, "13900000002", "什么时候发货？", ref=f"{provider}-2")
    )
    assert r.status_code == 200
    _post(
        client, provider, kind, reply_payload(provider, "13900000001", "ＴＤ", ref=f"{provider}-1")
    )  # again
    assert Consent.objects.get(member=a, channel="sms").state == "withdrawn"
    assert (
        ConsentEvent.objects.filter(member=a, channel="sms", state="withdrawn", source="sms-reply").count()
        == 1
    )
    assert Consent.objects.get(member=b, channel="sms").state == "granted"
    inbound = {row.member_id: row for row in InboundMessage.objects.all()}
    assert len(inbound) == 2 and InboundMessage.objects.count() == 2  # the repeated push is one row
    assert (inbound[a.pk].action, inbound[a.pk].text) == ("unsubscribed", "ＴＤ")
    assert (inbound[b.pk].action, inbound[b.pk].text) == ("stored", "什么时候发货？")


def test_reply_from_an_unknown_number_is_stored_without_member(sms, client, db):
    sms("aliyun")
    assert _post(client, "aliyun", "up", reply_payload("aliyun", "13911112222", "TD")).status_code == 200
    row = InboundMessage.objects.get()
    assert (row.member_id, row.action, row.from_address) == (None, "stored", "+8613911112222")


def test_unsubscribe_during_a_running_wave_stops_that_members_pending_messages(sms, fake, client, db):
    """MUST SHOW (issue 5). A wave of 6 is being sent in batches of 2; after the first batch the
    4th member replies TD: their waiting message is cancelled at once and never reaches the
    provider; everyone else gets theirs."""
    sms("aliyun", batch=2)
    before = fake.store.query("SELECT coalesce(max(id), 0) AS n FROM messages")[0]["n"]
    rows = _wave(6, "double11:wave:2")
    now = clock.now()
    assert messaging_tick(now, max_batches=1)["sent"] == 2  # the wave is running
    target = rows[3]
    r = _post(client, "aliyun", "up", reply_payload("aliyun", target.to_address, "退订"))
    assert r.status_code == 200
    target.refresh_from_db()
    assert (target.state, target.error) == ("suppressed", "unsubscribed")
    assert messaging_tick(now + timedelta(seconds=1))["sent"] == 3
    states = dict(Message.objects.filter(purpose="double11:wave:2").values_list("pk", "state"))
    assert states == {m.pk: ("suppressed" if m.pk == target.pk else "sent") for m in rows}
    sent = [r["phone"] for r in fake.store.query("SELECT phone FROM messages WHERE id > ?", (before,))]
    assert sorted(sent) == [f"1390000000{i}" for i in (1, 2, 3, 5, 6)]
