"""Greetings: the holiday presets fire on their day (2027 dates) exactly once; birthdays in shop
time, 29 February on 28 February in other years; the birthday gift only from the points
threshold, issued once with a deterministic key."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from laoke.core import clock
from laoke.messaging.models import Message
from laoke.points.services import points_adjust
from laoke.promotions.models import Coupon
from laoke.service.greetings import greetings_tick, holiday_date
from laoke.service.models import CareArticle, GreetingRule, ReactivationRule
from laoke.service.presets import service_presets_install

pytestmark = pytest.mark.django_db

# Published 2027 dates (国务院办公厅放假安排 / the lunar calendar): 春节 6 Feb, 元宵 20 Feb,
# 母亲节 the 2nd Sunday of May = 9 May, 父亲节 20 Jun, 中秋 15 Sep; fixed ones by month and day.
DATES_2027 = {
    "元旦": date(2027, 1, 1),
    "春节": date(2027, 2, 6),
    "元宵节": date(2027, 2, 20),
    "妇女节": date(2027, 3, 8),
    "母亲节": date(2027, 5, 9),
    "儿童节": date(2027, 6, 1),
    "父亲节": date(2027, 6, 20),
    "中秋节": date(2027, 9, 15),
    "国庆节": date(2027, 10, 1),
}


def _morning(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def test_presets_have_the_2027_dates(desk):
    counts = service_presets_install()
    assert counts["greeting_rules"] == len(DATES_2027) + 1
    assert service_presets_install() == counts  # idempotent
    for name, expected in DATES_2027.items():
        assert holiday_date(GreetingRule.objects.get(name=name), 2027) == expected
    assert (counts["care_articles"], counts["case_categories"], counts["call_cases"]) == (8, 4 + 12, 3)
    dormant, low = ReactivationRule.objects.order_by("kind").values_list(
        "kind", "idle_days", "balance_below_fen"
    )
    assert (dormant, low) == (("dormant", 30, None), ("low_balance", 30, 2_000))  # seed 003 §8.3
    assert not ReactivationRule.objects.filter(is_active=True).exists()  # waiting for approval
    assert set(CareArticle.objects.values_list("category", flat=True)) >= {"奶粉", "童装", "尺码", "真品"}
    birthday = GreetingRule.objects.get(name="生日祝福")
    assert [(p.min_points, p.coupon_template.amount_off_fen) for p in birthday.privileges.all()] == [
        (5000, 2000)
    ]


def test_holiday_greeting_goes_once(desk):
    service_presets_install()
    members = [desk.customer() for _ in range(3)] + [desk.customer(consent=False)]
    spring = GreetingRule.objects.get(name="春节")
    eve = _morning(date(2027, 2, 5))
    with clock.frozen(eve):
        assert "春节" not in greetings_tick(eve)
    day = _morning(date(2027, 2, 6))
    with clock.frozen(day):
        assert greetings_tick(day)["春节"]["members"] == 4
        again = greetings_tick(day)["春节"]
    assert again["messages"] == 0
    rows = Message.objects.filter(purpose=f"greeting:{spring.pk}:2027")
    assert rows.count() == 4
    assert dict(rows.values_list("member_id", "state")) == {
        **{m.pk: "waiting" for m in members[:3]},
        members[3].pk: "suppressed",  # no SMS consent: kept, not sent
    }
    assert "新春快乐" in rows.first().body


def test_birthday_greeting_and_gift_by_points(desk):
    service_presets_install()
    rich = desk.customer(birthday=date(1990, 3, 15))
    points_adjust(member=rich, points=6_000, reason="test seed", key="pts-rich")
    poor = desk.customer(birthday=date(1985, 3, 15))
    points_adjust(member=poor, points=4_999, reason="test seed", key="pts-poor")
    desk.customer(birthday=date(1990, 3, 16))
    leap = desk.customer(birthday=date(1992, 2, 29))
    rule = GreetingRule.objects.get(name="生日祝福")
    day = _morning(date(2027, 3, 15))
    with clock.frozen(day):
        out = greetings_tick(day)["生日祝福"]
        assert greetings_tick(day)["生日祝福"]["messages"] == 0
    assert (out["members"], out["gifts"]) == (2, 1)
    gift = Coupon.objects.get(issue_key=f"greeting:{rule.pk}:2027:{rich.pk}")
    assert gift.member_id == rich.pk and gift.template.amount_off_fen == 2_000
    msgs = dict(Message.objects.filter(purpose=f"greeting:{rule.pk}:2027").values_list("member_id", "body"))
    assert set(msgs) == {rich.pk, poor.pk}
    assert gift.code in msgs[rich.pk] and "20.00元生日礼券" in msgs[rich.pk]
    assert not Coupon.objects.filter(member=poor).exists()
    feb28 = _morning(date(2027, 2, 28))
    with clock.frozen(feb28):
        assert greetings_tick(feb28)["生日祝福"]["members"] == 1
    assert Message.objects.filter(purpose=f"greeting:{rule.pk}:2027", member=leap).exists()
