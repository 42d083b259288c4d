"""CLV model fits on the CDNOW sample (2,357 customers, calibration 1997-01-01 .. 1997-09-30, in
weeks): ours (``laoke.analytics.clv``: BFGS on log-parameters from the generic start "all 1",
analytic gradients for BG/NBD and Gamma-Gamma, identical rows aggregated) next to the
``lifetimes`` package's BetaGeoFitter / ParetoNBDFitter / GammaGammaFitter on the same summary in
the same process, with the parameters side by side and the published values.

    .venv/bin/python -m bench.clv [--repeat 5] [--data PATH]

Times are the best of ``--repeat`` runs of each fit (after one warm-up; lifetimes, slower, gets half
as many). The log-likelihood of lifetimes' parameters is computed with our formula (lifetimes
reports a penalised mean). Both sides get the same
frequency/recency/T and the same mean repeat-day values (built once by our summary builder; the
summary build is timed separately next to lifetimes' ``summary_data_from_transaction_data``). No
database is involved.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from bench._common import machine

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


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.clv")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--data", default=SAMPLE)
    args = p.parse_args()
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
