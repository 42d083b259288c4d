"""The SMS providers through their OFFICIAL SDKs (Aliyun dysmsapi, Tencent Cloud sms) and the HTTP
gateway, against the local fake provider on 127.0.0.1: send, status found / not found, a wrong
secret refused by the fake's signature check, error codes mapped to transient / permanent, and a
send whose answer never comes (outcome unknown) resolved later through the status API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from laoke.channels.fake_sms import FakeSmsConfig, FakeSmsServer
from laoke.channels.sms_providers import (
    AliyunSmsProvider,
    HttpGatewayProvider,
    SmsOutcomeUnknown,
    TencentSmsProvider,
    split_signature,
)
from laoke.core import clock
from laoke.members.services import consent_set, member_create
from laoke.messaging.models import Message
from laoke.messaging.providers import PermanentSendError, TransientSendError
from laoke.messaging.services import message_enqueue, messaging_tick

PROVIDERS = {"aliyun": AliyunSmsProvider, "tencent": TencentSmsProvider, "gateway": HttpGatewayProvider}
WRONG_SECRET = {
    "aliyun": "SignatureDoesNotMatch",
    "tencent": "AuthFailure.SignatureFailure",
    "gateway": "bad_signature",
}


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    config = FakeSmsConfig(
        number_errors={"13900000002": "invalid", "13900000003": "throttled", "13900000004": "template"},
        number_delays={"13900000009": 1.5},
    )
    with FakeSmsServer(str(tmp_path_factory.mktemp("fake") / "sms.sqlite3"), config=config) as server:
        yield server


def _configure(settings, fake, **overrides):
    sms = {
        **settings.LAOKE["SMS"],
        "sign_name": "老客",
        "template_marketing": "SMS_100",
        "template_transactional": "SMS_200",
        "connect_timeout": 2,
        "read_timeout": 3,
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
    }
    for key, value in overrides.items():
        sms[key] = {**sms[key], **value} if isinstance(value, dict) else value
    settings.LAOKE = {**settings.LAOKE, "SMS": sms}


def _message(pk, number="+8613900000001", body="【老客】双十一老客回馈：满299减50，回T退订", **kw):
    values = {
        "pk": pk,
        "body": body,
        "to_address": number,
        "template_code": "",
        "template_params": None,
        "kind": "marketing",
        "segments": 1,
        "lease_until": datetime.now(UTC) + timedelta(seconds=100),
    }
    return SimpleNamespace(**{**values, **kw})


def _records(fake, out_id, api=None):
    rows = fake.store.query("SELECT * FROM messages WHERE out_id = ? ORDER BY id", (str(out_id),))
    return [r for r in rows if api is None or r["api"] == api]


@pytest.mark.parametrize("name", PROVIDERS)
def test_send_and_status_through_the_sdk(name, fake, settings):
    _configure(settings, fake)
    provider = PROVIDERS[name]()
    pk = {"aliyun": 10_001, "tencent": 10_002, "gateway": 10_003}[name]
    result = provider.send(_message(pk))
    [record] = _records(fake, pk)
    assert result.provider_message_id == record["provider_id"]
    assert (record["api"], record["phone"], record["accepted"]) == (name, "13900000001", 1)
    if name == "aliyun":  # the signature goes as SignName, the text as the generic template's parameter
        assert (record["sign"], record["template"]) == ("老客", "SMS_100")
        assert json.loads(record["params"]) == {"content": "双十一老客回馈：满299减50，回T退订"}
    elif name == "tencent":
        assert (record["sign"], record["template"]) == ("老客", "SMS_100")
        assert json.loads(record["params"]) == ["双十一老客回馈：满299减50，回T退订"]
    assert provider.status(_message(pk)) == "sent"
    assert provider.status(_message(pk + 100)) == "unknown"  # never handed over


def test_own_template_code_and_params_go_as_they_are(fake, settings):
    _configure(settings, fake)
    AliyunSmsProvider().send(
        _message(10_010, template_code="SMS_777", template_params={"name": "王", "amount": "50"})
    )
    [record] = _records(fake, 10_010)
    assert record["template"] == "SMS_777" and json.loads(record["params"]) == {"name": "王", "amount": "50"}


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_wrong_secret_is_refused_by_the_fakes_signature_check(name, fake, settings):
    wrong = {
        "aliyun": {"aliyun": {"access_key_secret": "not-the-secret"}},
        "tencent": {"tencent": {"secret_key": "not-the-key"}},
        "gateway": {"gateway": {"secret": "not-the-secret"}},
    }[name]
    _configure(settings, fake, **wrong)
    pk = {"aliyun": 10_021, "tencent": 10_022, "gateway": 10_023}[name]
    with pytest.raises(TransientSendError, match=WRONG_SECRET[name]):  # our configuration: wait, do not fail
        PROVIDERS[name]().send(_message(pk))
    assert _records(fake, pk) == []  # nothing recorded as sent
    codes = [r["code"] for r in fake.store.query("SELECT code FROM requests WHERE api = ?", (name,))]
    assert WRONG_SECRET[name] in codes


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("+8613900000002", PermanentSendError),  # invalid number
        ("+8613900000003", TransientSendError),  # throttled / flow control
        ("+8613900000004", PermanentSendError),  # template not approved
    ],
)
def test_error_codes_map_to_transient_or_permanent(name, number, error, fake, settings):
    _configure(settings, fake)
    with pytest.raises(error):
        PROVIDERS[name]().send(_message(10_030, number=number))


@pytest.mark.parametrize("name", PROVIDERS)
def test_an_unreachable_provider_is_transient(name, fake, settings):
    _configure(
        settings,
        fake,
        aliyun={"endpoint": "127.0.0.1:9"},
        tencent={"endpoint": "127.0.0.1:9"},
        gateway={"url": "http://127.0.0.1:9/gateway"},
    )
    with pytest.raises(TransientSendError):  # nothing was sent: safe to try again
        PROVIDERS[name]().send(_message(10_040))


def test_no_credentials_never_fall_back_to_the_default_chain(settings, fake):
    _configure(settings, fake, aliyun={"access_key_id": ""}, tencent={"secret_key": ""})
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        AliyunSmsProvider()
    with pytest.raises(ImproperlyConfigured):
        TencentSmsProvider()


def test_signature_split():
    assert split_signature("【老客】您好", "默认") == ("老客", "您好")
    assert split_signature("您好", "默认") == ("默认", "您好")


@pytest.mark.parametrize("name", ["aliyun", "tencent"])
def test_no_answer_is_unknown_then_resolved_by_status_not_resent(name, fake, settings, db):
    """The fake stores the send and answers after 1.5 s; the read timeout is 0.5 s. The
    dispatcher leaves the row claimed; after the lease the resolver asks the status API, finds
    our id and marks it sent — one SMS at the fake, not two."""
    _configure(settings, fake, read_timeout=0.5)
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"sms": f"laoke.channels.sms_providers.{PROVIDERS[name].__name__}"},
        "MESSAGING_KICK_ON_COMMIT": False,
    }
    with pytest.raises(SmsOutcomeUnknown):
        PROVIDERS[name]().send(_message(10_050 if name == "aliyun" else 10_051, number="+8613900000009"))
    t0 = clock.now()
    with clock.frozen(t0):
        m = member_create(name="慢", mobile="13900000009")
        consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
        msg = message_enqueue(
            purpose=f"slow:{name}", member=m, channel="sms", kind="marketing", body="【老客】回T退订"
        )
        assert messaging_tick(t0)["unknown"] == 1
    msg.refresh_from_db()
    assert msg.state == "sending"
    later = t0 + timedelta(seconds=settings.LAOKE["MESSAGING_LEASE_SECONDS"] + 1)
    with clock.frozen(later):
        result = messaging_tick(later)
    assert (result["confirmed"], result["sent"]) == (1, 0)
    msg.refresh_from_db()
    assert msg.state == "sent"
    assert len(_records(fake, msg.pk, name)) == 1


def test_not_found_by_status_is_sent_again(fake, settings, db):
    """A claimed message the provider never received (the worker died before the request) goes
    back to waiting and out once."""
    _configure(settings, fake)
    settings.LAOKE = {
        **settings.LAOKE,
        "MESSAGING_PROVIDERS": {"sms": "laoke.channels.sms_providers.AliyunSmsProvider"},
        "MESSAGING_KICK_ON_COMMIT": False,
    }
    from laoke.messaging.services import message_claim_batch

    t0 = clock.now()
    with clock.frozen(t0):
        m = member_create(name="丢", mobile="13900000010")
        consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
        msg = message_enqueue(
            purpose="lost:1", member=m, channel="sms", kind="marketing", body="【老客】回T退订"
        )
        message_claim_batch(now=t0)  # claimed, then the worker died
    later = t0 + timedelta(seconds=settings.LAOKE["MESSAGING_LEASE_SECONDS"] + 1)
    with clock.frozen(later):
        result = messaging_tick(later)
    assert (result["requeued"], result["sent"]) == (1, 1)
    assert Message.objects.get(pk=msg.pk).state == "sent"
    assert [r["phone"] for r in _records(fake, msg.pk, "aliyun")].count("13900000010") == 1
