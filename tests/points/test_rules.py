"""Earn rules and their explanations. Expected points are worked out by hand from the rule text
(docs/decisions/0013-points.md): base = floor(fen / 100 × per-yuan), extras of the best rule of
each kind add up, points = half-up(base × total / 10000)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from laoke.catalog.services import category_create
from laoke.core.errors import DomainError
from laoke.points.models import EarnRule
from laoke.points.rules import EarnLine, quote
from laoke.points.services import earn_rule_create, programme_update

# Wednesday 10 June 2026, 09:00 Shanghai (01:00 UTC).
WED = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)


def q(programme, lines, **kw):
    programme.refresh_from_db()
    return quote(
        programme=programme, lines=lines, at=kw.pop("at", WED), tier=kw.pop("tier", (10_000, "")), **kw
    )


def test_one_point_per_full_yuan_rounded_down(programme):
    r = q(
        programme,
        [EarnLine(ref="a", paid_fen=1999), EarnLine(ref="b", paid_fen=99), EarnLine(ref="c", paid_fen=0)],
    )
    assert [ln.points for ln in r.lines] == [19, 0, 0]
    assert r.points == 19
    assert r.lines[0].applied[0]["rule"] == "base"


def test_half_up_rounding_setting(programme):
    programme_update(data={"rounding": "half_up"})
    r = q(programme, [EarnLine(ref="a", paid_fen=1950), EarnLine(ref="b", paid_fen=1949)])
    assert [ln.points for ln in r.lines] == [20, 19]


def test_special_sale_earns_nothing_and_says_why(programme):
    earn_rule_create(kind="member_day", data={"weekday": 3, "multiplier_bp": 20_000, "name": "周三会员日"})
    r = q(programme, [EarnLine(ref="a", paid_fen=10_000, special_sale=True)], tier=(15_000, "VIP"))
    line = r.lines[0]
    assert line.points == 0 and line.applied == []
    assert line.skipped[0]["rule"] == "special_sale"
    assert any(s.get("name") == "周三会员日" for s in line.skipped)


def test_tier_and_member_day_add_their_extras(programme):
    earn_rule_create(kind="member_day", data={"weekday": 3, "multiplier_bp": 20_000, "name": "周三会员日"})
    r = q(programme, [EarnLine(ref="a", paid_fen=10_000)], tier=(15_000, "VIP"))
    line = r.lines[0]
    # 100 base × (1 + 0.5 + 1.0) = 250, not 100 × 1.5 × 2 = 300.
    assert line.base == 100 and line.multiplier_bp == 25_000 and line.points == 250
    assert [a["rule"] for a in line.applied] == ["base", "tier", "member_day"]


def test_member_day_is_a_shop_day(programme):
    earn_rule_create(kind="member_day", data={"weekday": 3, "multiplier_bp": 20_000, "name": "周三"})
    # Tuesday 23:30 UTC is Wednesday 07:30 in Shanghai: member day.
    tue_utc = datetime(2026, 6, 9, 23, 30, tzinfo=UTC)
    assert q(programme, [EarnLine(ref="a", paid_fen=10_000)], at=tue_utc).points == 200
    # Wednesday 16:30 UTC is Thursday 00:30 in Shanghai: not.
    wed_late = datetime(2026, 6, 10, 16, 30, tzinfo=UTC)
    r = q(programme, [EarnLine(ref="a", paid_fen=10_000)], at=wed_late)
    assert r.points == 100
    assert "not the member day" in r.lines[0].skipped[0]["why"]


def test_category_rule_covers_subcategories_and_strongest_wins(programme):
    food = category_create(code="food", name="食品")
    milk = category_create(code="milk", name="奶粉", parent=food)
    toys = category_create(code="toys", name="玩具")
    earn_rule_create(kind="category", data={"category": food, "multiplier_bp": 20_000, "name": "食品双倍"})
    earn_rule_create(kind="category", data={"category": milk, "multiplier_bp": 30_000, "name": "奶粉三倍"})
    r = q(
        programme,
        [
            EarnLine(ref="milk", paid_fen=10_000, category_id=milk.pk),
            EarnLine(ref="bread", paid_fen=10_000, category_id=food.pk),
            EarnLine(ref="toy", paid_fen=10_000, category_id=toys.pk),
        ],
    )
    assert [ln.points for ln in r.lines] == [300, 200, 100]
    assert any("stronger" in s["why"] for s in r.lines[0].skipped)


def test_campaign_rule_needs_the_campaign(programme):
    earn_rule_create(kind="campaign", data={"campaign_code": "618", "multiplier_bp": 30_000, "name": "618"})
    line = [EarnLine(ref="a", paid_fen=5_000)]
    assert q(programme, line).points == 50
    assert q(programme, line, campaign="618").points == 150


def test_zero_multiplier_is_an_exclusion(programme):
    tobacco = category_create(code="tob", name="烟草")
    earn_rule_create(kind="category", data={"category": tobacco, "multiplier_bp": 0, "name": "烟草不积分"})
    r = q(programme, [EarnLine(ref="a", paid_fen=10_000, category_id=tobacco.pk)], tier=(15_000, "VIP"))
    assert r.points == 0 and r.lines[0].applied[0]["name"] == "烟草不积分"


def test_rule_validity_window(programme):
    earn_rule_create(
        kind="campaign",
        data={
            "campaign_code": "X",
            "multiplier_bp": 20_000,
            "valid_from": datetime(2026, 6, 11, tzinfo=UTC),
        },
    )
    assert q(programme, [EarnLine(ref="a", paid_fen=10_000)], campaign="X").points == 100


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("category", {"multiplier_bp": 20_000}, "kind"),
        ("member_day", {"weekday": 8}, "weekday"),
        ("campaign", {"campaign_code": ""}, "kind"),
        ("campaign", {"campaign_code": "x", "multiplier_bp": -1}, "multiplier_bp"),
        ("bogus", {}, "kind"),
        ("campaign", {"campaign_code": "x", "nope": 1}, "nope"),
    ],
)
def test_bad_rules_are_refused(programme, kind, data, field):
    with pytest.raises(DomainError) as exc:
        earn_rule_create(kind=kind, data=data)
    assert exc.value.field == field
    assert not EarnRule.objects.exists()


@pytest.mark.parametrize(
    "line",
    [EarnLine(ref="", paid_fen=1), EarnLine(ref="a", paid_fen=-1), EarnLine(ref="a", paid_fen=True)],
)
def test_bad_lines(programme, line):
    with pytest.raises(DomainError) as exc:
        q(programme, [line])
    assert exc.value.code == "POINTS_LINE_INVALID"


def test_explanation_text(programme):
    from django.utils import translation

    earn_rule_create(kind="member_day", data={"weekday": 3, "multiplier_bp": 20_000, "name": "周三会员日"})
    r = q(
        programme,
        [EarnLine(ref="milk", paid_fen=12_345), EarnLine(ref="sale", paid_fen=5_000, special_sale=True)],
        tier=(15_000, "VIP"),
    )
    with translation.override("en"):
        text = r.text()
    assert text.splitlines() == [
        "milk: ¥123.45 → 123 base point(s) × 2.5× (1.5× tier level VIP, 2× member day: weekday 3) = 308",
        "sale: ¥50.00, no points (member special sale: earns no points)",
        "Total: 308 point(s)",
    ]
    # 123 × 2.5 = 307.5 → 308 (half-up)


def test_earning_stores_its_explanation(member):
    from .conftest import earn

    e = earn(member, 1_999)
    assert e.explanation[0]["points"] == 19 and "19" in e.explanation[0]["text"]
