"""Prepaid cards: batch generation (cards/s) and recharges (per second), each next to a baseline
measured in the same run.

    .venv/bin/python -m bench.cards [--cards 2000] [--recharges 200]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.cards

Production settings in a child process (real scrypt parameters: n=2**13, r=8, p=1; Huey on disk,
not used: generation runs in the child). Baselines:

- generation: raw ``hashlib.scrypt`` hashes/s with the same parameters on all cores (a batch
  cannot be faster than hashing its PINs), and on one core;
- recharge: one scrypt verification/s on one core (a recharge checks one PIN) and bare ledger
  transfers/s (``transfer_create``: one durable transaction with the transfer, two guarded
  UPDATEs, an audit row) — a recharge is about one of each plus its bookkeeping.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._common import fresh_database, machine, run_child, targets

ROOT = Path(__file__).resolve().parents[1]


def child_figures(cards: int, recharges: int) -> dict:
    import hashlib
    from io import BytesIO

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from django.db import connection
    from openpyxl import load_workbook

    from laoke.cards import pins
    from laoke.cards.services import (
        card_activate,
        card_batch_create,
        card_batch_download,
        card_batch_generate,
        card_recharge,
    )
    from laoke.ledger.services import owner_account, system_account, transfer_create
    from laoke.members.services import member_create

    fresh_database()
    params = pins._params()

    def raw(i):
        return hashlib.scrypt(
            b"%08d" % i,
            salt=os.urandom(16),
            n=params["n"],
            r=params["r"],
            p=params["p"],
            maxmem=256 * 1024 * 1024,
            dklen=32,
        )

    n_raw = 200
    t0 = time.perf_counter()
    for i in range(n_raw):
        raw(i)
    raw_one_core = n_raw / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(raw, range(n_raw)))
    raw_all_cores = n_raw / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    batch = card_batch_create(face_value_fen=50_000, count=cards, background=False)
    card_batch_generate(batch_id=batch.pk)
    gen_s = time.perf_counter() - t0

    for first in range(1, cards + 1, 2_000):
        card_activate(batch=batch, first_serial=first, last_serial=min(cards, first + 1_999))
    ws = load_workbook(BytesIO(card_batch_download(batch_id=batch.pk)[1]), read_only=True).active
    codes = [(str(r[1]), str(r[2])) for r in list(ws.iter_rows(values_only=True))[2:]]
    member = member_create(name="压测会员")
    t0 = time.perf_counter()
    for number, pin in codes[:recharges]:
        card_recharge(number=number, pin=pin, member=member, ip="127.0.0.1")
    recharge_per_s = recharges / (time.perf_counter() - t0)

    float_ = system_account("card_float")
    wallet = owner_account(kind="wallet", member=member_create(name="基线会员"))
    t0 = time.perf_counter()
    for i in range(recharges):
        transfer_create(debit=float_, credit=wallet, amount=100, key=f"bench:{i}", reason="bench")
    transfers_per_s = recharges / (time.perf_counter() - t0)
    return {
        "database": connection.vendor,
        "scrypt": params,
        "cards": cards,
        "recharges": recharges,
        "generate_cards_per_s": round(cards / gen_s, 1),
        "raw_scrypt_all_cores_per_s": round(raw_all_cores, 1),
        "raw_scrypt_one_core_per_s": round(raw_one_core, 1),
        "recharge_per_s": round(recharge_per_s, 1),
        "ledger_transfers_per_s": round(transfers_per_s, 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cards")
    p.add_argument("--cards", type=int, default=2000)
    p.add_argument("--recharges", type=int, default=200)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child_figures(args.cards, args.recharges)))
        return 0
    print(f"# cards — {machine()}")
    for name, extra in targets():
        r = run_child(
            "bench.cards",
            ["--cards", str(args.cards), "--recharges", str(args.recharges)],
            database=name,
            extra_env=extra,
        )
        if r is None:
            return 1
        print(f"\n## {name} (scrypt n={r['scrypt']['n']} r={r['scrypt']['r']} p={r['scrypt']['p']})")
        print(
            f"cards.generate  {r['generate_cards_per_s']:>8,.1f} cards/s ({r['cards']} cards)   "
            f"baseline raw scrypt {r['raw_scrypt_all_cores_per_s']:,.1f}/s all cores, "
            f"{r['raw_scrypt_one_core_per_s']:,.1f}/s one core"
        )
        print(
            f"cards.recharge  {r['recharge_per_s']:>8,.1f} recharges/s ({r['recharges']}, one client)   "
            f"baseline scrypt verify {r['raw_scrypt_one_core_per_s']:,.1f}/s, bare ledger transfers "
            f"{r['ledger_transfers_per_s']:,.1f}/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
