"""CLV models on the CDNOW sample against the PUBLISHED figures (/work/shared/data/README.md):
BG/NBD and Pareto/NBD (Fader, Hardie & Lee 2005), Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and
CLV"). Every fit starts from the generic point (all parameters 1); expectations and P(alive) are
checked against formulas written out here or the ``lifetimes`` package with the same parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

from laoke.analytics import clv

DATA = Path("/work/shared/data/cdnow")
SAMPLE = DATA / "CDNOW_sample.txt"

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def published_summary() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def summary() -> clv.Summary:
    customers, days, amounts = clv.read_transactions(SAMPLE)
    return clv.summary_from_transactions(customers, days, amounts, calibration_end="1997-09-30")


@pytest.fixture(scope="module")
def bgnbd(published_summary):
    s = published_summary
    return clv.bgnbd_fit(s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy())


@pytest.fixture(scope="module")
def pareto(published_summary):
    s = published_summary
    return clv.pareto_fit(s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy())


@pytest.fixture(scope="module")
def gamma_gamma(summary):
    return clv.gamma_gamma_fit(summary.x, summary.m)


def _within(fitted: dict, published: dict, rel: float = 0.005) -> None:
    for name, value in published.items():
        assert fitted[name] == pytest.approx(value, rel=rel), name


def test_summary_equals_the_published_summary(summary):
    # The summary file is keyed by the sample's own numbering (2nd column), our summary by the
    # customer id (1st column): align them through the raw file read independently with pandas.
    raw = pd.read_csv(SAMPLE, sep=r"\s+", header=None, dtype={0: str, 1: int})
    sample_id = dict(zip(raw[0], raw[1], strict=True))
    published = pd.read_csv(DATA / "cdnow_customers_summary.csv").set_index("ID")
    assert len(summary) == len(published) == 2357
    expected = published.loc[[sample_id[c] for c in summary.ids]]
    np.testing.assert_array_equal(summary.x, expected["frequency"].to_numpy())
    np.testing.assert_array_equal(np.round(summary.t_x, 2), expected["recency"].to_numpy())
    np.testing.assert_array_equal(np.round(summary.T, 2), expected["T"].to_numpy())
    # monetary: mean of the repeat purchase days' summed values (first day excluded)
    raw["day"] = pd.to_datetime(raw[2].astype(str))
    cal = raw[raw["day"] <= "1997-09-30"].groupby([0, "day"])[4].sum().reset_index()
    repeat = cal.groupby(0)[4].apply(lambda v: v.iloc[1:].mean() if len(v) > 1 else 0.0)
    np.testing.assert_allclose(summary.m, repeat.loc[list(summary.ids)].to_numpy(), rtol=1e-12)


def test_bgnbd_reproduces_the_published_fit(bgnbd):
    assert bgnbd.converged
    _within(bgnbd.params, BGNBD)
    assert bgnbd.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_bgnbd_conditional_expectation_published_customer(bgnbd):
    expected = clv.bgnbd_expected(tuple(bgnbd.params.values()), 39, 2, 30.43, 38.86)
    assert round(float(expected), 3) == 1.226


def test_pareto_reproduces_the_published_fit(pareto):
    assert pareto.converged
    _within(pareto.params, PARETO)
    assert pareto.log_likelihood == pytest.approx(-9595.0, abs=0.1)


def test_gamma_gamma_reproduces_the_published_fit(gamma_gamma):
    assert gamma_gamma.converged
    assert gamma_gamma.customers == 946
    _within(gamma_gamma.params, GAMMA_GAMMA)
    assert gamma_gamma.log_likelihood == pytest.approx(-4055.92, abs=0.01)


def test_bgnbd_p_alive_independent_formula(published_summary):
    # P(alive) = 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))  (FHL 2005, eq. 11)
    r, alpha, a, b = BGNBD.values()
    s = published_summary
    x, t_x, T = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    odds = np.zeros_like(x)
    rep = x > 0
    odds[rep] = a / (b + x[rep] - 1) * ((alpha + T[rep]) / (alpha + t_x[rep])) ** (r + x[rep])
    np.testing.assert_allclose(clv.bgnbd_p_alive((r, alpha, a, b), x, t_x, T), 1 / (1 + odds), rtol=1e-12)


def test_pareto_p_alive_and_expectation_match_lifetimes(published_summary):
    s = published_summary
    x, t_x, T = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    ref = ParetoNBDFitter()
    ref.params_ = pd.Series(PARETO)
    np.testing.assert_allclose(
        clv.pareto_p_alive(tuple(PARETO.values()), x, t_x, T),
        ref.conditional_probability_alive(x, t_x, T),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        clv.pareto_expected(tuple(PARETO.values()), 39, x, t_x, T),
        ref.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T),
        rtol=1e-8,
    )


def test_bgnbd_expectation_matches_lifetimes(published_summary):
    s = published_summary
    x, t_x, T = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    ref = BetaGeoFitter()
    ref.params_ = pd.Series(BGNBD)
    np.testing.assert_allclose(
        clv.bgnbd_expected(tuple(BGNBD.values()), 13, x, t_x, T),
        ref.conditional_expected_number_of_purchases_up_to_time(13, x, t_x, T),
        rtol=1e-9,
    )


def test_gamma_gamma_expected_value_and_clv(summary):
    p, q, gamma = GAMMA_GAMMA.values()
    x, m = summary.x, summary.m
    # E[M | x, m] = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m  (a weighted mean, FHL 2005)
    expected = (q - 1) / (p * x + q - 1) * (p * gamma / (q - 1)) + p * x / (p * x + q - 1) * m
    np.testing.assert_allclose(clv.gamma_gamma_expected_value((p, q, gamma), x, m), expected, rtol=1e-12)
    # 12 monthly steps of 4.345 weeks at 1% a month, as lifetimes' customer_lifetime_value does it
    rep = x > 0
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(BGNBD)
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # fit() sets this alias
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series({"p": p, "q": q, "v": gamma})
    ref = ggf.customer_lifetime_value(
        bgf,
        *(pd.Series(v[rep]) for v in (x, summary.t_x, summary.T, m)),
        time=12,
        freq="W",
        discount_rate=0.01,
    )
    ours = clv.clv(
        "bgnbd",
        tuple(BGNBD.values()),
        (p, q, gamma),
        x[rep],
        summary.t_x[rep],
        summary.T[rep],
        m[rep],
        horizon=12 * 4.345,
        steps=12,
        discount_rate=0.01,
    )
    np.testing.assert_allclose(ours, ref.to_numpy(), rtol=1e-9)


def test_csv_reader_and_daily_merge(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text(
        "customer,date,amount\n"
        "a,2024-01-01,10\n"
        "a,2024-01-01,5\n"  # same day: one purchase day of 15
        "a,2024-01-15,30\n"
        "a,2024-01-29,50\n"
        "b,20240108,7\n"
        "c,2024-02-20,9\n",  # after the calibration end: ignored
        encoding="utf-8",
    )
    s = clv.summary_from_transactions(*clv.read_transactions(path), calibration_end="2024-02-05")
    assert list(s.ids) == ["a", "b"]
    np.testing.assert_array_equal(s.x, [2, 0])
    np.testing.assert_allclose(s.t_x, [4, 0])
    np.testing.assert_allclose(s.T, [5, 4])
    np.testing.assert_allclose(s.m, [40, 0])


def test_no_transactions_is_an_empty_summary():
    s = clv.summary_from_transactions(
        [], np.array([], dtype="datetime64[D]"), [], calibration_end="2024-01-01"
    )
    assert len(s) == 0 and s.x.shape == s.t_x.shape == s.T.shape == s.m.shape == (0,)
