"""Drill 2: Redis (the Huey queue) goes down under the worker: sends wait, nothing is lost.

Our own ``redis-server`` on a free loopback port (no persistence, so a restart loses the queue,
the worst case) and a ``huey.RedisHuey`` on it, configured as settings.py does for ``REDIS_URL``;
the product's dispatcher tasks (``laoke.messaging.tasks``) are bound to it for the drill.

1. Redis up, no worker: 10 messages are enqueued; their kick waits in Redis.
2. Redis stopped: the queued kick is lost with it. Three cashiers settle orders that take
   their members' wallets below the low-balance threshold (a transactional SMS each), and 10 more
   messages are enqueued: every request answers 201, no exception escapes (the kick's failure
   is logged), the outbox rows stay ``waiting``.
3. Redis restarted (empty), a Huey consumer started (worker threads), the every-minute dispatch
   enqueued as the scheduler does: every one of the 23 messages goes out exactly once.

Then a frozen Redis (SIGSTOP: the port accepts, nothing answers). With settings.py's
configuration (``url`` only) redis-py 8's default socket timeouts (5 s) bound the kick: the
request that enqueued the message answers about 5 s late, the row waits. Negative control: with
no socket timeout (redis-py < 6, or ``socket_timeout=None``) the request hangs for as long as
Redis stays frozen — which is why the timeouts are worth pinning in REDIS_URL
(``?socket_connect_timeout=2&socket_timeout=5``).

Negative control: the exactly-once check fails on an outbox file with one line duplicated, and
the "nothing lost" check fails when a message is missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import pytest
import redis
from django.db import connection
from huey import RedisHuey

from laoke.core import clock
from laoke.members.services import member_create
from laoke.messaging import tasks
from laoke.messaging.models import Message
from laoke.messaging.services import message_enqueue
from tests.drills.common import Stopwatch, figure
from tests.live import free_port
from tests.orders.conftest import NOW, Shop

pytestmark = pytest.mark.django_db(transaction=True)


class RedisProcess:
    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        while True:
            try:
                client.ping()
                return time.monotonic() - t0
            except redis.ConnectionError:
                assert time.monotonic() - t0 < 10, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.stop()


def _bind(monkeypatch, huey: RedisHuey) -> None:
    """Point the product's dispatcher tasks at ``huey`` (settings.py builds the same RedisHuey
    from REDIS_URL; the test settings use an immediate in-memory Huey)."""
    for wrapper in (tasks.messaging_dispatch, tasks.messaging_dispatch_periodic):
        monkeypatch.setattr(wrapper, "huey", huey)
        huey._registry.register(wrapper.task_class)


def _outbox_counts(data_dir) -> Counter:
    path = data_dir / "outbox" / "sms.jsonl"
    if not path.exists():
        return Counter()
    return Counter(json.loads(line)["purpose"] for line in path.read_text().splitlines() if line.strip())


def _exactly_once(counts: Counter, purposes: set[str]) -> bool:
    return set(counts) == purposes and all(n == 1 for n in counts.values())


def test_redis_down_sends_wait_and_nothing_is_lost(redis_server, settings, tmp_path, monkeypatch, api):
    settings.DATA_DIR = tmp_path
    huey = RedisHuey("laoke-drill", url=redis_server.url, immediate=False)
    _bind(monkeypatch, huey)
    with clock.frozen(NOW):
        shop = Shop()
        members = [member_create(name=f"演练{i}", mobile=f"1390000{i:04d}") for i in range(20)]
        payers = [shop.member(mobile=f"1370000{i:04d}", wallet_fen=2_500, points=0) for i in range(3)]
    cashier = api("cashier")
    assert cashier.get("/api/v1/orders").status_code == 200  # warm up (URLs, middleware)
    purposes: set[str] = set()

    # 1. Redis up, no worker running: the kick waits in the queue.
    with clock.frozen(NOW):
        for m in members[:10]:
            message_enqueue(
                purpose=f"drill:{m.pk}", member=m, channel="sms", kind="transactional", body="演练一"
            )
            purposes.add(f"drill:{m.pk}")
    queued_kicks = huey.pending_count()
    assert queued_kicks >= 1

    # 2. Redis down: the queue is lost; writes go on and their messages wait as rows.
    redis_server.stop()
    down_at = time.monotonic()
    slowest = {"settle": 0.0, "enqueue": 0.0}
    with clock.frozen(NOW):
        for i, m in enumerate(payers):
            with Stopwatch() as t:
                r = cashier.post(
                    "/api/v1/orders",
                    {"member_id": m.pk, "lines": [{"sku": "SALE", "quantity": 1}], "wallet_fen": 1_000},
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=f"drill-redis-{i}",
                )
            slowest["settle"] = max(slowest["settle"], t.seconds)
            assert r.status_code == 201, r.content
        for m in members[10:]:
            with Stopwatch() as t:
                message_enqueue(
                    purpose=f"drill:{m.pk}", member=m, channel="sms", kind="transactional", body="演练二"
                )
            slowest["enqueue"] = max(slowest["enqueue"], t.seconds)
            purposes.add(f"drill:{m.pk}")
    low_balance = set(
        Message.objects.filter(purpose__startswith="low_balance:").values_list("purpose", flat=True)
    )
    assert len(low_balance) == 3, "each settlement crossed the threshold: one reminder each"
    purposes |= low_balance
    assert Message.objects.filter(state="waiting").count() == len(purposes) == 23
    assert _outbox_counts(tmp_path) == Counter()
    with pytest.raises(redis.ConnectionError):  # what the scheduler's own enqueue meets meanwhile
        tasks.messaging_dispatch_periodic()
    figure("redis-down", "slowest settlement (API) while Redis is down (s)", slowest["settle"])
    figure("redis-down", "slowest message_enqueue while Redis is down (s)", slowest["enqueue"])
    figure("redis-down", "messages waiting during the outage", len(purposes))

    # 3. Redis back (empty: the queued kick is gone), a worker starts, the periodic dispatch runs.
    redis_server.start()
    down_for = time.monotonic() - down_at
    assert huey.pending_count() == 0, "no persistence: the kick queued before the outage is lost"
    consumer = huey.create_consumer(
        workers=2, worker_type="thread", periodic=False, check_worker_health=False
    )
    monkeypatch.setattr(consumer, "_set_signal_handlers", lambda: None)
    connection.close()  # the worker threads open their own connections
    with Stopwatch() as recover:
        consumer.start()
        try:
            tasks.messaging_dispatch_periodic()  # what the scheduler enqueues every minute
            deadline = time.monotonic() + 20
            while sum(_outbox_counts(tmp_path).values()) < len(purposes) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            consumer.stop(graceful=True)
    counts = _outbox_counts(tmp_path)
    assert _exactly_once(counts, purposes), counts
    assert Message.objects.filter(state="sent").count() == len(purposes)
    figure("redis-down", "outage length in the drill (s)", down_for)
    figure("redis-down", "Redis back → all sent (s)", recover.seconds)
    figure("redis-down", "messages sent", sum(counts.values()))
    figure("redis-down", "messages duplicated", sum(n - 1 for n in counts.values() if n > 1))
    figure("redis-down", "messages lost", len(purposes - set(counts)))
    figure("redis-down", "kicks lost with the queue", queued_kicks)

    # Negative controls: the checks see a duplicate and a loss.
    assert not _exactly_once(counts + Counter({next(iter(purposes)): 1}), purposes)
    assert not _exactly_once(counts - Counter({next(iter(purposes)): 1}), purposes)


def _kick_in_thread(member, purpose: str) -> tuple[threading.Thread, dict]:
    """Enqueue a message (its kick runs on commit) in a thread, as a request would."""
    out: dict = {}

    def run():
        try:
            with clock.frozen(NOW), Stopwatch() as t:
                message_enqueue(
                    purpose=purpose, member=member, channel="sms", kind="transactional", body="冻结"
                )
            out["seconds"] = t.seconds
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_frozen_redis_delays_the_request_by_the_socket_timeout_only(redis_server, monkeypatch):
    with clock.frozen(NOW):
        m1 = member_create(name="冻结一", mobile="13911110001")
        m2 = member_create(name="冻结二", mobile="13911110002")
    os.kill(redis_server.proc.pid, signal.SIGSTOP)
    try:
        # settings.py: url only → redis-py 8's default timeouts (5 s connect, 5 s per reply).
        _bind(monkeypatch, RedisHuey("laoke-drill", url=redis_server.url, immediate=False))
        bounded, out = _kick_in_thread(m1, "frozen:1")
        bounded.join(15)
        answered = not bounded.is_alive()
        # Negative control: no socket timeout at all (redis-py before 6, or timeouts set to None).
        pool = redis.ConnectionPool.from_url(
            redis_server.url, socket_timeout=None, socket_connect_timeout=None
        )
        _bind(monkeypatch, RedisHuey("laoke-drill", connection_pool=pool, immediate=False))
        blocked, _ = _kick_in_thread(m2, "frozen:2")
        blocked.join(3)
        hung = blocked.is_alive()
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
    blocked.join(10)
    assert answered and out["seconds"] < 10, "the request answers after the socket timeout"
    assert hung, "negative control: without a socket timeout the request hangs on a frozen Redis"
    assert Message.objects.filter(purpose__startswith="frozen:", state="waiting").count() == 2
    figure("redis-frozen", "request delay with redis-py 8 default timeouts (s)", out["seconds"])
    figure("redis-frozen", "request delay without socket timeouts (s)", "hangs until Redis answers")
