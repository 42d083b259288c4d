"""CLV model fits on the CDNOW sample (2,357 customers, calibration 1997-01-01 .. 1997-09-30, in
weeks): ours (``laoke.analytics.clv``: BFGS on log-parameters from the generic start "all 1",
analytic gradients for BG/NBD and Gamma-Gamma, identical rows aggregated) next to the
``lifetimes`` package's BetaGeoFitter / ParetoNBDFitter / GammaGammaFitter on the same summary in
the same process, with the parameters side by side and the published values.

    .venv/bin/python -m bench.clv [--repeat 5] [--data PATH] [--members N]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.clv

Times are the best of ``--repeat`` runs of each fit (after one warm-up; lifetimes, slower, gets half
as many). The log-likelihood of lifetimes' parameters is computed with our formula (lifetimes
reports a penalised mean). Both sides get the same
frequency/recency/T and the same mean repeat-day values (built once by our summary builder; the
summary build is timed separately next to lifetimes' ``summary_data_from_transaction_data``).

Then ``member_scores_refresh`` (the nightly job: read the counted orders per member and shop day,
fit BG/NBD and Gamma-Gamma, write RFM/P(alive)/expected purchases/CLV to every member's
statistics) on generated data, in a child process per database (SQLite in a fresh data dir;
PostgreSQL too when ``BENCH_DATABASE_URL`` is set), production settings. Data (seeded): ``--members``
members (default 100,000), each with a first purchase in the last two years, a purchase rate
(gamma), a lifetime (exponential, mean 200 days) and Poisson repeat purchases within it; order
values log-normal around 150元. Rows are bulk-inserted (not settled): the bench times the refresh,
not settlement. Two runs: the second is the steady state.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd

from bench._common import fresh_database, machine, run_child, targets

SAMPLE = "/work/shared/data/cdnow/CDNOW_sample.txt"
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto_nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}


def _ll(model: str):
    from laoke.analytics import clv

    if model == "gamma_gamma":
        return lambda params, s, rep: clv.gamma_gamma_log_likelihood(params, s.x[rep], s.m[rep])
    fn = clv.bgnbd_log_likelihood if model == "bgnbd" else clv.pareto_log_likelihood
    return lambda params, s, rep: fn(params, s.x, s.t_x, s.T)


LOG_LIKELIHOOD = {name: _ll(name) for name in PUBLISHED}


def best(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return min(times), out


def refresh_child(n_members: int, seed: int) -> dict:
    """In a child process: generate the shop, then time ``member_scores_refresh`` twice."""
    from datetime import UTC, datetime, timedelta

    fresh_database()
    from laoke.analytics.scores import member_scores_refresh
    from laoke.core import clock
    from laoke.members.models import Member
    from laoke.orders.models import Order
    from laoke.stats.models import MemberStats

    now = datetime(2026, 12, 20, 4, tzinfo=UTC)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    registered = now - timedelta(days=800)
    Member.objects.bulk_create(
        [
            Member(
                code=f"B{i:010d}",
                name=f"会员{i}",
                registered_at=registered,
                created_at=registered,
                updated_at=now,
            )
            for i in range(n_members)
        ],
        batch_size=5000,
    )
    ids = np.array(Member.objects.order_by("pk").values_list("pk", flat=True))
    first = rng.uniform(1, 730, n_members)  # days ago
    life = np.minimum(rng.exponential(200, n_members), first)
    rate = rng.gamma(0.6, 1 / 30, n_members)  # purchases per day
    repeats = rng.poisson(rate * life)
    member = np.repeat(np.arange(n_members), repeats + 1)
    starts = np.r_[0, np.cumsum(repeats + 1)[:-1]]
    ago = np.repeat(first, repeats + 1) - rng.random(len(member)) * np.repeat(life, repeats + 1)
    ago[starts] = first
    value = np.maximum(100, np.exp(rng.normal(np.log(15_000), 0.8, len(member)))).astype(np.int64)
    paid = [now - timedelta(days=float(d)) for d in ago]
    Order.objects.bulk_create(
        [
            Order(
                number=f"B{k:012d}",
                member_id=int(ids[member[k]]),
                status="paid",
                goods_gross_fen=int(value[k]),
                goods_net_fen=int(value[k]),
                total_fen=int(value[k]),
                cash_fen=int(value[k]),
                paid_at=paid[k],
                created_at=paid[k],
            )
            for k in range(len(member))
        ],
        batch_size=5000,
    )
    MemberStats.objects.bulk_create(
        [MemberStats(member_id=int(i), updated_at=now) for i in ids], batch_size=5000
    )
    figures: dict = {
        "members": n_members,
        "orders": len(member),
        "generate_s": round(time.perf_counter() - t0, 1),
    }
    runs = []
    with clock.frozen(now):
        for _ in range(2):
            started = time.perf_counter()
            result = member_scores_refresh(now=now)
            runs.append(round(time.perf_counter() - started, 2))
    figures.update(
        refresh_s=runs,
        scored=result.members,
        repeat_buyers=result.repeat_buyers,
        reason=result.reason,
        bgnbd=result.fits.get("bgnbd"),
        with_clv=MemberStats.objects.filter(clv_fen__isnull=False).count(),
    )
    return figures


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.clv")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--data", default=SAMPLE)
    p.add_argument("--members", type=int, default=100_000, help="members for the refresh (0: skip it)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(refresh_child(args.members, args.seed), default=str))
        return 0
    warnings.filterwarnings("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data

    from laoke.analytics import clv

    customers, days, amounts = clv.read_transactions(args.data)
    t_ours, s = best(
        lambda: clv.summary_from_transactions(customers, days, amounts, calibration_end="1997-09-30"),
        args.repeat,
    )
    frame = pd.DataFrame({"customer": customers, "date": pd.to_datetime(days), "amount": amounts})
    t_lt, _ = best(
        lambda: summary_data_from_transaction_data(
            frame, "customer", "date", "amount", observation_period_end="1997-09-30", freq="W"
        ),
        max(1, args.repeat // 2),
    )
    rep = s.x > 0
    x, t_x, T, m = (pd.Series(v) for v in (s.x, s.t_x, s.T, s.m))
    rows = [
        (
            "bgnbd",
            lambda: clv.bgnbd_fit(s.x, s.t_x, s.T),
            lambda: BetaGeoFitter().fit(x, t_x, T),
            {"r": "r", "alpha": "alpha", "a": "a", "b": "b"},
        ),
        (
            "pareto_nbd",
            lambda: clv.pareto_fit(s.x, s.t_x, s.T),
            lambda: ParetoNBDFitter().fit(x, t_x, T),
            {"r": "r", "alpha": "alpha", "s": "s", "beta": "beta"},
        ),
        (
            "gamma_gamma",
            lambda: clv.gamma_gamma_fit(s.x, s.m),
            lambda: GammaGammaFitter().fit(x[rep], m[rep]),
            {"p": "p", "q": "q", "gamma": "v"},
        ),
    ]
    print(f"# CLV fits on the CDNOW sample — {machine()}")
    print(f"{len(s):,} customers, {int(rep.sum()):,} with repeat purchases; best of {args.repeat}")
    print(f"summary from {len(customers):,} transactions: laoke {t_ours:.4f} s, lifetimes {t_lt:.4f} s\n")
    print(
        f"{'model':<12} {'laoke s':>9} {'lifetimes s':>12} {'speed-up':>9}  parameters (laoke / lifetimes / published)"
    )
    for name, ours, theirs, names in rows:
        t1, fit = best(ours, args.repeat)
        t2, ref = best(theirs, max(1, args.repeat // 2))
        params = "  ".join(
            f"{k}={fit.params[k]:.4f}/{ref.params_[v]:.4f}/{PUBLISHED[name][k]}" for k, v in names.items()
        )
        print(f"{name:<12} {t1:>9.4f} {t2:>12.4f} {t2 / t1:>8.1f}×  {params}")
        theirs_params = tuple(float(ref.params_[v]) for v in names.values())
        ll_ref = float(np.sum(LOG_LIKELIHOOD[name](theirs_params, s, rep)))
        print(f"{'':<12} log-likelihood laoke {fit.log_likelihood:.3f}, lifetimes' parameters {ll_ref:.3f}")
    if not args.members:
        return 0
    print(f"\n## member_scores_refresh, {args.members:,} members (seed {args.seed})")
    for name, extra in targets():
        r = run_child(
            "bench.clv",
            ["--members", str(args.members), "--seed", str(args.seed)],
            database=name,
            extra_env=extra,
        )
        if r is None:
            print(f"{name}: failed")
            continue
        print(
            f"{name}: {r['orders']:,} orders (generated in {r['generate_s']} s); refresh {r['refresh_s'][0]} s, "
            f"again {r['refresh_s'][1]} s; {r['scored']:,} scored, {r['repeat_buyers']:,} repeat buyers, "
            f"{r['with_clv']:,} with CLV{'; ' + r['reason'] if r['reason'] else ''}"
        )
        if r["bgnbd"]:
            print("  BG/NBD " + ", ".join(f"{k}={v:.4g}" for k, v in r["bgnbd"].items() if k != "id"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
