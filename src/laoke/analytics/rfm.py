"""RFM scores and named segments (SPEC 11).

Inputs per member with at least one counted order: recency (days since the last purchase day),
frequency (counted orders), monetary (net spend). Each becomes a score 1–5 by quintile of the
shop's own members — 5 is best (most recent, most frequent, highest spend):

    score = 1 + floor(5 · (members strictly worse) / members)

Ties: members with the same value get the same score, the score of the lowest rank of their tie
group (pandas ``rank(method="min")``). So the worst value always scores 1 and a big tie never
splits; with most members at one order, F takes few values (e.g. 1, 4, 5) — intended: two
members who bought equally often must not get different scores.

Segments use R and the combined FM = round-half-up((F + M) / 2), in the grid of the widely used
RFM segment map (R rows × FM columns):

    R \\ FM     1                2                3              4            5
    5          new              potential        potential      champions    champions
    4          promising        potential        potential      loyal        loyal
    3          about_to_sleep   about_to_sleep   need_attention loyal        loyal
    2          hibernating      hibernating      at_risk        at_risk      cant_lose
    1          lost             hibernating      at_risk        at_risk      cant_lose

Chinese names for the translators: champions 重要价值客户, loyal 忠诚客户, potential 潜力客户,
new 新客户, promising 有潜力新客, need_attention 需关注客户, about_to_sleep 即将沉睡客户,
at_risk 重要挽留客户, cant_lose 重要保持客户, hibernating 沉睡客户, lost 流失客户.
"""

from __future__ import annotations

import numpy as np
from django.db import models
from django.utils.translation import pgettext_lazy


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", pgettext_lazy("RFM segment", "Champions")
    LOYAL = "loyal", pgettext_lazy("RFM segment", "Loyal")
    POTENTIAL = "potential", pgettext_lazy("RFM segment", "Potential loyalists")
    NEW = "new", pgettext_lazy("RFM segment", "New customers")
    PROMISING = "promising", pgettext_lazy("RFM segment", "Promising")
    NEED_ATTENTION = "need_attention", pgettext_lazy("RFM segment", "Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", pgettext_lazy("RFM segment", "About to sleep")
    AT_RISK = "at_risk", pgettext_lazy("RFM segment", "At risk")
    CANT_LOSE = "cant_lose", pgettext_lazy("RFM segment", "Can't lose them")
    HIBERNATING = "hibernating", pgettext_lazy("RFM segment", "Hibernating")
    LOST = "lost", pgettext_lazy("RFM segment", "Lost")


_S = RfmSegment
# GRID[r - 1][fm - 1]
GRID: tuple[tuple[str, ...], ...] = (
    (_S.LOST, _S.HIBERNATING, _S.AT_RISK, _S.AT_RISK, _S.CANT_LOSE),
    (_S.HIBERNATING, _S.HIBERNATING, _S.AT_RISK, _S.AT_RISK, _S.CANT_LOSE),
    (_S.ABOUT_TO_SLEEP, _S.ABOUT_TO_SLEEP, _S.NEED_ATTENTION, _S.LOYAL, _S.LOYAL),
    (_S.PROMISING, _S.POTENTIAL, _S.POTENTIAL, _S.LOYAL, _S.LOYAL),
    (_S.NEW, _S.POTENTIAL, _S.POTENTIAL, _S.CHAMPIONS, _S.CHAMPIONS),
)


def quintile_scores(values, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1–5: 1 + floor(5 · (number of strictly worse values) / n); ties share a score."""
    v = np.asarray(values, dtype=float)
    if not higher_is_better:
        v = -v
    n = len(v)
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    worse = np.searchsorted(np.sort(v), v, side="left")  # count of values strictly below
    return (1 + (5 * worse) // n).astype(np.int16)


def rfm_scores(recency_days, frequency, monetary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, F, M) scores; a smaller recency (a more recent purchase) is better."""
    return (
        quintile_scores(recency_days, higher_is_better=False),
        quintile_scores(frequency),
        quintile_scores(monetary),
    )


def rfm_segments(r, f, m) -> np.ndarray:
    """Segment codes from the scores by the grid above."""
    r, f, m = (np.asarray(v, dtype=np.int64) for v in (r, f, m))
    fm = (f + m + 1) // 2  # round half up of the mean of F and M
    grid = np.array([[str(c) for c in row] for row in GRID], dtype=object)
    return grid[r - 1, fm - 1]
