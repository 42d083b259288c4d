"""Login codes under concurrency (PostgreSQL): one right code opens one session however many
requests carry it at once, and concurrent wrong guesses get exactly five comparisons. Each test
has its negative control (the guard switched off must let the race through)."""

from __future__ import annotations

import pytest

from laoke.members.services import member_create
from laoke.portal import services
from laoke.portal.models import LoginCode, MemberSession
from tests.race import pg_threads, race

from .conftest import last_code

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _setup(mobile: str):
    member = member_create(name="并发", mobile=mobile)
    services.login_code_request(mobile=mobile)
    return member, last_code(mobile)


def _same_code_race(mobile):
    _, code = _setup(mobile)
    return race(pg_threads(), lambda i: services.member_login(mobile=mobile, code=code) and "ok")


def test_one_code_opens_one_session():
    results = _same_code_race("13900010001")
    assert results.count("ok") == 1, results
    assert MemberSession.objects.count() == 1


def test_negative_control_unguarded_spend_opens_several(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_SPEND_FOR_TESTS", True)
    results = _same_code_race("13900010002")
    assert results.count("ok") > 1, results


def _guess_race(mobile):
    _, code = _setup(mobile)
    wrong = "000000" if code != "000000" else "111111"
    n = pg_threads()
    return race(n, lambda i: services.member_login(mobile=mobile, code=wrong))


def test_concurrent_guesses_get_five_comparisons():
    results = _guess_race("13900010003")
    assert results.count("LOGIN_CODE_INVALID") == 5, results
    assert results.count("LOGIN_CODE_EXHAUSTED") == len(results) - 5
    assert LoginCode.objects.get().attempts == 5


def test_negative_control_unguarded_attempts_allow_more_guesses(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_ATTEMPTS_FOR_TESTS", True)
    results = _guess_race("13900010004")
    assert results.count("LOGIN_CODE_INVALID") > 5, results
