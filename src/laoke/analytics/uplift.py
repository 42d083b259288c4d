"""The statistics of SPEC 11 for a treatment arm against its control — pure functions, no Django.

- **Response rate** (刺激响应率 vs the control's 自然回购率): responders ÷ arm size.
- **Uplift** = p_t − p_c (absolute) and (p_t − p_c) ÷ p_c (relative), with the 95% **Wald
  interval, unpooled**: (p_t − p_c) ± z₀.₉₇₅ · √(p_t(1−p_t)/n_t + p_c(1−p_c)/n_c), and the
  two-sided p-value of the **pooled two-proportion z-test**: p̂ = (x_t + x_c)/(n_t + n_c),
  z = (p_t − p_c) / √(p̂(1−p̂)(1/n_t + 1/n_c)).
- **Revenue per member** = the arm's revenue ÷ its size (non-responders count as 0), compared by
  **Welch's t**: difference of means ± t₀.₉₇₅,ν · √(s_t²/n_t + s_c²/n_c) with the
  Welch–Satterthwaite ν, two-sided p-value. Computed from exact integer sums (Σx and Σx² in fen),
  so no per-member list is needed and the variance has no cancellation error.

Where a figure is not defined by its method — an empty arm, no responders at all (or everybody),
fewer than two members for a variance, zero variance in both arms — the result says so
(``status: "not_enough_data"`` with a reason) and the numbers are ``None``; never NaN or a crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

LEVEL = 0.95
NOT_ENOUGH = "not_enough_data"


@dataclass(frozen=True)
class ArmSums:
    """An arm's sufficient statistics: size, responders, orders, Σ revenue and Σ revenue² (fen,
    per member, members without an order count as 0)."""

    n: int
    responders: int
    orders: int = 0
    revenue_fen: int = 0
    revenue_sq_fen: int = 0

    @property
    def response_rate(self) -> float | None:
        return self.responders / self.n if self.n else None

    @property
    def revenue_per_member(self) -> float | None:
        """Yuan per member of the arm."""
        return self.revenue_fen / self.n / 100 if self.n else None


def _empty(reason: str, *keys: str) -> dict:
    return {**dict.fromkeys(keys), "status": NOT_ENOUGH, "reason": reason}


_UPLIFT_KEYS = ("abs", "rel", "ci_low", "ci_high", "p_value")
_REVENUE_KEYS = ("abs", "ci_low", "ci_high", "p_value")


def proportion_uplift(t: ArmSums, c: ArmSums, *, level: float = LEVEL) -> dict:
    """Absolute and relative uplift of the response rate, the unpooled Wald interval of the
    absolute uplift and the pooled z-test's two-sided p-value."""
    if t.n == 0 or c.n == 0:
        return _empty("empty_arm", *_UPLIFT_KEYS)
    x = t.responders + c.responders
    if x == 0:
        return _empty("no_responders", *_UPLIFT_KEYS)
    if x == t.n + c.n:
        return _empty("everybody_responded", *_UPLIFT_KEYS)
    p_t, p_c = t.responders / t.n, c.responders / c.n
    diff = p_t - p_c
    pooled = x / (t.n + c.n)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / t.n + 1 / c.n))
    p_value = float(2 * stats.norm.sf(abs(diff) / se_pooled))
    se = math.sqrt(p_t * (1 - p_t) / t.n + p_c * (1 - p_c) / c.n)
    half = float(stats.norm.ppf(0.5 + level / 2)) * se
    return {
        "abs": diff,
        "rel": diff / p_c if p_c > 0 else None,
        "ci_low": diff - half,
        "ci_high": diff + half,
        "p_value": p_value,
        "status": "ok",
        "reason": "" if p_c > 0 else "control_rate_zero",
    }


def _variance_fen2(a: ArmSums) -> float:
    """Sample variance (ddof 1) of per-member revenue, fen², from exact integer sums."""
    return (a.n * a.revenue_sq_fen - a.revenue_fen * a.revenue_fen) / (a.n * (a.n - 1))


def revenue_uplift(t: ArmSums, c: ArmSums, *, level: float = LEVEL) -> dict:
    """Difference of revenue per member (yuan) with Welch's interval and two-sided p-value."""
    if t.n < 2 or c.n < 2:
        return _empty("arm_too_small", *_REVENUE_KEYS)
    q_t, q_c = _variance_fen2(t) / t.n, _variance_fen2(c) / c.n
    var = q_t + q_c
    if var <= 0:
        return _empty("no_variance", *_REVENUE_KEYS)
    se = math.sqrt(var)
    diff = t.revenue_fen / t.n - c.revenue_fen / c.n
    df = var * var / (q_t * q_t / (t.n - 1) + q_c * q_c / (c.n - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return {
        "abs": diff / 100,
        "ci_low": (diff - half) / 100,
        "ci_high": (diff + half) / 100,
        "p_value": float(2 * stats.t.sf(abs(diff) / se, df)),
        "df": df,
        "status": "ok",
        "reason": "",
    }


def incremental(t: ArmSums, c: ArmSums) -> dict:
    """Orders and revenue the treatment earned beyond what its size would have brought at the
    control's rates: orders_t − orders_c·n_t/n_c and (rpm_t − rpm_c)·n_t (yuan)."""
    if t.n == 0 or c.n == 0:
        return {"orders": None, "revenue": None, "status": NOT_ENOUGH, "reason": "empty_arm"}
    return {
        "orders": t.orders - c.orders * t.n / c.n,
        "revenue": (t.revenue_fen - c.revenue_fen * t.n / c.n) / 100,
        "status": "ok",
        "reason": "",
    }
