"""Draw games: set probabilities (chi-square against the observed frequencies with a fixed-seed
RNG), stock never exceeded, per-member limits, coupon prizes through the coupon service."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from scipy.stats import chisquare

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.holidays import draws
from laoke.holidays.models import DrawEntry, DrawPrize
from laoke.members.services import member_create
from laoke.promotions.models import Coupon
from laoke.promotions.services import coupon_template_create

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)


def _game(prizes, **over):
    data = {
        "code": "g1",
        "name": "购物前抽奖",
        "kind": "pre_purchase",
        "starts_at": T0 - timedelta(hours=1),
        "ends_at": T0 + timedelta(days=3),
        "daily_limit": 1,
        "prizes": prizes,
    }
    data.update(over)
    return draws.draw_game_create(data=data)


def _code(fn, **kw):
    with pytest.raises(DomainError) as e:
        fn(**kw)
    return e.value.code


def test_probabilities_over_many_picks_match_the_set_ones():
    """The selection itself (``pick`` on the RNG's number), 200,000 times with a fixed seed."""
    bps = [2_000, 500, 500, 1_000]
    prizes = [DrawPrize(pk=i + 1, name=str(i), probability_bp=bp, stock=10**9) for i, bp in enumerate(bps)]
    rng = random.Random(20260925)
    n = 200_000
    counts = [0] * (len(bps) + 1)
    for _ in range(n):
        p = draws.pick(prizes, rng.randrange(10_000))
        counts[p.pk - 1 if p else -1] += 1
    expected = [n * bp / 10_000 for bp in bps] + [n * (10_000 - sum(bps)) / 10_000]
    assert chisquare(counts, expected).pvalue > 0.001
    # and the test can fail: the same counts against other probabilities are rejected
    wrong = [n * bp / 10_000 for bp in (2_500, 500, 500, 500)] + [n * 0.6]
    assert chisquare(counts, wrong).pvalue < 1e-6


def test_draws_through_the_service_follow_the_probabilities_and_never_exceed_stock():
    tpl = coupon_template_create(
        data={"name": "一楼9折券", "kind": "percent", "rate_off_bp": 1_000, "valid_days": 3}
    )
    game = _game(
        [
            {"name": "购物袋", "probability_bp": 3_000, "stock": 10_000},
            {"name": "一楼9折券", "probability_bp": 2_000, "stock": 10_000, "coupon_template_id": tpl.pk},
            {"name": "饮料", "probability_bp": 1_000, "stock": 5},
        ],
        daily_limit=1000,
    )
    member = member_create(name="抽奖者", mobile="13900000001")
    rng = random.Random(7)
    n = 250
    with clock.frozen(T0):
        entries = [draws.draw(game_id=game.pk, member_id=member.pk, rng=rng) for _ in range(n)]
    by = {"购物袋": 0, "一楼9折券": 0, "饮料": 0, None: 0}
    for e in entries:
        by[e.prize.name if e.prize else None] += 1
    assert by["饮料"] == 5  # 10% of 250 ≈ 25 rolls, the stock stops it at 5
    prizes = {p.name: p for p in game.prizes.all()}
    assert prizes["饮料"].awarded == 5 and prizes["购物袋"].awarded == by["购物袋"]
    # the prizes with stock to spare follow 30% / 20% (chi-square on bag, coupon, rest)
    rest = n - by["购物袋"] - by["一楼9折券"]
    assert chisquare([by["购物袋"], by["一楼9折券"], rest], [0.3 * n, 0.2 * n, 0.5 * n]).pvalue > 0.001
    # each coupon prize issued exactly one coupon, to the member, keyed by the entry
    coupons = Coupon.objects.filter(template=tpl)
    assert coupons.count() == by["一楼9折券"]
    assert set(coupons.values_list("issue_key", flat=True)) == {
        f"draw:{e.pk}" for e in entries if e.prize and e.prize.name == "一楼9折券"
    }
    assert all(c.member_id == member.pk for c in coupons)


def test_limits_window_and_validation():
    game = _game([{"name": "袋", "probability_bp": 10_000, "stock": 100}], entry_limit=2)
    m = member_create(name="甲", mobile="13900000002")
    rng = random.Random(1)
    with clock.frozen(T0):
        draws.draw(game_id=game.pk, member_id=m.pk, rng=rng)
        assert _code(draws.draw, game_id=game.pk, member_id=m.pk, rng=rng) == "DRAW_DAILY_LIMIT"
    with clock.frozen(T0 + timedelta(days=1)):
        draws.draw(game_id=game.pk, member_id=m.pk, rng=rng)
    with clock.frozen(T0 + timedelta(days=2)):
        assert _code(draws.draw, game_id=game.pk, member_id=m.pk, rng=rng) == "DRAW_ENTRY_LIMIT"
    with clock.frozen(T0 + timedelta(days=5)):
        assert _code(draws.draw, game_id=game.pk, member_id=m.pk, rng=rng) == "DRAW_NOT_OPEN"
    assert list(DrawEntry.objects.filter(member=m).values_list("day_seq", "seq")) == [(1, 1), (1, 2)]
    too_much = [
        {"name": "a", "probability_bp": 6_000, "stock": 1},
        {"name": "b", "probability_bp": 4_001, "stock": 1},
    ]
    assert _code(_game, prizes=too_much, code="g2") == "DRAW_PROBABILITY_SUM"
    receipt_short = [{"name": "a", "probability_bp": 9_000, "stock": 1}]
    assert _code(_game, prizes=receipt_short, code="g3", kind="receipt") == "DRAW_PROBABILITY_SUM"


def test_receipt_draw_needs_the_threshold_and_a_fresh_receipt():
    game = _game(
        [{"name": "购物袋", "probability_bp": 10_000, "stock": 10}],
        kind="receipt",
        min_receipt_fen=10_000,
        daily_limit=5,
    )
    m = member_create(name="乙", mobile="13900000003")
    with clock.frozen(T0):
        assert _code(draws.draw, game_id=game.pk, member_id=m.pk, receipt_ref="R1", receipt_fen=9_999) == (
            "DRAW_RECEIPT_BELOW"
        )
        e = draws.draw(game_id=game.pk, member_id=m.pk, receipt_ref="R1", receipt_fen=10_000)
        assert e.prize.name == "购物袋"  # 人人有奖
        assert _code(draws.draw, game_id=game.pk, member_id=m.pk, receipt_ref="R1", receipt_fen=20_000) == (
            "DRAW_RECEIPT_USED"
        )
