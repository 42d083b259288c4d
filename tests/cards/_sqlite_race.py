"""Driver of the SQLite multi-process recharge race (run by test_sqlite_processes.py):

    python -m tests.cards._sqlite_race DATA_DIR PROCS

Migrates a fresh SQLite file in DATA_DIR, issues two cards, then races PROCS *processes* (not
threads: separate interpreters, separate connections, one database file) on each: the first
card with the service as it is, the second with the test-only unguarded switch (negative
control). Prints one JSON line: {"guarded": {...}, "unguarded": {...}}.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys


def _django(data_dir: str) -> None:
    os.environ["LAOKE_DATA_DIR"] = data_dir
    os.environ["LAOKE_TESTING"] = "1"
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()


def _worker(data_dir, number, pin, member_id, unguarded, barrier, out):
    _django(data_dir)
    from laoke.cards import recharge
    from laoke.core.errors import DomainError
    from laoke.members.models import Member

    recharge._UNGUARDED_FOR_TESTS = unguarded
    member = Member.objects.get(pk=member_id)
    barrier.wait(timeout=60)
    try:
        card = recharge.card_recharge(number=number, pin=pin, member=member)
        out.put(("ok", card.pk))
    except DomainError as exc:
        out.put(("error", exc.code))


def main(data_dir: str, procs: int) -> dict:
    _django(data_dir)
    from django.core.management import call_command

    from laoke.cards.services import (
        card_activate,
        card_batch_create,
        card_batch_download,
        card_batch_generate,
    )
    from laoke.cards.wallet import wallet_account
    from laoke.members.services import member_create
    from tests.cards.helpers import read_pin_file

    call_command("migrate", verbosity=0, interactive=False)
    batch = card_batch_create(face_value_fen=50_000, count=2)
    card_batch_generate(batch_id=batch.pk)
    card_activate(batch=batch, first_serial=1, last_serial=2)
    codes = list(read_pin_file(card_batch_download(batch_id=batch.pk)[1]).items())
    ctx = mp.get_context("spawn")
    report = {}
    for mode, (number, pin) in zip(("guarded", "unguarded"), codes, strict=True):
        members = [member_create(name=f"{mode}{i}") for i in range(procs)]
        barrier, out = ctx.Barrier(procs), ctx.Queue()
        ps = [
            ctx.Process(target=_worker, args=(data_dir, number, pin, m.pk, mode == "unguarded", barrier, out))
            for m in members
        ]
        for p in ps:
            p.start()
        results = [out.get(timeout=120) for _ in ps]
        for p in ps:
            p.join(timeout=60)
        report[mode] = {
            "successes": sum(1 for kind, _ in results if kind == "ok"),
            "errors": sorted(v for kind, v in results if kind == "error"),
            "credited_fen": sum(wallet_account(m).balance for m in members),
        }
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
