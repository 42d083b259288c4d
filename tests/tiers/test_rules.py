"""The rule registry: each kind reads its own figure; the best level is the highest rank met.
Checked against a direct computation over random ladders and figures (no database)."""

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from laoke.tiers.models import DowngradePolicy, RuleKind, TierLevel, TierProgramme
from laoke.tiers.review import review_due
from laoke.tiers.rules import REGISTRY, Figures, best_level, rule_for

KIND_FIGURE = {
    "cumulative_spend": "spend_fen",
    "cumulative_recharge": "recharge_fen",
    "points_balance": "points",
    "order_count": "orders",
}


def test_registry_covers_every_kind():
    assert set(REGISTRY) == set(RuleKind.values)
    lv = TierLevel(rule_kind="manual", threshold=0)
    assert rule_for(lv).apply(lv, Figures(10**9, 10**9, 10**9, 10**9)).met is False
    lv = TierLevel(rule_kind="order_count", threshold=3)
    r = rule_for(lv).apply(lv, Figures(orders=3))
    assert (r.met, r.figure, r.threshold) == (True, 3, 3)


ladder = st.lists(st.tuples(st.sampled_from(RuleKind.values), st.integers(0, 10**6)), min_size=0, max_size=6)
figures = st.builds(
    Figures,
    spend_fen=st.integers(0, 10**6),
    recharge_fen=st.integers(0, 10**6),
    orders=st.integers(0, 10**6),
    points=st.integers(0, 10**6),
)


@given(ladder, figures)
def test_best_level_is_the_highest_rank_met(specs, f):
    levels = [TierLevel(pk=i + 1, rank=i, rule_kind=k, threshold=t) for i, (k, t) in enumerate(specs)]
    expected = None
    for i, (kind, threshold) in enumerate(specs):
        if kind != "manual" and getattr(f, KIND_FIGURE[kind]) >= threshold:
            expected = i
    got = best_level(list(reversed(levels)), f)  # the order of the list does not matter
    assert (got.rank if got else None) == expected


def _programme(policy, month=None, day=None, last=None):
    return TierProgramme(
        downgrade_policy=policy,
        review_month=month,
        review_day=day,
        is_active=True,
        last_review_on=last,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def test_review_due_dates():
    yearly = _programme(DowngradePolicy.YEARLY_REVIEW, 2, 28, last=date(2026, 2, 28))
    assert not review_due(yearly, date(2026, 12, 31))
    assert not review_due(yearly, date(2027, 2, 27))
    assert review_due(yearly, date(2027, 2, 28))
    assert review_due(yearly, date(2027, 3, 1))  # missed: caught up
    rolling = _programme(DowngradePolicy.ROLLING_12_MONTHS, last=date(2026, 5, 1))
    assert not review_due(rolling, date(2026, 5, 1)) and review_due(rolling, date(2026, 5, 2))
    assert review_due(_programme(DowngradePolicy.ROLLING_12_MONTHS), date(2026, 5, 1))
    assert not review_due(_programme(DowngradePolicy.NEVER), date(2030, 1, 1))
    inactive = _programme(DowngradePolicy.ROLLING_12_MONTHS)
    inactive.is_active = False
    assert not review_due(inactive, date(2030, 1, 1))
