"""RFM scores and segments against an independent pandas computation (ranks with ties at the
group's lowest rank, and the segment map written out as patterns over "R" + "FM")."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from laoke.analytics.rfm import RfmSegment, quintile_scores, rfm_scores, rfm_segments

PATTERNS = {  # the documented map, as patterns over the two digits R and FM
    r"5[45]": "champions",
    r"[34][45]": "loyal",
    r"[45][23]": "potential",
    r"51": "new",
    r"41": "promising",
    r"33": "need_attention",
    r"3[12]": "about_to_sleep",
    r"[12][34]": "at_risk",
    r"[12]5": "cant_lose",
    r"11": "lost",
    r"[12][12]": "hibernating",
}


def _pandas_scores(s: pd.Series) -> pd.Series:
    return (1 + np.floor(5 * (s.rank(method="min") - 1) / len(s))).astype(int)


def test_scores_and_segments_match_pandas():
    rng = np.random.default_rng(7)
    n = 997
    df = pd.DataFrame(
        {
            "recency": rng.integers(0, 400, n),
            "frequency": rng.geometric(0.5, n),  # many ties at 1 and 2
            "monetary": rng.gamma(2.0, 300.0, n).round(0),
        }
    )
    r, f, m = rfm_scores(df["recency"], df["frequency"], df["monetary"])
    exp_r = _pandas_scores(-df["recency"])
    exp_f = _pandas_scores(df["frequency"])
    exp_m = _pandas_scores(df["monetary"])
    np.testing.assert_array_equal(r, exp_r)
    np.testing.assert_array_equal(f, exp_f)
    np.testing.assert_array_equal(m, exp_m)
    fm = np.floor((exp_f + exp_m) / 2 + 0.5).astype(int)
    key = exp_r.astype(str) + fm.astype(str)
    expected = [next(seg for pat, seg in PATTERNS.items() if re.fullmatch(pat, k)) for k in key]
    assert list(rfm_segments(r, f, m)) == expected
    assert set(expected) <= set(RfmSegment.values)


def test_ties_share_the_score_and_worst_scores_one():
    # six members with one order, four with more: every one-order member scores 1
    scores = quintile_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 9])
    assert list(scores) == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    assert list(quintile_scores([5, 5, 5])) == [1, 1, 1]
    assert list(quintile_scores([3, 2, 1], higher_is_better=False)) == [1, 2, 4]
    assert len(quintile_scores([])) == 0


def test_every_grid_cell_is_a_segment():
    r, fm = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    r, f = r.ravel(), fm.ravel()
    assert set(rfm_segments(r, f, f)) == set(RfmSegment.values)
