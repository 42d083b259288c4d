"""Notifications posted straight to /pay/notify/<provider> (Django's test client): forged or
modified ones are refused, logged and credit nothing; a genuine one credits once. The genuine
bodies are signed (and for WeChat encrypted) by the fake's own code with the fake's keys."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from laoke.payments import fake as fakemod
from laoke.payments.models import PaymentNotification
from laoke.payments.services import package_purchase_start
from tests.payments.fake_server import environ
from tests.payments.helpers import RETURN_URL, balances, member, package_500, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(fake_provider):
    with environ(fake_provider.env):
        yield fake_provider


def _trade(purchase, amount_fen=None):
    t = fakemod.Trade(
        purchase.provider, purchase.out_trade_no, amount_fen or purchase.price_fen, purchase.name, "", ""
    )
    t.state, t.trade_no = "PAID", "2026FAKE" + purchase.out_trade_no
    from datetime import UTC, datetime

    t.paid_at = datetime.now(UTC)
    return t


def _alipay_post(client, params: dict):
    return client.post(
        "/pay/notify/alipay",
        data=urllib.parse.urlencode(params),
        content_type="application/x-www-form-urlencoded",
    )


def _alipay_params(fake: fakemod.Fake, t) -> dict:
    body, _ = fake._alipay_notification(t)
    return dict(urllib.parse.parse_qsl(body.decode()))


def test_alipay_forged_and_modified_notifications_are_refused(env, client):
    m, pkg = member(), package_500()
    purchase, _ = package_purchase_start(
        member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL
    )
    fake = fakemod.Fake(env.keys, [])

    # 1. Signed with some other key (a forger's): refused.
    params = _alipay_params(fake, _trade(purchase))
    forger = fakemod.Fake(env.keys, [])
    forger.alipay_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = _alipay_params(forger, _trade(purchase))
    r = _alipay_post(client, forged)
    assert r.content == b"failure"

    # 2. Genuinely signed, then the amount changed in transit: the signature no longer verifies.
    tampered = {**params, "total_amount": "5000.00"}
    assert _alipay_post(client, tampered).content == b"failure"

    # 3. Genuinely signed by "Alipay" but for another amount than the purchase's price: refused.
    wrong = _alipay_params(fake, _trade(purchase, amount_fen=100))
    assert _alipay_post(client, wrong).content == b"failure"

    # 4. Not signed at all.
    assert _alipay_post(client, {k: v for k, v in params.items() if k != "sign"}).content == b"failure"

    assert balances(m) == (0, 0)
    purchase.refresh_from_db()
    assert purchase.state == "created"
    logged = list(PaymentNotification.objects.order_by("pk").values_list("verified", "result"))
    assert logged == [
        (False, "bad_signature"),
        (False, "bad_signature"),
        (True, "amount_mismatch"),
        (False, "bad_signature"),
    ]

    # The genuine one credits, once, however often it comes.
    for _ in range(3):
        assert _alipay_post(client, params).content == b"success"
    assert balances(m) == (50_000, 5_000)
    assert results(purchase.out_trade_no)[-3:] == ["credited", "duplicate", "duplicate"]


def _wechat_post(client, body: bytes, headers: dict):
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k.startswith("Wechatpay")}
    return client.post("/pay/notify/wechat", data=body, content_type="application/json", **meta)


def test_wechat_forged_and_modified_notifications_are_refused(env, client):
    m, pkg = member(), package_500()
    purchase, _ = package_purchase_start(
        member=m, package_id=pkg.pk, provider="wechat", return_url=RETURN_URL
    )
    fake = fakemod.Fake(env.keys, [])
    body, headers = fake._wechat_notification(_trade(purchase))

    # A forger's signature.
    forger = fakemod.Fake(env.keys, [])
    forger.wechat_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fbody, fheaders = forger._wechat_notification(_trade(purchase))
    r = _wechat_post(client, fbody, fheaders)
    assert r.status_code == 400 and r.json()["code"] == "FAIL"

    # The envelope changed after signing.
    envelope = json.loads(body)
    envelope["summary"] = "改过"
    assert _wechat_post(client, json.dumps(envelope, ensure_ascii=False).encode(), headers).status_code == 400

    # Encrypted with another APIv3 key (signature fine, resource does not decrypt).
    other = fakemod.Fake(env.keys, [])
    other.apiv3_key = b"0" * 32
    obody, oheaders = other._wechat_notification(_trade(purchase))
    assert _wechat_post(client, obody, oheaders).status_code == 400

    # Genuine, but for another amount.
    wbody, wheaders = fake._wechat_notification(_trade(purchase, amount_fen=49_999))
    assert _wechat_post(client, wbody, wheaders).status_code == 400

    assert balances(m) == (0, 0)
    assert list(PaymentNotification.objects.order_by("pk").values_list("result", flat=True)) == [
        "bad_signature",
        "bad_signature",
        "bad_signature",
        "amount_mismatch",
    ]
    for _ in range(2):
        assert _wechat_post(client, body, headers).status_code == 200
    assert balances(m) == (50_000, 5_000)
    assert results(purchase.out_trade_no)[-2:] == ["credited", "duplicate"]


def test_unknown_provider_and_get_are_refused(env, client):
    assert client.post("/pay/notify/paypal", data=b"x", content_type="text/plain").status_code == 404
    assert client.get("/pay/notify/alipay").status_code == 405


def test_payment_for_a_wallet_closed_meanwhile_is_logged_not_acknowledged(env, client):
    from laoke.cards.wallet import wallet_close

    m, pkg = member(), package_500()
    purchase, _ = package_purchase_start(
        member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL
    )
    wallet_close(
        member=m,
        confirm_name="充值会员",
        confirm_mobile="13800001111",
        confirm_account=m.code,
        policy="refund",
        confirmed_via="in_person",
    )
    params = _alipay_params(fakemod.Fake(env.keys, []), _trade(purchase))
    assert _alipay_post(client, params).content == b"failure"  # the provider will retry; support sees why
    assert results(purchase.out_trade_no) == ["failed"]
    purchase.refresh_from_db()
    assert purchase.state == "created" and purchase.last_error == "notification: WALLET_CLOSED"
    assert balances(m) == (0, 0)
