"""Evaluating an external campaign: import 64,000 contacts (and their orders) and compute the
report, next to pandas + statsmodels + SciPy computing the same arms' figures straight from the
same CSV files, in the same run; the responders per arm and the uplift p-values must agree.

    .venv/bin/python -m bench.evaluation [--contacts N] [--seed 1]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.evaluation

Data (seeded, generated at run time): contacts in three arms (10% control, sms, email), contacted
over three days; each member orders with an arm-dependent chance, some before the contact or after
the 14-day window (those do not count). Every member_ref is new, so the import also registers the
64,000 members (the goal: the whole import in under 60 s).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench._common import fresh_database, machine, run_child, targets

WINDOW = 14


def generate(n: int, seed: int, directory: Path) -> tuple[Path, Path]:
    r = random.Random(seed)
    start = datetime(2026, 6, 1, 10, 0)
    c = io.StringIO()
    o = io.StringIO()
    c.write("member_ref,arm,contacted_at\n")
    o.write("member_ref,ordered_at,amount\n")
    for i in range(n):
        arm = "control" if i % 10 == 0 else ("sms" if r.random() < 0.5 else "email")
        at = start + timedelta(minutes=r.randint(0, 3 * 24 * 60))
        c.write(f"B{i},{arm},{at:%Y-%m-%d %H:%M}\n")
        p = {"control": 0.05, "sms": 0.08, "email": 0.07}[arm]
        for _ in range(2):
            if r.random() < p:
                when = at + timedelta(hours=r.randint(-24, 20 * 24))
                fen = r.randint(500, 60_000)
                o.write(f"B{i},{when:%Y-%m-%d %H:%M:%S},{fen // 100}.{fen % 100:02d}\n")
    contacts, orders = directory / "contacts.csv", directory / "orders.csv"
    contacts.write_text(c.getvalue())
    orders.write_text(o.getvalue())
    return contacts, orders


def baseline(contacts: Path, orders: Path) -> dict:
    """pandas reads and joins the files; statsmodels/SciPy give each treatment arm's statistics."""
    import numpy as np
    import pandas as pd
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    t0 = time.perf_counter()
    c = pd.read_csv(contacts, parse_dates=["contacted_at"])
    o = pd.read_csv(orders, parse_dates=["ordered_at"])
    parsed = time.perf_counter() - t0
    o["fen"] = (o["amount"] * 100).round().astype(np.int64)
    j = o.merge(c, on="member_ref")
    j = j[(j.ordered_at >= j.contacted_at) & (j.ordered_at < j.contacted_at + pd.Timedelta(days=WINDOW))]
    per = j.groupby("member_ref")["fen"].sum()
    c["fen"] = c["member_ref"].map(per).fillna(0)
    ctl = c[c.arm == "control"]
    out = {}
    for arm in ("email", "sms"):
        t = c[c.arm == arm]
        x_t, x_c = int((t.fen > 0).sum()), int((ctl.fen > 0).sum())
        _, p = proportions_ztest([x_t, x_c], [len(t), len(ctl)])
        confint_proportions_2indep(x_t, len(t), x_c, len(ctl), method="wald", compare="diff")
        w = stats.ttest_ind(t.fen / 100, ctl.fen / 100, equal_var=False)
        out[arm] = {"responders": x_t, "p_value": float(p), "revenue_p": float(w.pvalue)}
    return {"parse_s": round(parsed, 3), "total_s": round(time.perf_counter() - t0, 3), "arms": out}


def run_one(n: int, seed: int) -> dict:
    fresh_database()
    from laoke.analytics.evaluation import campaign_report
    from laoke.analytics.external import external_campaign_import
    from laoke.campaigns.models import Campaign

    directory = Path(tempfile.mkdtemp(prefix="laoke-bench-eval-"))
    contacts, orders = generate(n, seed, directory)
    t0 = time.perf_counter()
    with contacts.open("rb") as cf, orders.open("rb") as of:
        summary = external_campaign_import(name=f"bench {seed}", contacts=cf, orders=of, window_days=WINDOW)
    imported = time.perf_counter() - t0
    t1 = time.perf_counter()
    report = campaign_report(Campaign.objects.get(pk=summary["id"]))
    reported = time.perf_counter() - t1
    ref = baseline(contacts, orders)
    ours = {a["name"]: a for a in report["arms"]}
    agree = all(
        ours[arm]["responders"] == ref["arms"][arm]["responders"]
        and abs(ours[arm]["uplift"]["p_value"] - ref["arms"][arm]["p_value"])
        <= 1e-9 * max(ref["arms"][arm]["p_value"], 1e-300)
        and abs(ours[arm]["revenue_uplift"]["p_value"] - ref["arms"][arm]["revenue_p"])
        <= 1e-8 * max(ref["arms"][arm]["revenue_p"], 1e-300)
        for arm in ("email", "sms")
    )
    return {
        "contacts": summary["contacts"],
        "orders": summary["orders"],
        "members_created": summary["members_created"],
        "import_s": round(imported, 2),
        "report_s": round(reported, 3),
        "pandas": ref,
        "agree": agree,
    }


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.evaluation")
    p.add_argument("--contacts", type=int, default=64_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_one(args.contacts, args.seed)))
        return 0
    print(f"# external campaign evaluation — {machine()}")
    status = 0
    for name, extra in targets():
        r = run_child(
            "bench.evaluation",
            ["--contacts", str(args.contacts), "--seed", str(args.seed)],
            database=name,
            extra_env=extra,
        )
        if r is None:
            return 1
        b = r["pandas"]
        print(
            f"{name:<11} import {r['contacts']:,} contacts + {r['orders']:,} orders "
            f"({r['members_created']:,} new members): {r['import_s']} s (goal < 60 s, "
            f"{r['contacts'] / r['import_s']:,.0f} contacts/s); report {r['report_s']} s | "
            f"pandas read_csv {b['parse_s']} s, pandas+statsmodels+SciPy figures {b['total_s']} s | "
            f"agree: {'yes' if r['agree'] else 'NO'}"
        )
        status |= 0 if r["agree"] and r["import_s"] < 60 else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
