"""Batches: generation in chunks with progress, resumption after a crash, the one-time PIN file,
sale and cancellation of serial ranges, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase

from laoke.cards import batches, pins
from laoke.cards.models import Card, CardBatch, CardEvent
from laoke.cards.services import (
    card_activate,
    card_batch_create,
    card_batch_download,
    card_batch_generate,
    card_cancel,
    cards_presets_install,
)
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.services import group_account_create, member_create
from tests.cards.helpers import issue, read_pin_file


def _code(fn) -> str:
    with pytest.raises(DomainError) as exc:
        fn()
    return exc.value.code


def test_generation_in_chunks_with_progress_and_a_one_time_file(db, monkeypatch):
    monkeypatch.setattr(batches, "CHUNK", 4)
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch = card_batch_create(face_value_fen=100_000, count=10)
    batch.refresh_from_db()
    assert (batch.state, batch.generated_count, batch.chunks_done) == ("ready", 10, 3)
    assert sorted(Card.objects.filter(batch=batch).values_list("chunk", flat=True).distinct()) == [0, 1, 2]
    assert list(Card.objects.filter(batch=batch).order_by("serial").values_list("serial", flat=True)) == list(
        range(1, 11)
    )
    path = batches.batch_file_path(batch)
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    assert not list(batches.pin_dir().glob(f"{batch.job_id}.chunk*"))  # chunk files are gone
    name, data = card_batch_download(batch_id=batch.pk)
    assert name.endswith(".xlsx")
    codes = read_pin_file(data)
    assert len(codes) == 10
    for card in Card.objects.filter(batch=batch):
        assert pins.number_valid(card.number)
        assert pins.check_pin(codes[card.number], card.pin_hash)
        assert card.pin_hash.startswith("scrypt$") and codes[card.number] not in card.pin_hash
    assert not path.exists()
    batch.refresh_from_db()
    assert batch.state == "downloaded" and batch.downloaded_at is not None
    assert _code(lambda: card_batch_download(batch_id=batch.pk)) == "BATCH_FILE_GONE"
    assert AuditEntry.objects.filter(action="card_batch.download", object_id=str(batch.pk)).count() == 1


def test_a_crash_mid_batch_resumes_and_every_committed_card_has_its_pin(db, monkeypatch):
    monkeypatch.setattr(batches, "CHUNK", 3)
    monkeypatch.setattr(
        batches.settings, "LAOKE", {**batches.settings.LAOKE, "CARDS_GENERATE_ON_COMMIT": False}
    )
    batch = card_batch_create(face_value_fen=20_000, count=8)
    real = batches._generate_chunk
    calls = []

    def crash_on_second(b, chunk):
        calls.append(chunk)
        if chunk == 1 and calls.count(1) == 1:
            raise OSError("disk full")
        return real(b, chunk)

    monkeypatch.setattr(batches, "_generate_chunk", crash_on_second)
    with pytest.raises(OSError):
        card_batch_generate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.state, batch.chunks_done, batch.generated_count) == ("generating", 1, 3)
    assert "disk full" in batch.error
    card_batch_generate(batch_id=batch.pk)  # the job again (cards_tick re-enqueues quiet jobs)
    batch.refresh_from_db()
    assert (batch.state, batch.generated_count, batch.error) == ("ready", 8, "")
    codes = read_pin_file(card_batch_download(batch_id=batch.pk)[1])
    assert len(codes) == 8
    for card in Card.objects.filter(batch=batch):
        assert pins.check_pin(codes[card.number], card.pin_hash)


def test_tick_resumes_a_quiet_job(db, monkeypatch):
    from laoke.cards import services

    monkeypatch.setattr(
        batches.settings, "LAOKE", {**batches.settings.LAOKE, "CARDS_GENERATE_ON_COMMIT": False}
    )
    batch = card_batch_create(face_value_fen=20_000, count=2)
    monkeypatch.setattr(
        batches.settings, "LAOKE", {**batches.settings.LAOKE, "CARDS_GENERATE_ON_COMMIT": True}
    )
    assert services.cards_tick(clock.now()).resumed == []  # not quiet yet
    report = services.cards_tick(clock.now() + timedelta(minutes=11))
    assert report.resumed == [batch.pk]
    batch.refresh_from_db()
    assert batch.state == "ready"


def test_download_before_ready(db, monkeypatch):
    monkeypatch.setattr(
        batches.settings, "LAOKE", {**batches.settings.LAOKE, "CARDS_GENERATE_ON_COMMIT": False}
    )
    batch = card_batch_create(face_value_fen=20_000, count=2)
    assert _code(lambda: card_batch_download(batch_id=batch.pk)) == "BATCH_NOT_READY"
    assert _code(lambda: card_batch_download(batch_id=999_999)) == "NOT_FOUND"
    assert _code(lambda: card_activate(batch=batch, first_serial=1, last_serial=1)) == "BATCH_NOT_READY"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"face_value_fen": 0}, "BATCH_AMOUNT_INVALID"),
        ({"face_value_fen": -100}, "BATCH_AMOUNT_INVALID"),
        ({"face_value_fen": 1.5}, "BATCH_AMOUNT_INVALID"),
        ({"count": 0}, "BATCH_COUNT_INVALID"),
        ({"count": 100_001}, "BATCH_COUNT_INVALID"),
        ({"sale_price_fen": 60_000}, "BATCH_SALE_PRICE_INVALID"),
        ({"sale_price_fen": -1}, "BATCH_SALE_PRICE_INVALID"),
        ({"kind": "bogus"}, "BATCH_KIND_INVALID"),
        ({"kind": "gift"}, "BATCH_BUYER_INVALID"),
        ({"kind": "welfare", "buyer_company": "某公司"}, "BATCH_BUYER_INVALID"),
        ({"expires_on": "today"}, "BATCH_EXPIRY_INVALID"),
        ({"purpose": "x" * 201}, "FIELD_TOO_LONG"),
    ],
)
def test_bad_batch_input_writes_nothing(db, kwargs, code):
    if kwargs.get("expires_on") == "today":
        kwargs = {**kwargs, "expires_on": clock.today()}
    args = {"face_value_fen": 50_000, "count": 3, **kwargs}
    assert _code(lambda: card_batch_create(**args)) == code
    assert not CardBatch.objects.exists() and not AuditEntry.objects.exists()


def test_company_welfare_batch_records_buyer_and_purpose(db):
    group = group_account_create(name="某某公司")
    batch, _ = issue(
        face_value_fen=50_000,
        count=3,
        kind="welfare",
        buyer_group=group,
        buyer_company="某某公司",
        purpose="中秋职工福利",
    )
    assert set(Card.objects.filter(batch=batch).values_list("sold_to_group", "purpose")) == {
        (group.pk, "中秋职工福利")
    }
    assert CardEvent.objects.filter(card__batch=batch, action="activated").count() == 3


def test_activation_ranges_are_all_or_nothing(db):
    batch, _ = issue(count=6, activate=False)
    assert card_activate(batch=batch, first_serial=2, last_serial=3) == 2
    assert (
        _code(lambda: card_activate(batch=batch, first_serial=1, last_serial=4)) == "CARD_RANGE_NOT_AVAILABLE"
    )
    assert Card.objects.filter(batch=batch, state="activated").count() == 2
    assert _code(lambda: card_activate(batch=batch, first_serial=0, last_serial=2)) == "CARD_RANGE_INVALID"
    assert _code(lambda: card_activate(batch=batch, first_serial=5, last_serial=7)) == "CARD_RANGE_INVALID"
    assert _code(lambda: card_activate(batch=batch, first_serial=4, last_serial=3)) == "CARD_RANGE_INVALID"
    assert (
        _code(lambda: card_cancel(batch=batch, first_serial=1, last_serial=1, reason=""))
        == "CARD_REASON_REQUIRED"
    )
    assert card_cancel(batch=batch, first_serial=1, last_serial=3, reason="库存丢失") == 3
    assert _code(lambda: card_cancel(batch=batch, first_serial=3, last_serial=4, reason="x")) == (
        "CARD_RANGE_NOT_AVAILABLE"
    )
    assert Card.objects.filter(batch=batch, state="cancelled").count() == 3


def test_sale_to_a_member(db):
    member = member_create(name="买卡人", mobile="13800006666")
    batch, _ = issue(count=2, sold_to=member)
    assert set(Card.objects.filter(batch=batch).values_list("sold_to_member", flat=True)) == {member.pk}


def test_presets_install_is_idempotent(db):
    p1 = cards_presets_install()
    p1.low_balance_threshold_fen = 5_000
    p1.save()
    p2 = cards_presets_install()
    assert p1.pk == p2.pk and p2.low_balance_threshold_fen == 5_000  # the operator's value stays
    assert p2.payment_order == ["wallet", "online", "cod"] and p2.wallet_payment_rate_bp == 9_900
    from laoke.cards.wallet import low_balance_threshold_fen, wallet_payment_price

    assert low_balance_threshold_fen() == 5_000
    assert wallet_payment_price(10_050) == 9_950  # 100.50元 × 0.99 = 99.495 → 99.50 (half-up)
