"""A settlement and a card recharge of one member at the same moment never deadlock (PostgreSQL).

Found by ``make load``: the settlement locked the member row FOR UPDATE and then waited for the
wallet row, which a card recharge had just credited; the recharge's COMMIT ran PostgreSQL's
deferred foreign-key checks, which take FOR KEY SHARE on the member row — blocked by the
settlement. PostgreSQL broke the cycle by killing one of them (a 500 at the till). Member locks
are now FOR NO KEY UPDATE (``laoke.members.locks``), which those checks pass.

The interleaving is forced, not hoped for: the recharge stops after crediting the wallet, inside
its transaction; the settlement starts and blocks on the wallet row; then the recharge commits.
Negative control: with the old FOR UPDATE (``locks.NO_KEY = False``) the same interleaving
deadlocks.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection

from laoke.cards import recharge as recharge_mod
from laoke.cards.services import card_recharge
from laoke.core import clock
from laoke.members import locks
from laoke.orders import services
from laoke.orders.models import Order
from tests.cards.helpers import issue
from tests.orders.conftest import NOW, Shop
from tests.orders.test_settlement import checkout, wallet

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _blocked_on_a_lock(pid_holder: dict, timeout: float = 10.0) -> bool:
    """Wait until the settlement's backend waits for a lock (it holds the member row by then)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            if "pid" in pid_holder:
                cur.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid_holder["pid"]]
                )
                row = cur.fetchone()
                if row and row[0] == "Lock":
                    return True
            time.sleep(0.05)
    return False


def _interleave(monkeypatch) -> dict:
    clock_cm = clock.frozen(NOW)
    clock_cm.__enter__()
    try:
        shop = Shop()
        m = shop.member(wallet_fen=10_000, points=0)
        _, pins = issue(face_value_fen=5_000, count=1, sold_to=m)
        number, pin = next(iter(pins.items()))
        credited, go = threading.Event(), threading.Event()
        original = recharge_mod._card_redeem

        def paused_redeem(**kw):
            card = original(**kw)  # the wallet row is credited and locked; rows reference the member
            credited.set()
            go.wait(timeout=30)
            return card  # ... and the durable transaction commits when this returns

        monkeypatch.setattr(recharge_mod, "_card_redeem", paused_redeem)
        out: dict = {}
        settle_pid: dict = {}

        def do_recharge():
            try:
                card_recharge(number=number, pin=pin, member=m)
                out["recharge"] = "ok"
            except OperationalError as exc:
                out["recharge"] = "deadlock" if "deadlock" in str(exc) else repr(exc)
            finally:
                connection.close()

        def do_settle():
            credited.wait(timeout=30)
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                settle_pid["pid"] = cur.fetchone()[0]
            try:
                services.order_settle(request=checkout(m, ("TEE", 1), wallet_fen=3_000))
                out["settle"] = "ok"
            except OperationalError as exc:
                out["settle"] = "deadlock" if "deadlock" in str(exc) else repr(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=do_recharge), threading.Thread(target=do_settle)]
        for t in threads:
            t.start()
        out["settlement_blocked"] = _blocked_on_a_lock(settle_pid)
        go.set()
        for t in threads:
            t.join(timeout=60)
        out["member"] = m
        return out
    finally:
        clock_cm.__exit__(None, None, None)


def test_a_settlement_and_a_recharge_of_one_member_both_go_through(monkeypatch):
    out = _interleave(monkeypatch)
    assert out["settlement_blocked"], "the settlement never waited for the recharge: no interleaving forced"
    assert (out["recharge"], out["settle"]) == ("ok", "ok"), out
    assert Order.objects.filter(member=out["member"]).count() == 1
    # 10,000 + the 5,000 card − 3,000 paid from the wallet, both applied exactly once
    assert wallet(out["member"]) == 12_000


def test_negative_control_for_update_member_locks_deadlock(monkeypatch):
    monkeypatch.setattr(locks, "NO_KEY", False)
    out = _interleave(monkeypatch)
    assert out["settlement_blocked"]
    assert "deadlock" in (out["recharge"], out["settle"]), out
