"""The concurrency-test harness (ARCHITECTURE testing rules): N threads released together by a
barrier, each on its own database connection, closed at the end.

``pg_threads()`` picks N = min(64, max_connections − 20) less what other sessions hold right now
(several engineers share the server), never below 8. ``race(n, fn)`` runs ``fn(i)`` in n threads
and returns each outcome: the return value, or the ``DomainError`` code it raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection

from laoke.core.errors import DomainError


def pg_threads() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('max_connections')::int, count(*) FROM pg_stat_activity")
        max_conn, used = cur.fetchone()
    return max(8, min(64, max_conn - 20 - used))


def race(n: int, fn: Callable[[int], object]) -> list:
    barrier = threading.Barrier(n)
    results: list = []
    lock = threading.Lock()

    def worker(i):
        try:
            barrier.wait(timeout=30)
            try:
                outcome = fn(i)
            except DomainError as exc:
                outcome = exc.code
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == n, "a worker died"
    return results
