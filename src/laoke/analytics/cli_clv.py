"""`laoke clv fit` (thin over ``clv`` and ``scores``).

laoke clv fit --transactions FILE [--calibration-end DATE] [--unit-days 7]
    Fits BG/NBD, Pareto/NBD and Gamma-Gamma to a transactions file — CSV ``customer,date,amount``
    or the CDNOW whitespace format — and prints ONLY JSON: each model's parameters by name with
    its log-likelihood, customers and fit seconds, plus ``customers`` and ``seconds`` in all.
    Nothing is written to the database. The calibration period ends on DATE (inclusive; default
    the file's last day).
laoke clv fit
    Without a file: the shop's own orders. Recomputes every member's scores (RFM, P(alive),
    expected purchases, CLV; what the daily task does), stores the fits and prints the result as
    JSON (``reason`` says why the model columns were left empty, if they were).
"""

from __future__ import annotations

import json
import math
import sys
import time
from datetime import date


def _fit_file(args) -> dict:
    from . import clv

    started = time.perf_counter()
    customers, days, amounts = clv.read_transactions(args.transactions)
    end = args.calibration_end or days.max().astype(date)
    summary = clv.summary_from_transactions(
        customers, days, amounts, calibration_end=end, unit_days=args.unit_days
    )
    out: dict = {}
    for name, fit in (
        ("bgnbd", clv.bgnbd_fit(summary.x, summary.t_x, summary.T)),
        ("pareto_nbd", clv.pareto_fit(summary.x, summary.t_x, summary.T)),
        ("gamma_gamma", clv.gamma_gamma_fit(summary.x, summary.m)),
    ):
        values = {k: v if math.isfinite(v) else None for k, v in fit.as_dict().items()}  # JSON has no NaN
        out[name] = {**values, "converged": fit.converged, "seconds": round(fit.seconds, 4)}
    out["customers"] = len(summary)
    out["repeat_buyers"] = int((summary.x > 0).sum())
    out["calibration_end"] = end.isoformat()
    out["unit_days"] = args.unit_days
    out["seconds"] = round(time.perf_counter() - started, 4)
    return out


def cmd_fit(args) -> int:
    from laoke.core import clock
    from laoke.core.errors import DomainError

    from .error_codes_clv import ANALYTICS_CLV_FILE_INVALID
    from .scores import member_scores_refresh

    if args.transactions is None:
        print(json.dumps(member_scores_refresh(now=clock.now()).as_dict(), ensure_ascii=False))
        return 0
    try:
        out = _fit_file(args)
    except (OSError, ValueError) as exc:
        err = DomainError(ANALYTICS_CLV_FILE_INVALID, field="transactions", why=str(exc))
        print(json.dumps(err.as_body("en"), ensure_ascii=False), file=sys.stderr)
        return 2
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _day(text: str) -> date:
    import argparse

    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from exc


def add_parser(sub) -> None:
    """Register `laoke clv …` on the top-level subcommands."""
    clv = sub.add_parser("clv", help="customer lifetime value models").add_subparsers(
        dest="clv_command", required=True
    )
    p = clv.add_parser(
        "fit", help="fit BG/NBD, Pareto/NBD, Gamma-Gamma to a file, or refresh the members' scores"
    )
    p.add_argument("--transactions", help="CSV customer,date,amount or the CDNOW format; none: the shop")
    p.add_argument("--calibration-end", type=_day, help="last day of the calibration period (YYYY-MM-DD)")
    p.add_argument("--unit-days", type=float, default=7.0, help="days per time unit (7: weeks)")
    p.set_defaults(fn=cmd_fit)
