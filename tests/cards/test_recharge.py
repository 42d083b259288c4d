"""Recharge with number + PIN: value into the wallet, the card void for ever, lockout after five
wrong PINs (the sixth refused even with the right PIN), rate limits, bad input writes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection

from laoke.cards import pins
from laoke.cards.models import Card, CardEvent
from laoke.cards.services import card_cancel, card_recharge, card_unlock, cards_tick
from laoke.cards.wallet import wallet_account, wallet_close
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry, RateLimitBucket
from laoke.ledger.models import Transfer
from laoke.ledger.services import ledger_check
from laoke.members.services import group_account_create, member_create
from laoke.stats.models import MemberStats
from tests.cards.helpers import card_of, issue


@pytest.fixture
def member(db):
    return member_create(name="储值会员", mobile="13800005555")


def _wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**8:08d}"


def _code(fn) -> str:
    with pytest.raises(DomainError) as exc:
        fn()
    return exc.value.code


def test_recharge_moves_face_value_and_voids_the_card(member):
    _, codes = issue(face_value_fen=50_000, count=2)
    number, pin = next(iter(codes.items()))
    card = card_recharge(number=number, pin=pin, member=member, channel="h5", ip="10.0.0.1")
    assert card.state == "redeemed" and card.redeemed_member_id == member.pk
    assert card.redeemed_channel == "h5" and card.redeemed_at is not None
    assert wallet_account(member).balance == 50_000
    t = Transfer.objects.get(pk=card.redeem_transfer_id)
    assert (t.amount, t.reason, t.reference, t.idempotency_key) == (
        50_000,
        "card_recharge",
        number,
        f"card_recharge:{card.pk}",
    )
    assert t.debit.code == "card_float"
    assert MemberStats.objects.get(member=member).recharge_total_fen == 50_000
    assert AuditEntry.objects.filter(action="card.recharge", object_id=str(card.pk)).count() == 1
    assert CardEvent.objects.filter(card=card, action="redeemed", channel="h5", member=member).count() == 1
    assert card.failed_pin_count == 0
    # Void for ever: the same number and PIN again is refused and nothing moves.
    assert _code(lambda: card_recharge(number=number, pin=pin, member=member)) == "CARD_ALREADY_REDEEMED"
    assert wallet_account(member).balance == 50_000
    assert card_of(number).failed_pin_count == 0  # a right PIN is no failure
    assert ledger_check().ok


def test_group_account_recharges(db):
    group = group_account_create(name="某某公司")
    _, codes = issue(face_value_fen=200_000, count=1)
    number, pin = next(iter(codes.items()))
    card_recharge(number=number, pin=pin, group_account=group)
    assert wallet_account(group_account=group).balance == 200_000


def test_sixth_attempt_refused_even_with_the_right_pin(member):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    outcomes = [_code(lambda: card_recharge(number=number, pin=_wrong(pin), member=member)) for _ in range(5)]
    assert outcomes == ["CARD_CREDENTIALS_INVALID"] * 4 + ["CARD_LOCKED"]
    card = card_of(number)
    assert card.failed_pin_count == 5 and card.locked_at is not None
    assert _code(lambda: card_recharge(number=number, pin=pin, member=member)) == "CARD_LOCKED"
    assert card_of(number).state == "activated" and wallet_account(member).balance == 0
    assert CardEvent.objects.filter(card=card, action="pin_failed").count() == 5
    assert CardEvent.objects.filter(card=card, action="locked").count() == 1
    # Unlock (audited), then the right PIN works.
    card_unlock(card_id=card.pk, reason="持卡人出示购卡凭证")
    assert AuditEntry.objects.filter(action="card.unlock", object_id=str(card.pk)).count() == 1
    card_recharge(number=number, pin=pin, member=member)
    assert wallet_account(member).balance == 50_000


def test_attempts_left_is_reported(member):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    with pytest.raises(DomainError) as exc:
        card_recharge(number=number, pin=_wrong(pin), member=member)
    assert exc.value.details["attempts_left"] == 4


def test_unlock_refuses_an_unlocked_card_and_needs_a_reason(member):
    _, codes = issue(count=1)
    card = card_of(next(iter(codes)))
    assert _code(lambda: card_unlock(card_id=card.pk, reason="x")) == "CARD_NOT_LOCKED"
    assert _code(lambda: card_unlock(card_id=card.pk, reason=" ")) == "CARD_REASON_REQUIRED"
    assert not AuditEntry.objects.filter(action="card.unlock").exists()


@pytest.mark.django_db(transaction=True)
def test_failure_is_committed_in_its_own_transaction():
    """No outer test transaction here: what the service left behind is what a new connection sees."""
    member = member_create(name="甲", mobile="13800005556")
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    with pytest.raises(DomainError):
        card_recharge(number=number, pin=_wrong(pin), member=member)
    connection.close()  # a fresh connection: only committed rows
    assert Card.objects.get(number=number).failed_pin_count == 1
    assert CardEvent.objects.filter(card__number=number, action="pin_failed").count() == 1


def test_refuses_to_run_inside_a_callers_transaction(member):
    from django.db import transaction

    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    with pytest.raises(RuntimeError), transaction.atomic():
        card_recharge(number=number, pin=pin, member=member)


def test_unknown_number_answers_like_a_wrong_pin_and_mistyped_numbers_cost_nothing(member):
    body = "9" + "1" * 14
    unknown = body + pins.luhn_digit(body)
    assert (
        _code(lambda: card_recharge(number=unknown, pin="12345678", member=member))
        == "CARD_CREDENTIALS_INVALID"
    )
    mistyped = body + str((int(pins.luhn_digit(body)) + 1) % 10)
    assert (
        _code(lambda: card_recharge(number=mistyped, pin="12345678", member=member)) == "CARD_NUMBER_INVALID"
    )
    # Only the unknown number counted against the member.
    assert RateLimitBucket.objects.filter(key=f"card_pin:owner:m{member.pk}").get().count == 1


def test_per_member_and_per_ip_limits(member, settings):
    settings.LAOKE = {**settings.LAOKE, "CARD_PIN_FAILURES_PER_MEMBER": 3, "CARD_PIN_FAILURES_PER_IP": 5}
    _, codes = issue(count=6)
    items = list(codes.items())
    for number, pin in items[:3]:  # three different cards, one wrong PIN each
        assert _code(lambda n=number, p=pin: card_recharge(number=n, pin=_wrong(p), member=member)) == (
            "CARD_CREDENTIALS_INVALID"
        )
    number, pin = items[3]
    # The member is limited now, even with a right PIN on a fresh card.
    assert _code(lambda: card_recharge(number=number, pin=pin, member=member)) == "RATE_LIMITED"
    assert card_of(number).failed_pin_count == 0  # refused before any attempt on the card
    other = member_create(name="乙", mobile="13800005557")
    for number, pin in items[3:5]:
        card_recharge_fail = lambda n=number, p=pin: card_recharge(  # noqa: E731
            number=n, pin=_wrong(p), member=other, ip="10.9.9.9"
        )
        assert _code(card_recharge_fail) == "CARD_CREDENTIALS_INVALID"
    third = member_create(name="丙", mobile="13800005558")
    for number, pin in items[:1]:
        card_recharge(number=number, pin=pin, member=third, ip="10.9.9.9")  # IP at 2 failures: fine
    number, pin = items[5]
    for _ in range(3):  # the IP reaches 5 failures
        _code(lambda: card_recharge(number=number, pin=_wrong(pin), member=third, ip="10.9.9.9"))
    fourth = member_create(name="戊", mobile="13800005560")  # a fresh member, the limited IP
    assert (
        _code(lambda: card_recharge(number=number, pin=pin, member=fourth, ip="10.9.9.9")) == "RATE_LIMITED"
    )
    card_recharge(number=number, pin=pin, member=fourth, ip="10.1.1.1")  # another till: fine
    assert wallet_account(third).balance == 50_000 and wallet_account(fourth).balance == 50_000


@pytest.mark.parametrize(
    ("state_change", "code"),
    [("none", "CARD_NOT_ACTIVATED"), ("cancel", "CARD_CANCELLED"), ("expire", "CARD_EXPIRED")],
)
def test_card_states_refuse_recharge(member, state_change, code):
    batch, codes = issue(
        count=1, activate=state_change != "none", expires_on=clock.today() + timedelta(days=30)
    )
    number, pin = next(iter(codes.items()))
    if state_change == "cancel":
        card_cancel(batch=batch, first_serial=1, last_serial=1, reason="丢失")
    if state_change == "expire":
        report = cards_tick(clock.now() + timedelta(days=31))
        assert report.expired == 1 and card_of(number).state == "expired"
    assert _code(lambda: card_recharge(number=number, pin=pin, member=member)) == code
    assert wallet_account(member).balance == 0
    assert card_of(number).failed_pin_count == 0


def test_an_activated_card_past_its_date_is_refused_before_the_tick(member):
    _, codes = issue(count=1, expires_on=clock.today() + timedelta(days=1))
    number, pin = next(iter(codes.items()))
    with clock.frozen(clock.now() + timedelta(days=3)):
        assert _code(lambda: card_recharge(number=number, pin=pin, member=member)) == "CARD_EXPIRED"


def test_experience_card_once_per_member(member):
    b1, c1 = issue(face_value_fen=10_000, count=1, kind="experience", activate=False)
    assert b1.sale_price_fen == 9_000  # seed 003: 100元 of value for 90元
    from laoke.cards.services import card_activate

    card_activate(batch=b1, first_serial=1, last_serial=1, member=member)
    b2, c2 = issue(face_value_fen=10_000, count=2, kind="experience", activate=False)
    assert _code(lambda: card_activate(batch=b2, first_serial=1, last_serial=1, member=member)) == (
        "CARD_EXPERIENCE_ONCE"
    )
    assert _code(lambda: card_activate(batch=b2, first_serial=1, last_serial=2, member=member)) == (
        "CARD_EXPERIENCE_NEEDS_MEMBER"
    )
    number, pin = next(iter(c1.items()))
    card_recharge(number=number, pin=pin, member=member)
    other = member_create(name="丁", mobile="13800005559")
    card_activate(batch=b2, first_serial=1, last_serial=1, member=other)
    n2 = Card.objects.get(batch=b2, serial=1).number
    # A second experience card cannot be recharged into the same member's wallet either.
    assert _code(lambda: card_recharge(number=n2, pin=c2[n2], member=member)) == "CARD_EXPERIENCE_ONCE"
    assert wallet_account(member).balance == 10_000


def test_closed_wallet_takes_no_recharge(member):
    _, codes = issue(count=1)
    wallet_close(
        member=member,
        confirm_name="储值会员",
        confirm_mobile="13800005555",
        confirm_account=member.code,
        policy="refund",
        confirmed_via="in_person",
    )
    number, pin = next(iter(codes.items()))
    assert _code(lambda: card_recharge(number=number, pin=pin, member=member)) == "WALLET_CLOSED"
    assert card_of(number).state == "activated" and card_of(number).failed_pin_count == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"number": "", "pin": "1"}, "CARD_NUMBER_INVALID"),
        ({"number": "abc", "pin": "1"}, "CARD_NUMBER_INVALID"),
        ({"number": "91234567890123456789", "pin": "1"}, "CARD_NUMBER_INVALID"),
        ({"channel": "fax"}, "CARD_CHANNEL_INVALID"),
        ({"member": None}, "CARD_RECHARGE_OWNER"),
    ],
)
def test_bad_input_writes_nothing(member, kwargs, code):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    args = {"number": number, "pin": pin, "member": member, **kwargs}
    before = (Transfer.objects.count(), CardEvent.objects.count(), AuditEntry.objects.count())
    assert _code(lambda: card_recharge(**args)) == code
    assert (Transfer.objects.count(), CardEvent.objects.count(), AuditEntry.objects.count()) == before
    assert card_of(number).failed_pin_count == 0


def test_tick_expires_in_chunks_and_is_idempotent(db, monkeypatch):
    from laoke.cards import services

    monkeypatch.setattr(services, "CHUNK", 2)
    issue(count=5, expires_on=date.today() + timedelta(days=10))
    later = clock.now() + timedelta(days=12)
    assert cards_tick(later).expired == 5
    assert cards_tick(later).expired == 0
    assert CardEvent.objects.filter(action="expired").count() == 5


def test_a_malformed_ip_is_ignored(member):
    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    assert _code(lambda: card_recharge(number=number, pin=_wrong(pin), member=member, ip="not-an-ip")) == (
        "CARD_CREDENTIALS_INVALID"
    )
    assert CardEvent.objects.get(action="pin_failed").ip is None
