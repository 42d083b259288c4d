"""The cards API: recharge with Idempotency-Key, batches and the one-time file, card status,
unlock, wallet balance/history/close; bad input is a 4xx with its code and writes nothing."""

from __future__ import annotations

import pytest
from django.test import TestCase

from laoke.cards.models import Card, CardBatch, CardEvent, WalletClosure
from laoke.core.models import AuditEntry, IdempotencyRecord
from laoke.ledger.models import Transfer
from laoke.members.services import member_create
from tests.cards.helpers import issue, read_pin_file

J = "application/json"
K = "/api/v1/cards"


@pytest.fixture
def member(db):
    return member_create(name="接口会员", mobile="13800007777")


@pytest.fixture
def till(api):
    return api("cashier")


def _wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**8:08d}"


def _counts():
    return (
        Transfer.objects.count(),
        CardEvent.objects.count(),
        AuditEntry.objects.count(),
        IdempotencyRecord.objects.count(),
        CardBatch.objects.count(),
        WalletClosure.objects.count(),
    )


def test_recharge_needs_an_idempotency_key_and_replays(till, member):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    body = {"number": number, "pin": pin, "member_id": member.pk}
    before = _counts()
    r = till.post(f"{K}/recharge", body, content_type=J)
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert _counts() == before and Card.objects.get(number=number).failed_pin_count == 0
    r1 = till.post(f"{K}/recharge", body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r1.status_code == 200, r1.content
    data = r1.json()
    assert data["amount_fen"] == 50_000 and data["balance_fen"] == 50_000 and data["channel"] == "api"
    r2 = till.post(f"{K}/recharge", body, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r2.status_code == 200 and r2.json() == data
    assert Transfer.objects.filter(reason="card_recharge").count() == 1
    r3 = till.post(f"{K}/recharge", {**body, "pin": _wrong(pin)}, content_type=J, HTTP_IDEMPOTENCY_KEY="k1")
    assert r3.status_code == 409 and r3.json()["code"] == "IDEMPOTENCY_CONFLICT"
    r4 = till.post(f"{K}/recharge", body, content_type=J, HTTP_IDEMPOTENCY_KEY="k2")
    assert r4.status_code == 409 and r4.json()["code"] == "CARD_ALREADY_REDEEMED"
    # The stored request hash is of a keyed fingerprint, never the PIN.
    assert not IdempotencyRecord.objects.filter(request_hash__contains=pin).exists()


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"number": "1234"}, 422, "CARD_NUMBER_INVALID"),
        ({"member_id": None}, 422, "CARD_RECHARGE_OWNER"),
        ({"member_id": 999_999}, 404, "NOT_FOUND"),
        ({"channel": "fax"}, 422, "VALIDATION_ERROR"),
        ({"pin": ""}, 422, "VALIDATION_ERROR"),
        ({"pin": "1" * 33}, 422, "VALIDATION_ERROR"),
        ({"wrong": True}, 422, "CARD_CREDENTIALS_INVALID"),
    ],
)
def test_recharge_bad_input(till, member, patch, status, code):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    body = {"number": number, "pin": pin, "member_id": member.pk}
    if patch.pop("wrong", False):
        body["pin"] = _wrong(pin)
    body.update(patch)
    body = {k: v for k, v in body.items() if v is not None}
    before = (Transfer.objects.count(), AuditEntry.objects.count(), IdempotencyRecord.objects.count())
    r = till.post(f"{K}/recharge", body, content_type=J, HTTP_IDEMPOTENCY_KEY="bad-1")
    assert r.status_code == status and r.json()["code"] == code, r.content
    assert (Transfer.objects.count(), AuditEntry.objects.count(), IdempotencyRecord.objects.count()) == before
    assert Card.objects.get(number=number).state == "activated"


def test_locked_card_is_423_and_unlock_by_a_manager(api, till, member):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    for i in range(5):
        till.post(
            f"{K}/recharge",
            {"number": number, "pin": _wrong(pin), "member_id": member.pk},
            content_type=J,
            HTTP_IDEMPOTENCY_KEY=f"w{i}",
        )
    r = till.post(
        f"{K}/recharge",
        {"number": number, "pin": pin, "member_id": member.pk},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="r",
    )
    assert r.status_code == 423 and r.json()["code"] == "CARD_LOCKED"
    status = till.get(f"{K}/cards/{number}").json()
    assert status["locked"] is True and status["state"] == "activated"
    assert till.post(f"{K}/cards/{number}/unlock", {"reason": "x"}, content_type=J).status_code == 403
    manager = api("service_manager")
    r = manager.post(f"{K}/cards/{number}/unlock", {"reason": "本人持身份证到店"}, content_type=J)
    assert r.status_code == 200 and r.json()["locked"] is False
    r = till.post(
        f"{K}/recharge",
        {"number": number, "pin": pin, "member_id": member.pk},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="r2",
    )
    assert r.status_code == 200


def test_error_messages_in_both_languages(api, member):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    body = {"number": number, "pin": _wrong(pin), "member_id": member.pk}
    zh = api("cashier", lang="zh-hans").post(f"{K}/recharge", body, content_type=J, HTTP_IDEMPOTENCY_KEY="z")
    en = api("cashier", lang="en").post(f"{K}/recharge", body, content_type=J, HTTP_IDEMPOTENCY_KEY="e")
    assert zh.json()["message"] == "卡号或密码错误"
    assert en.json()["message"] == "The card number or PIN is wrong"


def test_batch_create_status_download_once_activate(api):
    manager = api("service_manager")
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = manager.post(f"{K}/batches", {"face_value_fen": 20_000, "count": 4}, content_type=J)
    assert r.status_code == 201, r.content
    batch_id = r.json()["id"]
    s = manager.get(f"{K}/batches/{batch_id}").json()
    assert (s["state"], s["generated_count"], s["percent"]) == ("ready", 4, 100.0)
    d1 = manager.post(f"{K}/batches/{batch_id}/download")
    assert d1.status_code == 200 and d1["Cache-Control"] == "no-store"
    assert len(read_pin_file(d1.content)) == 4
    d2 = manager.post(f"{K}/batches/{batch_id}/download")
    assert d2.status_code == 410 and d2.json()["code"] == "BATCH_FILE_GONE"
    r = api("cashier").post(
        f"{K}/batches/{batch_id}/activate",
        {"first_serial": 1, "last_serial": 2},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="a",
    )
    assert r.status_code == 200 and r.json() == {"count": 2}
    r = manager.post(
        f"{K}/batches/{batch_id}/cancel", {"first_serial": 2, "last_serial": 4, "reason": "x"}, content_type=J
    )
    assert r.status_code == 200 and r.json() == {"count": 3}
    r = manager.post(
        f"{K}/batches/{batch_id}/cancel", {"first_serial": 1, "last_serial": 2, "reason": "x"}, content_type=J
    )
    assert r.status_code == 409 and r.json()["code"] == "CARD_RANGE_NOT_AVAILABLE"
    assert Card.objects.filter(batch_id=batch_id, serial=1, state="activated").exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"face_value_fen": 0, "count": 1}, 422, "VALIDATION_ERROR"),
        ({"face_value_fen": 100, "count": 0}, 422, "VALIDATION_ERROR"),
        ({"face_value_fen": 100, "count": 1, "kind": "x"}, 422, "VALIDATION_ERROR"),
        ({"face_value_fen": 100, "count": 1, "sale_price_fen": 200}, 422, "BATCH_SALE_PRICE_INVALID"),
        ({"face_value_fen": 100, "count": 1, "kind": "gift"}, 422, "BATCH_BUYER_INVALID"),
        ({"face_value_fen": 100, "count": 1, "store_id": 999_999}, 404, "NOT_FOUND"),
        ({"face_value_fen": 100, "count": 1, "expires_on": "2000-01-01"}, 422, "BATCH_EXPIRY_INVALID"),
    ],
)
def test_batch_bad_input(api, body, status, code):
    admin = api("admin")
    before = _counts()
    r = admin.post(f"{K}/batches", body, content_type=J)
    assert r.status_code == status and r.json()["code"] == code, r.content
    assert _counts() == before


def test_wallet_balance_history_and_close(api, till, member):
    _, codes = issue(count=1, face_value_fen=10_000)
    number, pin = next(iter(codes.items()))
    till.post(
        f"{K}/recharge",
        {"number": number, "pin": pin, "member_id": member.pk},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="r",
    )
    assert till.get(f"{K}/wallets/{member.pk}").json() == {
        "member_id": member.pk,
        "balance_fen": 10_000,
        "closed": False,
    }
    hist = till.get(f"{K}/wallets/{member.pk}/history").json()
    assert [(i["amount_fen"], i["reason"], i["reference"]) for i in hist["items"]] == [
        (10_000, "card_recharge", number)
    ]
    manager = api("service_manager")
    body = {
        "confirm_name": "接口会员",
        "confirm_mobile": "13800007777",
        "confirm_account": member.code,
        "policy": "forfeit",
        "confirmed_via": "email",
    }
    before = _counts()
    r = manager.post(f"{K}/wallets/{member.pk}/close", body, content_type=J)
    assert r.status_code == 400 and _counts() == before
    r = manager.post(
        f"{K}/wallets/{member.pk}/close",
        {**body, "confirm_mobile": "13800007778"},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="c0",
    )
    assert r.status_code == 422 and r.json()["code"] == "WALLET_CLOSE_CONFIRMATION"
    assert _counts() == before
    r = manager.post(
        f"{K}/wallets/{member.pk}/close",
        {**body, "policy": "keep"},
        content_type=J,
        HTTP_IDEMPOTENCY_KEY="c1",
    )
    assert r.status_code == 422 and _counts() == before
    r = manager.post(f"{K}/wallets/{member.pk}/close", body, content_type=J, HTTP_IDEMPOTENCY_KEY="c2")
    assert r.status_code == 201, r.content
    assert r.json()["balance_fen"] == 10_000 and r.json()["policy"] == "forfeit"
    t = Transfer.objects.get(reason="wallet_close_forfeit")
    assert t.credit.code == "breakage" and t.amount == 10_000
    assert till.get(f"{K}/wallets/{member.pk}").json() == {
        "member_id": member.pk,
        "balance_fen": 0,
        "closed": True,
    }
    r = manager.post(f"{K}/wallets/{member.pk}/close", body, content_type=J, HTTP_IDEMPOTENCY_KEY="c3")
    assert r.status_code == 409 and r.json()["code"] == "WALLET_CLOSED"


def test_card_status_unknown_is_404(till):
    r = till.get(f"{K}/cards/9000000000000000")
    assert r.status_code == 404
