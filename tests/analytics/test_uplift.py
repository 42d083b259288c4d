"""The SPEC 11 statistics against independent implementations: statsmodels' pooled z-test and
Wald interval for two proportions, SciPy's Welch t-test on the per-member revenue itself."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from laoke.analytics.uplift import ArmSums, incremental, proportion_uplift, revenue_uplift


def _sums(values_fen: list[int]) -> ArmSums:
    return ArmSums(
        n=len(values_fen),
        responders=sum(1 for v in values_fen if v > 0),
        orders=sum(1 for v in values_fen if v > 0),
        revenue_fen=sum(values_fen),
        revenue_sq_fen=sum(v * v for v in values_fen),
    )


@settings(max_examples=200, deadline=None)
@given(
    n_t=st.integers(1, 100_000),
    n_c=st.integers(1, 20_000),
    ft=st.floats(0, 1),
    fc=st.floats(0, 1),
)
def test_proportion_uplift_equals_statsmodels(n_t, n_c, ft, fc):
    x_t, x_c = round(n_t * ft), round(n_c * fc)
    got = proportion_uplift(ArmSums(n_t, x_t), ArmSums(n_c, x_c))
    if x_t + x_c in (0, n_t + n_c):
        assert got["status"] == "not_enough_data"
        assert got["abs"] is None and got["p_value"] is None
        return
    _, p = proportions_ztest([x_t, x_c], [n_t, n_c])  # pooled variance by default
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
    assert got["status"] == "ok"
    assert got["abs"] == pytest.approx(x_t / n_t - x_c / n_c, abs=1e-15)
    assert got["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert got["ci_low"] == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert got["ci_high"] == pytest.approx(high, rel=1e-9, abs=1e-12)
    if x_c:
        assert got["rel"] == pytest.approx((x_t / n_t - x_c / n_c) / (x_c / n_c), rel=1e-12)
    else:
        assert got["rel"] is None and got["reason"] == "control_rate_zero"


@pytest.mark.parametrize("seed", range(8))
def test_revenue_uplift_equals_scipy_welch_on_the_members_themselves(seed):
    r = random.Random(seed)
    n_t, n_c = r.randint(2, 4000), r.randint(2, 800)
    treated = [r.randint(100, 90_000) if r.random() < 0.09 else 0 for _ in range(n_t)]
    control = [r.randint(100, 90_000) if r.random() < 0.05 else 0 for _ in range(n_c)]
    if not any(treated) and not any(control):
        treated[0] = 1000
    got = revenue_uplift(_sums(treated), _sums(control))
    yuan_t, yuan_c = np.array(treated) / 100, np.array(control) / 100
    ref = stats.ttest_ind(yuan_t, yuan_c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert got["status"] == "ok"
    assert got["abs"] == pytest.approx(yuan_t.mean() - yuan_c.mean(), rel=1e-12, abs=1e-12)
    assert got["p_value"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
    assert got["ci_low"] == pytest.approx(ci.low, rel=1e-9)
    assert got["ci_high"] == pytest.approx(ci.high, rel=1e-9)
    assert got["df"] == pytest.approx(ref.df, rel=1e-9)


def test_not_enough_data_is_said_never_nan():
    empty = ArmSums(0, 0)
    some = ArmSums(100, 7, 7, 70_000, 7 * 10_000**2)
    for result in (
        proportion_uplift(some, empty),  # empty control
        proportion_uplift(empty, some),
        proportion_uplift(ArmSums(50, 0), ArmSums(10, 0)),  # no responders at all
        proportion_uplift(ArmSums(5, 5), ArmSums(3, 3)),  # everybody responded
        revenue_uplift(some, ArmSums(1, 0)),  # one member: no variance estimate
        revenue_uplift(ArmSums(50, 0), ArmSums(10, 0)),  # nobody spent: zero variance
    ):
        assert result["status"] == "not_enough_data"
        assert result["reason"]
        assert all(v is None for k, v in result.items() if k not in ("status", "reason"))
    assert incremental(some, empty)["status"] == "not_enough_data"
    ok = proportion_uplift(ArmSums(100, 10), ArmSums(100, 0))
    assert ok["status"] == "ok" and ok["rel"] is None
    assert not any(isinstance(v, float) and math.isnan(v) for v in ok.values())


def test_incremental_orders_and_revenue_scale_the_control_to_the_treated_arm():
    t = ArmSums(n=900, responders=90, orders=100, revenue_fen=1_000_000)
    c = ArmSums(n=100, responders=5, orders=6, revenue_fen=40_000)
    got = incremental(t, c)
    assert got["orders"] == pytest.approx(100 - 6 * 9)
    assert got["revenue"] == pytest.approx((1_000_000 - 40_000 * 9) / 100)
