"""Ledger transfers per second on PostgreSQL next to `pgbench -b tpcb-like` on the same server,
same client count (1 and 8), uncontended and on one hot account.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench python -m bench.ledger

Each Laoke transfer is a full service call: one durable transaction with the transfer row, two
guarded balance UPDATEs and an audit row. tpcb-like is pgbench's own 5-statement transaction
(3 UPDATEs, 1 SELECT, 1 INSERT). "Hot": every Laoke client credits the same wallet; pgbench at
scale 1 (every transaction updates the single branch row). "Uncontended": each client has its own
accounts; pgbench at scale = clients.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import subprocess
import sys
import tempfile
import time

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/laoke_bench")


def _django():
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("LAOKE_DATA_DIR", tempfile.mkdtemp(prefix="laoke-bench-"))
    os.environ["LAOKE_TESTING"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "laoke.settings"
    import django

    django.setup()


def _setup(clients: int) -> list[tuple[int, int]]:
    _django()
    from django.core.management import call_command

    from laoke.ledger.services import owner_account, system_account, transfer_create
    from laoke.members.services import member_create

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    float_ = system_account("card_float")
    pairs = []
    for i in range(clients):
        a = owner_account(kind="wallet", member=member_create(name=f"a{i}"))
        b = owner_account(kind="wallet", member=member_create(name=f"b{i}"))
        transfer_create(debit=float_, credit=a, amount=10**12, key=f"fund:{i}", reason="fund")
        pairs.append((a.pk, b.pk))
    return pairs


def _client(args) -> int:
    debit_id, credit_id, tag, seconds = args
    _django()
    from laoke.ledger.models import Account
    from laoke.ledger.services import transfer_create

    debit, credit = Account.objects.get(pk=debit_id), Account.objects.get(pk=credit_id)
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        transfer_create(debit=debit, credit=credit, amount=1, key=f"{tag}:{os.getpid()}:{n}", reason="bench")
        n += 1
    return n


def laoke_tps(clients: int, hot: bool) -> float:
    pairs = _setup(clients)
    hot_target = pairs[0][1]
    jobs = [(a, hot_target if hot else b, f"{'hot' if hot else 'cold'}{clients}", SECONDS) for a, b in pairs]
    with mp.get_context("spawn").Pool(clients) as pool:
        counts = pool.map(_client, jobs)  # each client runs for SECONDS after its own start-up
    return sum(counts) / SECONDS


def pgbench_tps(clients: int, scale: int) -> float:
    base, _, _ = URL.rpartition("/")
    db = "laoke_pgbench"
    import psycopg

    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    host_args = _conn_args(URL)
    subprocess.run(["pgbench", "-q", "-i", "-s", str(scale), *host_args, db], check=True, capture_output=True)
    out = subprocess.run(
        [
            "pgbench",
            "-b",
            "tpcb-like",
            "-c",
            str(clients),
            "-j",
            str(clients),
            "-T",
            str(int(SECONDS)),
            *host_args,
            db,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def _conn_args(url: str) -> list[str]:
    m = re.match(r"postgres(?:ql)?://(?:(?P<user>[^@:/]+)@)?(?P<host>[^:/]+)(?::(?P<port>\d+))?/", url)
    args = ["-h", m["host"], "-p", m["port"] or "5432"]
    return [*args, "-U", m["user"]] if m["user"] else args


def main() -> int:
    from bench._common import ensure_pg_database

    ensure_pg_database(URL)
    print(
        f"# ledger transfers/s vs pgbench tpcb-like, PostgreSQL, {os.cpu_count()} cores, {SECONDS:.0f} s per run"
    )
    print(f"{'clients':>7} {'case':<12} {'laoke transfers/s':>18} {'pgbench tps':>12}")
    for clients in (1, 8):
        for hot in (False, True):
            ours = laoke_tps(clients, hot)
            theirs = pgbench_tps(clients, scale=1 if hot else clients)
            print(
                f"{clients:>7} {'hot account' if hot else 'uncontended':<12} {ours:>18,.0f} {theirs:>12,.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
