"""PostgreSQL races (tests/race.py), each with its negative control.

- N concurrent recharges of ONE card (each by a different member): exactly one succeeds, one
  credit lands, the card is redeemed once. Negative control: with the card read before the
  transaction, no row lock, no state guard and a per-attempt ledger key (the test-only switch in
  ``laoke.cards.recharge``) several succeed and the card's value is credited several times.
- N concurrent wallet debits together exceeding the balance: the balance never goes negative and
  the successful debits sum to at most the starting balance. Negative control: the ledger's
  read-check-write switch, with the debit's own row lock (taken for the bonus split) removed too,
  loses updates, so more is debited than left the wallet.
- Concurrent downloads of one PIN file: exactly one caller gets it.
"""

from __future__ import annotations

import pytest

from laoke.cards import recharge as recharge_mod
from laoke.cards import wallet
from laoke.cards.models import Card
from laoke.cards.services import card_batch_download, card_recharge
from laoke.cards.wallet import wallet_account, wallet_credit, wallet_debit
from laoke.ledger import services as ledger_services
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import ledger_check
from laoke.members.services import member_create
from tests.cards.helpers import issue
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
FACE = 50_000


def _recharge_race():
    _, codes = issue(face_value_fen=FACE, count=1)
    number, pin = next(iter(codes.items()))
    n = min(pg_threads(), 16)
    members = [member_create(name=f"抢卡{i}", mobile=f"1390000{i:04d}") for i in range(n)]
    results = race(n, lambda i: card_recharge(number=number, pin=pin, member=members[i]).pk)
    successes = [r for r in results if isinstance(r, int)]
    credited = sum(wallet_account(m).balance for m in members)
    return n, successes, results, credited, number


def test_one_card_recharged_concurrently_credits_once():
    n, successes, results, credited, number = _recharge_race()
    assert len(results) == n
    assert len(successes) == 1, results
    assert credited == FACE
    assert set(results) - set(successes) <= {"CARD_ALREADY_REDEEMED", "CARD_LOCKED"}
    card = Card.objects.get(number=number)
    assert card.state == "redeemed" and card.failed_pin_count == 0  # right PINs are no failures
    assert Transfer.objects.filter(reason="card_recharge").count() == 1
    assert ledger_check().ok


def test_negative_control_unguarded_recharge_credits_twice(monkeypatch):
    monkeypatch.setattr(recharge_mod, "_UNGUARDED_FOR_TESTS", True)
    _, successes, results, credited, _ = _recharge_race()
    assert len(successes) > 1, results
    assert credited > FACE


START = 10_000
DEBIT = 1_000


def _debit_race():
    member = member_create(name="扣款会员", mobile="13900009999")
    wallet_credit(member=member, amount_fen=START, key="fund", reason="card_recharge")
    n = pg_threads()
    results = race(
        n, lambda i: wallet_debit(member=member, amount_fen=DEBIT, key=f"order:{i}", reason="order").pk
    )
    successes = sum(1 for r in results if isinstance(r, int))
    balance = Account.objects.get(pk=wallet_account(member).pk).balance
    return n, successes, results, balance


def test_concurrent_debits_never_overdraw():
    n, successes, results, balance = _debit_race()
    assert n * DEBIT > START
    assert balance >= 0
    assert successes * DEBIT <= START
    assert successes == START // DEBIT and balance == 0
    assert results.count("INSUFFICIENT_BALANCE") == n - successes
    assert ledger_check().ok


def test_negative_control_read_check_write_loses_updates(monkeypatch):
    monkeypatch.setattr(ledger_services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(wallet, "_NO_LOCK_FOR_TESTS", True)  # the debit's own row lock (bonus split)
    _, successes, _, balance = _debit_race()
    assert successes * DEBIT > START - balance, "lost updates: more debited than left the wallet"
    assert not ledger_check().ok


def test_concurrent_downloads_give_the_file_once():
    batch, _ = issue(count=2, activate=False, download=False)
    results = race(8, lambda i: len(card_batch_download(batch_id=batch.pk)[1]))
    assert sum(1 for r in results if isinstance(r, int)) == 1
    assert results.count("BATCH_FILE_GONE") == 7


def _guess_race(monkeypatch):
    """N concurrent wrong PINs against one card; counts the PIN checks that actually ran."""
    import threading

    from laoke.cards import pins

    _, codes = issue(count=1)
    number, pin = next(iter(codes.items()))
    member = member_create(name="猜密码", mobile="13900008888")
    checks, lock = [0], threading.Lock()
    real = pins.check_pin

    def counting(p, encoded):
        with lock:
            checks[0] += 1
        return real(p, encoded)

    monkeypatch.setattr(pins, "check_pin", counting)
    n = min(pg_threads(), 16)
    wrong = [f"{(int(pin) + 1 + i) % 10**8:08d}" for i in range(n)]
    results = race(n, lambda i: card_recharge(number=number, pin=wrong[i], member=member).pk)
    return n, checks[0], results, Card.objects.get(number=number)


def test_concurrent_guesses_get_five_pin_checks_at_most(monkeypatch):
    from laoke.cards.models import CardEvent

    n, checks, results, card = _guess_race(monkeypatch)
    assert n > 5
    assert checks == 5, results
    assert card.failed_pin_count == 5 and card.locked_at is not None
    assert set(results) <= {"CARD_CREDENTIALS_INVALID", "CARD_LOCKED"}
    assert results.count("CARD_LOCKED") >= n - 5 + 1
    assert CardEvent.objects.filter(card=card, action="pin_failed").count() == 5
    assert CardEvent.objects.filter(card=card, action="locked").count() == 1


def test_negative_control_read_check_write_attempts_let_more_guesses_through(monkeypatch):
    monkeypatch.setattr(recharge_mod, "_UNGUARDED_ATTEMPTS_FOR_TESTS", True)
    _, checks, _, _ = _guess_race(monkeypatch)
    assert checks > 5, "lost updates on the attempt counter: more than five PINs were tried"


def _close_race():
    from laoke.cards.wallet import wallet_close

    member = member_create(name="销卡竞争", mobile="13900007777")
    wallet_credit(member=member, amount_fen=START, key="fund-close", reason="card_recharge")
    n = min(pg_threads(), 16)

    def step(i):
        if i == 0:
            return wallet_close(
                member=member,
                confirm_name="销卡竞争",
                confirm_mobile="13900007777",
                confirm_account=member.code,
                policy="refund",
                confirmed_via="in_person",
            ).balance_fen
        return wallet_credit(member=member, amount_fen=100, key=f"late:{i}", reason="top_up").pk

    results = race(n, step)
    return member, results


def test_no_credit_lands_in_a_closed_wallet():
    member, results = _close_race()
    from laoke.cards.models import WalletClosure

    assert Account.objects.get(pk=wallet_account(member).pk).balance == 0
    closure = WalletClosure.objects.get(member=member)
    credits = sum(1 for r in results if isinstance(r, int)) - 1  # the closer returned an int too
    assert set(r for r in results if not isinstance(r, int)) <= {"WALLET_CLOSED"}
    # Every credit that succeeded committed before the closing and was closed with the rest.
    assert closure.balance_fen == START + 100 * credits
    assert ledger_check().ok


def test_negative_control_without_the_second_look_money_lands_after_closing(monkeypatch):
    from laoke.cards import wallet

    monkeypatch.setattr(wallet, "_NO_RECHECK_FOR_TESTS", True)
    member, _ = _close_race()
    assert Account.objects.get(pk=wallet_account(member).pk).balance > 0
