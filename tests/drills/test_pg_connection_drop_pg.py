"""Drill 1: the PostgreSQL connection dies in the middle of a settlement.

A cashier settles an order through the real API path (Django's WSGI handler, so the request
signals run as in production) with an Idempotency-Key. Inside the settlement transaction, after
the points were spent and the wallet debited (ledger postings written, not committed), another
connection runs ``pg_terminate_backend`` on the request's backend. Expected:

- the request ends at once with 503 ``STORAGE_UNAVAILABLE`` (not a hang, not a bare 500);
- the whole transaction is gone: no order, no postings, wallet and points as before, and the
  idempotency record was released (a retry is not blocked by IDEMPOTENCY_IN_PROGRESS);
- the retry with the SAME key on the next request gets a working connection and settles exactly
  once; a second retry replays the stored response and moves nothing.

A second drill kills the persistent connection while it is idle between two requests
(CONN_MAX_AGE=60): the next request must still succeed (``conn_health_checks``).

Negative control: the same balance check fails when the settlement is applied twice.
"""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection

from laoke.cards.selectors import wallet_summary
from laoke.core import clock
from laoke.core.models import IdempotencyRecord
from laoke.core.roles import SCOPES
from laoke.core.services import api_token_create
from laoke.ledger.models import Transfer
from laoke.ledger.services import ledger_check
from laoke.orders import services as order_services
from laoke.orders.models import Order
from laoke.points.models import PointsEarning
from laoke.points.selectors import points_balance
from tests.drills.common import Stopwatch, figure, wsgi_request
from tests.orders.conftest import NOW, Shop

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]

P = "/api/v1/orders"
WALLET, POINTS = 20_000, 500
PAY_WALLET, PAY_POINTS = 1_000, 100


def _killer():
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        autocommit=True,
    )


def _terminate(pid: int) -> None:
    """Terminate backend ``pid`` from another connection and wait until it is gone."""
    with _killer() as k:
        assert k.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True
        deadline = time.monotonic() + 10
        while k.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the backend did not go away"
            time.sleep(0.02)


@pytest.fixture
def setup(staff):
    with clock.frozen(NOW):
        shop = Shop()
        member = shop.member(wallet_fen=WALLET, points=POINTS)
    user = staff("cashier")
    _, secret = api_token_create(user=user, name="drill", scopes=list(SCOPES))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_ACCEPT_LANGUAGE": "en"}
    body = {
        "member_id": member.pk,
        "lines": [{"sku": "TEE", "quantity": 1}],
        "wallet_fen": PAY_WALLET,
        "points": PAY_POINTS,
    }
    return member, headers, body


def _value_check(member, *, settled: int) -> bool:
    """The balances a correct system holds after ``settled`` settlements, computed from the
    seed and the body (not from project helpers), plus the ledger's own recomputation."""
    wallet = wallet_summary(member=member)["balance_fen"]
    spent = POINTS - PAY_POINTS * settled
    earned = sum(PointsEarning.objects.filter(member=member).values_list("points", flat=True))
    points = points_balance(member=member).balance
    return (
        wallet == WALLET - PAY_WALLET * settled
        and points == spent + earned
        and Order.objects.filter(member=member).count() == settled
        and ledger_check().ok
    )


def test_connection_killed_mid_settlement_rolls_back_and_the_same_key_settles_once(setup, monkeypatch):
    member, headers, body = setup
    key = {"HTTP_IDEMPOTENCY_KEY": "drill-pg-1"}
    seen: dict = {}
    original = order_services._stats_add

    def stats_then_die(**kw):
        # Inside the settlement transaction: points spent and wallet debited, not committed.
        seen["postings_before_kill"] = Transfer.objects.count() - before
        seen["pid"] = connection.connection.info.backend_pid
        t0 = time.monotonic()
        _terminate(seen["pid"])
        seen["killed_at"] = time.monotonic()
        seen["kill_took"] = seen["killed_at"] - t0
        return original(**kw)

    wsgi_request("GET", f"{P}?member_id={member.pk}", **headers)  # warm up: URLs, middleware
    monkeypatch.setattr(order_services, "_stats_add", stats_then_die)
    before = Transfer.objects.count()
    with clock.frozen(NOW), Stopwatch() as first:
        status, answer = wsgi_request("POST", P, body, **headers, **key)
    reported_after = time.monotonic() - seen["killed_at"]
    assert seen["postings_before_kill"] >= 2, "the kill must come after ledger postings"
    assert status == 503 and answer["code"] == "STORAGE_UNAVAILABLE", answer
    assert answer["details"]["retryable"] is True
    # Rolled back as a whole, and the key is free again.
    assert Order.objects.count() == 0 and Transfer.objects.count() == before
    assert _value_check(member, settled=0)
    assert not IdempotencyRecord.objects.filter(key="drill-pg-1").exists()

    monkeypatch.setattr(order_services, "_stats_add", original)
    with clock.frozen(NOW), Stopwatch() as retry:
        status, answer = wsgi_request("POST", P, body, **headers, **key)
    assert status == 201, answer
    assert connection.connection.info.backend_pid != seen["pid"], "a new backend serves the retry"
    number = answer["number"]
    with clock.frozen(NOW):
        status2, replay = wsgi_request("POST", P, body, **headers, **key)
    assert (status2, replay) == (201, answer), "the second retry replays the stored response"
    assert Order.objects.count() == 1 and _value_check(member, settled=1)
    assert IdempotencyRecord.objects.get(key="drill-pg-1").state == "done"
    figure("pg-kill", "failed request total (s)", first.seconds)
    figure("pg-kill", "pg_terminate_backend until the backend is gone (s)", seen["kill_took"])
    figure("pg-kill", "kill → error response (s)", reported_after)
    figure("pg-kill", "retry to success (s)", retry.seconds)
    figure("pg-kill", "postings rolled back", seen["postings_before_kill"])
    figure("pg-kill", "orders after kill + 2 retries", Order.objects.count())
    figure("pg-kill", "order", number)

    # Negative control: the same check catches a double application (a second key settles the
    # same cart again, as a client without idempotency would).
    with clock.frozen(NOW):
        status, _ = wsgi_request("POST", P, body, **headers, HTTP_IDEMPOTENCY_KEY="drill-pg-other")
    assert status == 201
    assert not _value_check(member, settled=1)
    assert _value_check(member, settled=2)


def test_an_idle_persistent_connection_killed_between_requests_is_replaced(setup):
    member, headers, body = setup
    with clock.frozen(NOW):
        assert wsgi_request("GET", f"{P}?member_id={member.pk}", **headers)[0] == 200
    assert connection.connection is not None, "CONN_MAX_AGE keeps the connection between requests"
    pid = connection.connection.info.backend_pid
    _terminate(pid)
    with clock.frozen(NOW), Stopwatch() as t:
        status, answer = wsgi_request("POST", P, body, **headers, HTTP_IDEMPOTENCY_KEY="drill-pg-2")
    assert status == 201, answer
    assert connection.connection.info.backend_pid != pid
    assert _value_check(member, settled=1)
    figure("pg-idle-kill", "next request after the kill (s)", t.seconds)
    figure("pg-idle-kill", "requests lost", 0)


def test_negative_control_without_health_checks_the_next_request_fails(setup):
    """Proof the previous drill can fail: with ``conn_health_checks`` off, the dead persistent
    connection is handed to the next request, which fails (cleanly: 503, nothing written)."""
    member, headers, body = setup
    with clock.frozen(NOW):
        assert wsgi_request("GET", f"{P}?member_id={member.pk}", **headers)[0] == 200
    pid = connection.connection.info.backend_pid
    assert connection.health_check_enabled, "settings: conn_health_checks=True"
    connection.health_check_enabled = False  # as if DATABASES had CONN_HEALTH_CHECKS=False
    _terminate(pid)
    with clock.frozen(NOW):
        status, answer = wsgi_request("POST", P, body, **headers, HTTP_IDEMPOTENCY_KEY="drill-pg-3")
    assert status == 503 and answer["code"] == "STORAGE_UNAVAILABLE", answer
    assert _value_check(member, settled=0)


def test_database_still_unreachable_for_the_release_blocks_the_key_only_for_the_lease(setup, monkeypatch):
    """Worse: after the kill the server cannot be reached at all, so the idempotency claim can
    not be released either. The request still answers 503 at once; the key stays claimed and a
    retry meets IDEMPOTENCY_IN_PROGRESS until the claim's lease (IDEMPOTENCY_LEASE_SECONDS) ends,
    then takes the key over and settles once."""
    from django.conf import settings

    from laoke.core import api as core_api
    from tests.live import free_port

    member, headers, body = setup
    key = {"HTTP_IDEMPOTENCY_KEY": "drill-pg-4"}
    original_stats, original_release = order_services._stats_add, core_api.idempotency.release
    port = connection.settings_dict["PORT"]

    def stats_then_die(**kw):
        _terminate(connection.connection.info.backend_pid)
        connection.settings_dict["PORT"] = str(free_port())  # nothing listens there: unreachable
        return original_stats(**kw)

    def release_while_unreachable(claim):
        try:
            return original_release(claim)
        finally:
            connection.settings_dict["PORT"] = port  # the server is back after this request

    monkeypatch.setattr(order_services, "_stats_add", stats_then_die)
    monkeypatch.setattr(core_api.idempotency, "release", release_while_unreachable)
    with clock.frozen(NOW):
        status, answer = wsgi_request("POST", P, body, **headers, **key)
    assert status == 503 and answer["code"] == "STORAGE_UNAVAILABLE", answer
    monkeypatch.setattr(order_services, "_stats_add", original_stats)
    assert _value_check(member, settled=0)
    assert IdempotencyRecord.objects.get(key="drill-pg-4").state == "in_progress"
    with clock.frozen(NOW):
        status, answer = wsgi_request("POST", P, body, **headers, **key)
    assert status == 409 and answer["code"] == "IDEMPOTENCY_IN_PROGRESS", answer
    lease = settings.LAOKE["IDEMPOTENCY_LEASE_SECONDS"]
    with clock.frozen(NOW + timedelta(seconds=lease + 1)):
        status, answer = wsgi_request("POST", P, body, **headers, **key)
        assert status == 201, answer
        assert wsgi_request("POST", P, body, **headers, **key) == (201, answer)
    assert _value_check(member, settled=1)
    figure("pg-unreachable", "key blocked after the failed request (s, the lease)", lease)
    figure("pg-unreachable", "orders after the lease + 2 retries", Order.objects.count())
