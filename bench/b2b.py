"""Charges (签单) per second on one hotel charge account, next to a baseline measured in the same
run: the bare guarded UPDATE (``outstanding + x <= limit``) alone, each in its own transaction.

    .venv/bin/python -m bench.b2b [--charges 1000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.b2b

Laoke's figure is ``services_charges.charge_record`` end to end: the guarded UPDATE, the immutable
entry row, the audit row, one durable transaction per charge. The last charges hit the limit and
must be refused (the limit holds: outstanding = Σ entries ≤ limit is asserted at the end).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench._common import fresh_database, machine, run_child, targets

AMOUNT = 100_00


def child(n: int) -> dict:
    fresh_database()
    from django.db import transaction
    from django.db.models import F, Sum

    from laoke.b2b import services_charges as sc
    from laoke.b2b.models import ChargeAccount, ChargeEntry
    from laoke.core.errors import DomainError

    limit = AMOUNT * (n - 10)  # the last 10 charges are refused
    base = sc.charge_account_create(name="baseline", credit_limit_fen=limit)
    t = time.perf_counter()
    for _ in range(n):
        with transaction.atomic():
            ChargeAccount.objects.filter(
                pk=base.pk, outstanding_fen__lte=F("credit_limit_fen") - AMOUNT
            ).update(outstanding_fen=F("outstanding_fen") + AMOUNT)
    baseline = time.perf_counter() - t

    acc = sc.charge_account_create(name="会议包账", credit_limit_fen=limit, signers=["张主任"])
    refused = 0
    t = time.perf_counter()
    for i in range(n):
        try:
            sc.charge_record(account_id=acc.pk, amount_fen=AMOUNT, signer="张主任", reference=f"房单 {i}")
        except DomainError:
            refused += 1
    took = time.perf_counter() - t
    acc.refresh_from_db()
    signed = ChargeEntry.objects.filter(account=acc).aggregate(s=Sum("amount_fen"))["s"]
    assert refused == 10 and acc.outstanding_fen == signed == limit
    return {
        "charges": n,
        "seconds": round(took, 2),
        "charges_per_s": round(n / took),
        "baseline_per_s": round(n / baseline),
        "refused": refused,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--charges", type=int, default=1000)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.charges)))
        return 0
    print(f"b2b: {args.charges:,} charges (签单) on one charge account, one transaction each, {machine()}")
    ok = True
    for name, env in targets():
        r = run_child("bench.b2b", ["--charges", str(args.charges)], database=name, extra_env=env)
        if r is None:
            ok = False
            continue
        print(
            f"  {name:10s} charge_record: {r['charges_per_s']:,} charges/s ({r['seconds']:.1f} s; "
            f"{r['refused']} refused at the limit) vs baseline bare guarded UPDATE: {r['baseline_per_s']:,}/s "
            f"({r['baseline_per_s'] / r['charges_per_s']:.1f}× faster, no entry, no audit)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
