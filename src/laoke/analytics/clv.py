"""Customer lifetime value models (SPEC 11): BG/NBD, Pareto/NBD and Gamma-Gamma, fitted by
maximum likelihood. Pure NumPy/SciPy (no Django): the CLI fits files with it, ``scores`` fits the
shop's own orders.

Data ("RFM summary", one row per customer, in a time *unit* — weeks by default):

- ``x``   frequency: the number of repeat purchase periods (purchase *days* after the first one;
  several purchases on one day count once, as in the papers and the ``lifetimes`` package);
- ``t_x`` recency: time from the first to the last purchase;
- ``T``   age: time from the first purchase to the end of the calibration period;
- ``m``   monetary: the mean value of the repeat purchase days (a day's purchases summed), 0 when
  ``x = 0``.

Models (each fitted on log-parameters from the generic start "every parameter 1", by BFGS with
analytic gradients for BG/NBD and Gamma-Gamma, identical rows aggregated with weights):

- BG/NBD — Fader, Hardie & Lee (2005), "Counting your customers the easy way", eq. (6).
- Pareto/NBD — Schmittlein, Morrison & Colombo (1987), in the form of Fader & Hardie (2005), "A
  note on deriving the Pareto/NBD model and related expressions", eqs. (18)-(22): the Gauss
  hypergeometric 2F1 is evaluated in the branch (α ≥ β or α < β) whose argument lies in [0, 1),
  and the sum and difference of the likelihood's terms are taken in logs (log-sum-exp).
- Gamma-Gamma — Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer
  base analysis", and Fader & Hardie (2013), "The Gamma-Gamma model of monetary value": the
  density of a customer's mean repeat value given ``x``.

CLV (:func:`clv`) is the expected value a customer brings over a horizon::

    CLV = E[M | x, m] · Σ_{k=1..K} (E[Y(k·h/K)] − E[Y((k−1)·h/K)]) / (1 + d)^k

with ``E[Y(t)]`` the conditional expected number of purchases in the next ``t`` units (BG/NBD or
Pareto/NBD), ``E[M]`` the Gamma-Gamma conditional expected average purchase value, ``K`` steps of
the horizon ``h`` and ``d`` the discount rate per step. With ``d = 0`` (the default) it is simply
``E[Y(h)] · E[M]``: the undiscounted expected spend over the horizon. Amounts are in whatever unit
the purchase values were given (the member scores use yuan and store fen).
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
from scipy import optimize, special

# ---------------------------------------------------------------------------------------------
# Summary data


@dataclass
class Summary:
    """One row per customer (see the module docstring); ``ids`` are the customer keys."""

    ids: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    m: np.ndarray
    unit_days: float = 7.0

    def __len__(self) -> int:
        return len(self.x)


def summary_from_transactions(
    customers, days, amounts, *, calibration_end: date | None = None, unit_days: float = 7.0
) -> Summary:
    """Build the summary from transactions with daily precision.

    ``customers``: keys (any sortable values); ``days``: dates (``datetime64[D]``, ``date`` or ISO
    strings); ``amounts``: values. Transactions after ``calibration_end`` (default: the last day
    present) are ignored; the end day itself is included. Same-day purchases are merged (their
    values summed). Times are in units of ``unit_days`` days."""
    cust = np.asarray(customers)
    day = np.asarray(days, dtype="datetime64[D]").astype(np.int64)
    amount = np.asarray(amounts, dtype=float)
    end = int(np.datetime64(calibration_end, "D").astype(np.int64)) if calibration_end else int(day.max())
    keep = day <= end
    cust, day, amount = cust[keep], day[keep], amount[keep]
    ids, code = np.unique(cust, return_inverse=True)
    if not len(ids):
        empty = np.zeros(0)
        return Summary(ids=ids, x=empty, t_x=empty, T=empty, m=empty, unit_days=unit_days)
    # One row per (customer, day), values summed; sorted by customer then day.
    key = code.astype(np.int64) * (1 << 32) + (day - day.min() if len(day) else day)
    order = np.argsort(key, kind="stable")
    key, code, day, amount = key[order], code[order], day[order], amount[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    code, day, value = code[starts], day[starts], np.add.reduceat(amount, starts)
    n = len(ids)
    first_idx = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    last_idx = np.r_[first_idx[1:] - 1, len(code) - 1]
    periods = last_idx - first_idx + 1
    x = (periods - 1).astype(float)
    first, last = day[first_idx], day[last_idx]
    total = np.add.reduceat(value, first_idx) if n else np.zeros(0)
    repeat_total = total - value[first_idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, repeat_total / np.maximum(x, 1), 0.0)
    return Summary(
        ids=ids,
        x=x,
        t_x=(last - first) / unit_days,
        T=(end - first) / unit_days,
        m=m,
        unit_days=unit_days,
    )


def _parse_day(text: str) -> date:
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return datetime.fromisoformat(text).date() if "T" in text or " " in text else date.fromisoformat(text)


def read_transactions(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Read transactions from a file: CSV with the header ``customer,date,amount`` (dates ISO
    8601 or YYYYMMDD), or the CDNOW whitespace format — ``customer sample date cds amount``
    (CDNOW_sample.txt) or ``customer date cds amount`` (CDNOW_master.txt, whose first line is a
    header). Returns (customers, days as ``datetime64[D]``, amounts)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        head = fh.readline()
        fh.seek(0)
        if "," in head:
            reader = csv.DictReader(fh)
            missing = {"customer", "date", "amount"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(
                    f"CSV header needs customer,date,amount (missing {', '.join(sorted(missing))})"
                )
            rows = [(r["customer"], _parse_day(r["date"]), float(r["amount"])) for r in reader]
        else:
            rows = []
            for line in fh:
                parts = line.split()
                if not parts or not parts[-1].replace(".", "", 1).isdigit():
                    continue  # blank or header line
                if len(parts) == 5:
                    rows.append((parts[0], _parse_day(parts[2]), float(parts[4])))
                elif len(parts) == 4:
                    rows.append((parts[0], _parse_day(parts[1]), float(parts[3])))
                else:
                    raise ValueError(f"unexpected CDNOW line: {line.strip()!r}")
    if not rows:
        raise ValueError("no transactions in the file")
    customers, days, amounts = zip(*rows, strict=True)
    return list(customers), np.array(days, dtype="datetime64[D]"), np.array(amounts, dtype=float)


# ---------------------------------------------------------------------------------------------
# Fitting helpers


@dataclass
class Fit:
    """A fitted model: parameters by name, the total log-likelihood, data size, fit time."""

    model: str
    params: dict[str, float]
    log_likelihood: float
    customers: int
    seconds: float
    converged: bool
    message: str = ""

    def as_dict(self) -> dict:
        return {**self.params, "log_likelihood": self.log_likelihood, "customers": self.customers}


def _unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows (sorted) and, for each input row, the index of its distinct row. A lexsort
    of the columns (``np.unique(axis=0)`` is several times slower on 100k+ rows)."""
    cols = [np.asarray(c, dtype=float) for c in columns]
    if not len(cols[0]):
        return [c[:0] for c in cols], np.zeros(0, dtype=np.intp)
    order = np.lexsort(cols[::-1])
    ordered = [c[order] for c in cols]
    new = np.zeros(len(order), dtype=bool)
    new[0] = True
    for c in ordered:
        new[1:] |= c[1:] != c[:-1]
    group = np.cumsum(new) - 1
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = group
    return [c[new] for c in ordered], inverse


def _aggregate(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Identical rows once, with their counts as weights."""
    unique, inverse = _unique_rows(*columns)
    return unique, np.bincount(inverse, minlength=len(unique[0])).astype(float)


def _guarded(objective):
    """An objective (value, gradient) that answers +inf outside |log-parameter| ≤ 30 or where the
    arithmetic overflows, so BFGS's line search backs off instead of stepping into NaN."""

    def f(theta):
        if np.any(np.abs(theta) > 30):
            return np.inf, np.zeros_like(theta)
        with np.errstate(all="ignore"):
            value, grad = objective(theta)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return np.inf, np.zeros_like(theta)
        return value, grad

    return f


def _no_data(model: str, names: tuple[str, ...]) -> Fit:
    nan = float("nan")
    return Fit(model, dict.fromkeys(names, nan), nan, 0, 0.0, converged=False, message="no data to fit")


def _minimize(neg_ll, n_params: int, *, jac: bool) -> optimize.OptimizeResult:
    """BFGS on log-parameters from log(1) = 0 (the generic start). With finite-difference
    gradients (no ``jac``) the gradient tolerance is looser: those gradients are not better than
    about 1e-7. A stop on "precision loss" where the gradient is already tiny is a converged fit;
    elsewhere a Nelder-Mead polish (at most 2,000 evaluations) takes over."""
    x0 = np.zeros(n_params)
    gtol = 1e-8 if jac else 1e-6
    res = optimize.minimize(neg_ll, x0, jac=jac, method="BFGS", options={"gtol": gtol, "maxiter": 2000})
    if not res.success and np.all(np.isfinite(res.jac)) and np.max(np.abs(res.jac)) < max(100 * gtol, 1e-5):
        res.success = True  # e.g. an MLE at the boundary (BG/NBD's a, b → ∞ together): flat, done
    if not res.success:
        fun = (lambda v: neg_ll(v)[0]) if jac else neg_ll
        polish = optimize.minimize(
            fun, res.x, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxfev": 2000}
        )
        if polish.fun <= res.fun:
            return polish
    return res


def _check_fit(model: str, names: tuple[str, ...], res, total_ll: float, n: int, seconds: float) -> Fit:
    values = np.exp(res.x)
    params = {k: float(v) for k, v in zip(names, values, strict=True)}
    ok = bool(np.all(np.isfinite(values)) and np.isfinite(total_ll) and np.all(values < 1e8))
    ok = ok and np.all(values > 1e-8)
    return Fit(
        model=model,
        params=params,
        log_likelihood=float(total_ll),
        customers=n,
        seconds=seconds,
        converged=bool(ok and res.success),
        message=str(getattr(res, "message", "")),
    )


# ---------------------------------------------------------------------------------------------
# BG/NBD


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of BG/NBD (Fader, Hardie & Lee 2005, eq. 6)."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def _bgnbd_objective(x, t_x, T, w):
    """Mean negative log-likelihood on log-parameters and its analytic gradient. The special
    functions depend on x only: they are evaluated once per distinct x and weighted by the
    rows' total weight per x (the per-row work is a few logs)."""
    xpos = x > 0
    wsum = w.sum()
    xv, xi = np.unique(x, return_inverse=True)
    wx = np.bincount(xi, weights=w, minlength=len(xv))  # total weight per distinct x
    log_t = np.log  # local alias for speed

    def f(theta):
        r, alpha, a, b = np.exp(theta)
        lat, ltx = log_t(alpha + T), log_t(alpha + t_x)
        rx = r + x
        a3 = -rx * lat
        bx1 = np.where(xpos, b + x - 1, 1.0)
        a4 = np.where(xpos, log_t(a) - log_t(bx1) - rx * ltx, -np.inf)
        lse = np.logaddexp(a3, a4)
        p4 = np.exp(a4 - lse)
        p3 = 1.0 - p4
        # per distinct x: log Γ(r+x) + log B(a, b+x) and their derivatives
        ll_x = special.gammaln(r + xv) + special.betaln(a, b + xv)
        dg_abx = special.digamma(a + b + xv)
        dr_x = special.digamma(r + xv)
        db_x = special.digamma(b + xv) - dg_abx
        const = -special.gammaln(r) + r * log_t(alpha) - special.betaln(a, b)
        ll = wx @ ll_x + wsum * const + w @ lse
        dg_ab = special.digamma(a + b)
        d_r = wx @ dr_x + wsum * (log_t(alpha) - special.digamma(r)) - w @ (p3 * lat + p4 * ltx)
        d_alpha = wsum * r / alpha - w @ (rx * (p3 / (alpha + T) + p4 / (alpha + t_x)))
        d_a = wsum * dg_ab - wx @ dg_abx + (w @ p4) / a
        d_b = wsum * (dg_ab - special.digamma(b)) + wx @ db_x - w @ (p4 / bx1)
        grad = np.array([r * d_r, alpha * d_alpha, a * d_a, b * d_b])
        return -ll / wsum, -grad / wsum

    return f


def bgnbd_fit(x, t_x, T) -> Fit:
    """Fit BG/NBD by maximum likelihood; parameters r, alpha, a, b."""
    started = time.perf_counter()
    (ux, ut, uT), w = _aggregate(x, t_x, T)
    if not len(w):
        return _no_data("bgnbd", ("r", "alpha", "a", "b"))
    res = _minimize(_guarded(_bgnbd_objective(ux, ut, uT, w)), 4, jac=True)
    total = float(w @ bgnbd_log_likelihood(np.exp(res.x), ux, ut, uT))
    return _check_fit("bgnbd", ("r", "alpha", "a", "b"), res, total, len(x), time.perf_counter() - started)


def bgnbd_p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) under BG/NBD (eq. 11 of Fader, Hardie & Lee 2005); 1 when x = 0."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(x > 0, special.expit(-log_odds), 1.0)


def bgnbd_expected(params, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` units under BG/NBD (eq. 10)."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    # 1 − ((α+T)/(α+T+t))^{r+x} · 2F1, with the power as exp(log1p) for small t.
    numer = 1.0 - np.exp((r + x) * np.log1p(-z)) * hyp
    return (a + b + x - 1) / (a - 1) * numer * bgnbd_p_alive(params, x, t_x, T)


def bgnbd_expected_new(params, t) -> np.ndarray:
    """E[X(t)] for a customer just acquired (eq. 7)."""
    r, alpha, a, b = params
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1.0 - np.exp(r * np.log1p(-z)) * special.hyp2f1(r, b, a + b - 1, z))


# ---------------------------------------------------------------------------------------------
# Pareto/NBD


def _log_hyp_term(r, alpha, s, beta, x, y):
    """log(2F1(r+s+x, b; r+s+x+1; z) / (max(α, β) + y)^{r+s+x}) of the Pareto/NBD likelihood, in
    the branch (α ≥ β: b = s+1, z = (α−β)/(α+y); α < β: b = r+x, z = (β−α)/(β+y)) that keeps
    the argument z in [0, 1)."""
    rsx = r + s + x
    if alpha >= beta:
        b2, big, diff = s + 1.0, alpha, alpha - beta
    else:
        b2, big, diff = r + x, beta, beta - alpha
    return np.log(special.hyp2f1(rsx, b2, rsx + 1, diff / (big + y))) - rsx * np.log(big + y)


def _log_diff(l1, l2):
    """log(exp(l1) − exp(l2)) for l1 ≥ l2; −inf when they are equal (t_x = T)."""
    with np.errstate(divide="ignore"):
        return l1 + np.log(-np.expm1(np.minimum(l2 - l1, 0.0)))


def _pareto_terms(params, x, t_x, T, l1=None, l2=None):
    """(common, log term 1, log term 2) with log L = common + logaddexp(term 1, term 2) (eq. 22 of
    the note: term 2 is log(s/(r+s+x) · A0), A0 the difference of the two 2F1 terms at t_x and
    T). ``l1``/``l2`` may be passed in when computed on fewer (deduplicated) rows."""
    r, alpha, s, beta = params
    if l1 is None:
        l1 = _log_hyp_term(r, alpha, s, beta, x, t_x)
    if l2 is None:
        l2 = _log_hyp_term(r, alpha, s, beta, x, T)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    term1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    term2 = np.log(s) - np.log(r + s + x) + _log_diff(l1, l2)
    return common, term1, term2


def pareto_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of Pareto/NBD (Fader & Hardie 2005 note, eq. 22)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common, term1, term2 = _pareto_terms(params, x, t_x, T)
    return common + np.logaddexp(term1, term2)


def _pareto_objective(x, t_x, T, w):
    """Mean negative log-likelihood on log-parameters. The 2F1 terms depend on (x, t_x) and on
    (x, T) only: each is evaluated once per distinct pair (most of the time goes there)."""
    wsum = w.sum()
    (x1, y1), inv1 = _unique_rows(x, t_x)
    (x2, y2), inv2 = _unique_rows(x, T)

    def f(theta):
        if np.any(np.abs(theta) > 30):
            return np.inf
        r, alpha, s, beta = params = np.exp(theta)
        with np.errstate(all="ignore"):
            l1 = _log_hyp_term(r, alpha, s, beta, x1, y1)[inv1]
            l2 = _log_hyp_term(r, alpha, s, beta, x2, y2)[inv2]
            common, term1, term2 = _pareto_terms(params, x, t_x, T, l1, l2)
            value = -(w @ (common + np.logaddexp(term1, term2))) / wsum
        return value if np.isfinite(value) else np.inf

    return f


def pareto_fit(x, t_x, T) -> Fit:
    """Fit Pareto/NBD by maximum likelihood; parameters r, alpha, s, beta. The likelihood's
    derivatives in the 2F1 parameters have no closed form: BFGS uses finite differences, on
    unique rows."""
    started = time.perf_counter()
    (ux, ut, uT), w = _aggregate(x, t_x, T)
    if not len(w):
        return _no_data("pareto_nbd", ("r", "alpha", "s", "beta"))
    res = _minimize(_pareto_objective(ux, ut, uT, w), 4, jac=False)
    total = float(w @ pareto_log_likelihood(np.exp(res.x), ux, ut, uT))
    return _check_fit(
        "pareto_nbd", ("r", "alpha", "s", "beta"), res, total, len(x), time.perf_counter() - started
    )


def pareto_p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) under Pareto/NBD (eq. 18 of the note) = term 1 / (term 1 + term 2)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    _, term1, term2 = _pareto_terms(params, x, t_x, T)
    return np.exp(term1 - np.logaddexp(term1, term2))


def pareto_expected(params, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T] under Pareto/NBD (eq. 24 of the note):
    (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^{s−1}] · P(alive), with the s → 1 limit
    (r+x)(β+T)/(α+T) · log(1 + t/(β+T)) taken care of by expm1."""
    r, alpha, s, beta = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    t = np.asarray(t, dtype=float)
    span = np.log1p(t / (beta + T))
    ratio = span if abs(s - 1) < 1e-12 else -np.expm1(-(s - 1) * span) / (s - 1)
    return (r + x) * (beta + T) / (alpha + T) * ratio * pareto_p_alive(params, x, t_x, T)


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma


def gamma_gamma_log_likelihood(params, x, m) -> np.ndarray:
    """Per-customer log density of the mean repeat value ``m`` given ``x`` repeat purchases
    (Fader & Hardie 2013, eq. 4); customers with x = 0 must be left out."""
    p, q, gamma = params
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def _gamma_gamma_objective(x, m, w):
    """Mean negative log-likelihood on log-parameters and its analytic gradient; the gamma
    functions (of p·x and q) once per distinct x."""
    wsum = w.sum()
    log_m, log_x = np.log(m), np.log(x)
    xv, xi = np.unique(x, return_inverse=True)
    wx = np.bincount(xi, weights=w, minlength=len(xv))
    wxx = wx * xv  # Σ w·x per distinct x
    w_logs = w @ (log_m + log_x)
    wx_logs = (w * x) @ (log_m + log_x)

    def f(theta):
        p, q, gamma = np.exp(theta)
        px = p * x
        lg = np.log(gamma + m * x)
        pxv = p * xv
        ll = (
            wx @ (special.gammaln(pxv + q) - special.gammaln(pxv))
            + wsum * (q * np.log(gamma) - special.gammaln(q))
            + p * wx_logs
            - w_logs
            + w @ (log_x - (px + q) * lg)
        )
        dg = special.digamma(pxv + q)
        d_p = wxx @ (dg - special.digamma(pxv)) + wx_logs - (w * x) @ lg
        d_q = wx @ dg + wsum * (np.log(gamma) - special.digamma(q)) - w @ lg
        d_g = wsum * q / gamma - w @ ((px + q) / (gamma + m * x))
        grad = np.array([p * d_p, q * d_q, gamma * d_g])
        return -ll / wsum, -grad / wsum

    return f


def gamma_gamma_fit(x, m) -> Fit:
    """Fit Gamma-Gamma on customers with x > 0 and m > 0 (others are dropped); parameters p, q,
    gamma."""
    started = time.perf_counter()
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    (ux, um), w = _aggregate(x[keep], m[keep])
    if not len(w):
        return _no_data("gamma_gamma", ("p", "q", "gamma"))
    res = _minimize(_guarded(_gamma_gamma_objective(ux, um, w)), 3, jac=True)
    total = float(w @ gamma_gamma_log_likelihood(np.exp(res.x), ux, um))
    return _check_fit(
        "gamma_gamma", ("p", "q", "gamma"), res, total, int(keep.sum()), time.perf_counter() - started
    )


def gamma_gamma_expected_value(params, x, m) -> np.ndarray:
    """E[M | x, m]: conditional expected average purchase value (Fader & Hardie 2013, eq. 5),
    (γ + m·x)·p / (p·x + q − 1); for x = 0 the population mean p·γ/(q − 1). Needs q > 1."""
    p, q, gamma = params
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return (gamma + np.where(x > 0, m, 0.0) * x) * p / (p * x + q - 1)


# ---------------------------------------------------------------------------------------------
# CLV


def clv(
    purchases_model: str,
    params,
    gg_params,
    x,
    t_x,
    T,
    m,
    *,
    horizon: float,
    steps: int = 1,
    discount_rate: float = 0.0,
) -> np.ndarray:
    """Expected value over ``horizon`` units (see the module docstring for the definition):
    E[M | x, m] × the discounted expected purchases of each of ``steps`` equal steps."""
    expected = bgnbd_expected if purchases_model == "bgnbd" else pareto_expected
    value = gamma_gamma_expected_value(gg_params, x, m)
    total = np.zeros(np.shape(x), dtype=float)
    previous = np.zeros_like(total)
    for k in range(1, steps + 1):
        cumulative = expected(params, horizon * k / steps, x, t_x, T)
        total += (cumulative - previous) / (1.0 + discount_rate) ** k
        previous = cumulative
    return value * total
