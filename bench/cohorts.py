"""Cohort retention and repurchase intervals on the UCI Online Retail data, next to a plain pandas
groupby on the same cleaned data in the same run (the tables are asserted equal); and the
page-view import rate on a fresh database.

    .venv/bin/python -m bench.cohorts [--pageviews 200000] [--seed 6]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.cohorts

Cohorts: /work/shared/data/online_retail/online_retail.csv.gz (or ``--data``), cleaned as
/work/shared/data/README.md says: lines without a CustomerID, cancellations (InvoiceNo starting
with ``C``) and non-positive quantities or prices removed; all countries. An order is an invoice;
its month is the calendar month of InvoiceDate as written (UK local time, no conversion). Both
sides get the same integer month per line (the shared preparation, timed apart) and compute: the
cohort (first month) per customer, the customers active per cohort and month offset, the cohort
sizes — ours is ``laoke.analytics.cohorts.retention`` (NumPy sort/bincount), the baseline pandas
``drop_duplicates`` + ``groupby(...).transform("min")`` + ``groupby(...).nunique().unstack()``.
Intervals: days between consecutive invoice days of a customer (ours ``cohorts.intervals``, the
baseline ``groupby().diff()``), quantiles asserted equal. Best of 3 after one warm-up each.

Import: ``traffic.pageviews_import`` of a seeded CSV (``--pageviews`` rows, sessions of 1–8 views,
a third of the rows with a member reference) into a fresh database per target, in a child process
with production settings: first import (validate + insert) and the same file again (all rows
already there), rows per second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench._common import fresh_database, machine, run_child, targets

DATA = Path("/work/shared/data/online_retail/online_retail.csv.gz")


def _best(fn, runs: int = 3):
    fn()
    best, out = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_cohorts(path: Path) -> dict:
    import numpy as np
    import pandas as pd

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    os.environ.setdefault("LAOKE_DATA_DIR", tempfile.mkdtemp(prefix="laoke-bench-"))
    import django

    django.setup()
    from laoke.analytics import cohorts

    t = time.perf_counter()
    df = pd.read_csv(
        path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"}, encoding="latin-1"
    )
    df = df[
        df["CustomerID"].notna()
        & ~df["InvoiceNo"].str.startswith("C")
        & (df["Quantity"] > 0)
        & (df["UnitPrice"] > 0)
    ].copy()
    ts = pd.to_datetime(df["InvoiceDate"])
    df["m"] = (ts.dt.year * 12 + ts.dt.month - 1).astype(np.int64)
    df["day"] = (ts.dt.normalize() - pd.Timestamp("1970-01-01")).dt.days.astype(np.int64)
    df["cust"] = df["CustomerID"].astype(np.int64)
    prep = time.perf_counter() - t
    cust, month = df["cust"].to_numpy(), df["m"].to_numpy()

    ours_s, table = _best(lambda: cohorts.retention(cust, month))

    def pandas_retention():
        d = df[["cust", "m"]].drop_duplicates()
        d["cohort"] = d.groupby("cust")["m"].transform("min")
        d["k"] = d["m"] - d["cohort"]
        return d.groupby(["cohort", "k"])["cust"].nunique().unstack(fill_value=0)

    base_s, expected = _best(pandas_retention)
    # same table: every observable cell equal, nothing outside the observable triangle
    assert list(table.cohorts) == list(expected.index)
    assert list(table.sizes) == list(expected[0])
    for i, c in enumerate(expected.index):
        observed = [n for n in table.active[i] if n >= 0]
        row = expected.loc[c].to_numpy()
        assert observed == list(row[: len(observed)]) and not row[len(observed) :].any()

    inv = df[["cust", "InvoiceNo", "day"]].drop_duplicates(["cust", "InvoiceNo"])
    icust, iday = inv["cust"].to_numpy(), inv["day"].to_numpy()
    ours_i, gaps = _best(lambda: cohorts.interval_summary(cohorts.intervals(icust, iday)))

    def pandas_intervals():
        o = inv.sort_values(["cust", "day"])
        g = o.groupby("cust")["day"].diff().dropna()
        return {"n": len(g), "median": g.median(), "p90": g.quantile(0.9)}

    base_i, exp_gaps = _best(pandas_intervals)
    assert gaps["intervals"] == exp_gaps["n"]
    assert gaps["median"] == exp_gaps["median"] and gaps["quantiles"]["p90"] == exp_gaps["p90"]
    return {
        "lines": len(df),
        "customers": int(df["cust"].nunique()),
        "invoices": len(inv),
        "cohorts": len(table.cohorts),
        "month1_retention_first_cohort": float(table.active[0][1] / table.sizes[0]),
        "prepare_s": prep,
        "retention_ours_s": ours_s,
        "retention_pandas_s": base_s,
        "intervals": gaps["intervals"],
        "interval_median_days": gaps["median"],
        "intervals_ours_s": ours_i,
        "intervals_pandas_s": base_i,
    }


def _pageview_csv(n: int, seed: int) -> bytes:
    import numpy as np

    rng = np.random.default_rng(seed)
    pages = ["/", "/list", "/item/1", "/item/2", "/item/3", "/cart", "/checkout", "/paid", "/help"]
    lines = ["member_ref,session,ts,page,referrer"]
    i, s = 0, 0
    base = 1_772_323_200  # 2026-03-01T00:00:00Z
    while i < n:
        views = min(int(rng.integers(1, 9)), n - i)
        t = base + int(rng.integers(0, 30 * 86400))
        ref = f"EXT{s % 5000:05d}" if s % 3 == 0 else ""
        for v in range(views):
            t += int(rng.integers(5, 600))
            page = pages[int(rng.integers(0, len(pages)))]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"
            lines.append(f"{ref},s{s:07d},{stamp},{page},{'https://www.baidu.com/' if v == 0 else ''}")
            i += 1
        s += 1
    return ("\n".join(lines) + "\n").encode()


def child(args) -> None:
    fresh_database()
    from django.db import connection

    from laoke.analytics.models import PageView
    from laoke.analytics.traffic import pageviews_import
    from laoke.core import clock

    data = _pageview_csv(args.pageviews, args.seed)
    t = time.perf_counter()
    first = pageviews_import(data=data, now=clock.now())
    first_s = time.perf_counter() - t
    t = time.perf_counter()
    again = pageviews_import(data=data, now=clock.now())
    again_s = time.perf_counter() - t
    assert first.invalid == 0 and first.inserted == args.pageviews and again.inserted == 0
    assert PageView.objects.count() == args.pageviews
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "rows": args.pageviews,
                "import_s": first_s,
                "rows_per_s": args.pageviews / first_s,
                "reimport_s": again_s,
                "reimport_rows_per_s": args.pageviews / again_s,
            }
        )
    )


def main() -> int:
    p = argparse.ArgumentParser(prog="bench.cohorts")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--pageviews", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--skip-import", action="store_true", help="only the cohort part")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    print(f"machine: {machine()}")
    c = bench_cohorts(args.data)
    print(
        f"UCI Online Retail: {c['lines']:,} lines, {c['customers']:,} customers, {c['invoices']:,} invoices, "
        f"{c['cohorts']} monthly cohorts (month-1 retention of 2010-12: {c['month1_retention_first_cohort']:.1%}); "
        f"shared preparation {c['prepare_s']:.2f} s"
    )
    print(
        f"retention table: laoke {c['retention_ours_s'] * 1000:.1f} ms vs pandas groupby "
        f"{c['retention_pandas_s'] * 1000:.1f} ms (same table)"
    )
    print(
        f"repurchase intervals ({c['intervals']:,}, median {c['interval_median_days']:g} days): laoke "
        f"{c['intervals_ours_s'] * 1000:.1f} ms vs pandas groupby().diff() {c['intervals_pandas_s'] * 1000:.1f} ms "
        "(same quantiles)"
    )
    results = {"cohorts": c}
    if not args.skip_import:
        for name, env in targets():
            out = run_child(
                "bench.cohorts",
                ["--pageviews", str(args.pageviews), "--seed", str(args.seed)],
                database=name,
                extra_env=env,
            )
            if out is None:
                print(f"{name}: failed")
                continue
            results[name] = out
            print(
                f"page-view import on {name}: {out['rows']:,} rows in {out['import_s']:.2f} s "
                f"({out['rows_per_s']:,.0f} rows/s); again (all already there) {out['reimport_s']:.2f} s "
                f"({out['reimport_rows_per_s']:,.0f} rows/s)"
            )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
