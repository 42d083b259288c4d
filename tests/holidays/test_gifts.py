"""Seed 000 mid-autumn gift campaign: preset, two-level review + final approval, the approval rule
at every step, quotas, budget, courier export, lunar dates."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.holidays import lunar, presets, selectors, services
from laoke.holidays.models import ApplicationState, RecipientQuota

from .helpers import HIGH, NORMAL, add_role, campaign, form, walkin

pytestmark = pytest.mark.django_db


def _code(fn, **kw) -> str:
    with pytest.raises(DomainError) as e:
        fn(**kw)
    return e.value.code


@pytest.fixture
def people(staff):
    return {
        "agent": staff("service_agent"),
        "rep": staff("sales_rep"),
        "smgr": staff("service_manager"),
        "xmgr": staff("sales_manager"),
        "plan": staff("marketer"),
    }


def _pass(app, people, approve_final=True):
    services.gift_application_review(
        application_id=app.pk, step="service_review", approve=True, actor=people["smgr"]
    )
    services.gift_application_review(
        application_id=app.pk, step="sales_review", approve=True, actor=people["xmgr"]
    )
    if approve_final:
        return services.gift_application_decide(application_id=app.pk, approve=True, actor=people["plan"])
    return app


def test_preset_is_the_seed_plan_and_its_dates():
    c = campaign(2004)
    assert c.card_unit_price_fen == 300
    assert c.card_message.startswith("感谢您对我们的支持，中秋佳节之际")
    assert "月饼" not in c.card_message  # the gift is a surprise
    assert [(lv.code, lv.name, lv.unit_price_fen) for lv in c.levels.all()] == [
        ("high", "高档", HIGH),
        ("normal", "普通", NORMAL),
    ]
    quotas = {
        q.recipient_type: (q.quota, q.persons_per_gift) for q in RecipientQuota.objects.filter(campaign=c)
    }
    assert quotas == {
        "old_customer": (80, 1),
        "dealer": (50, 1),
        "key_prospect": (200, 1),
        "walk_in": (20, 3),
    }
    # the seed's own dates in its year: list to the post office 9/21 (lunar 8/8), deliver 9/22
    # (lunar 8/9) until 9/26 (lunar 8/13) 18:00
    assert c.courier_deadline == date(2004, 9, 21)
    assert c.delivery_from == date(2004, 9, 22)
    assert c.delivery_until == datetime(2004, 9, 26, 10, 0, tzinfo=UTC)  # 18:00 Asia/Shanghai
    assert (c.walkin_from, c.walkin_until) == (date(2004, 9, 18), date(2004, 9, 27))
    # the seed's totals disagree with its own quotas: 380 recipients vs 350 gifts (390 persons)
    assert presets.SEED_BUDGET_TOTAL == sum(presets.SEED_BUDGET_COUNTS.values()) == 380
    assert sum(q for q, _ in quotas.values()) == 350
    assert sum(q * p for q, p in quotas.values()) == 390


@pytest.mark.parametrize(
    "year,festival",
    # 中秋 from published calendars (Hong Kong Observatory tables)
    [
        (2004, date(2004, 9, 28)),
        (2023, date(2023, 9, 29)),
        (2025, date(2025, 10, 6)),
        (2026, date(2026, 9, 25)),
    ],
)
def test_lunar_window_for_the_campaign_year(year, festival):
    assert lunar.mid_autumn(year) == festival
    d = presets.mid_autumn_dates(year)
    assert d["walkin_from"] == date.fromordinal(festival.toordinal() - 10)  # lunar 8/5
    assert d["walkin_until"] == date.fromordinal(festival.toordinal() - 1)  # lunar 8/14
    assert d["courier_deadline"] == date.fromordinal(festival.toordinal() - 7)  # lunar 8/8
    assert d["delivery_from"] == date.fromordinal(festival.toordinal() - 6)  # lunar 8/9


def test_year_outside_the_table_is_refused():
    assert _code(campaign, year=1980) == "HOLIDAY_YEAR_UNSUPPORTED"


def test_card_must_not_name_the_gift():
    code = _code(
        services.gift_campaign_preset_create,
        year=2004,
        level_prices_fen={"high": 1, "normal": 1},
        card_message="送您一盒月饼",
    )
    assert code == "GIFT_CARD_NAMES_GIFT"


def test_two_reviews_then_final_approval(people):
    c = campaign()
    app = services.gift_application_file(campaign_id=c.pk, data=form(), actor=people["rep"])
    assert app.state == ApplicationState.PENDING
    assert app.requester_roles == ["sales_rep"]
    # the final step waits for both reviews
    assert _code(
        services.gift_application_decide, application_id=app.pk, approve=True, actor=people["plan"]
    ) == ("GIFT_REVIEWS_PENDING")
    app = services.gift_application_review(
        application_id=app.pk, step="sales_review", approve=True, actor=people["xmgr"]
    )
    assert app.state == ApplicationState.PENDING  # one review is not enough
    assert _code(
        services.gift_application_decide, application_id=app.pk, approve=True, actor=people["plan"]
    ) == ("GIFT_REVIEWS_PENDING")
    assert _code(
        services.gift_application_review,
        application_id=app.pk,
        step="sales_review",
        approve=True,
        actor=people["xmgr"],
    ) == ("GIFT_STEP_DONE")
    app = services.gift_application_review(
        application_id=app.pk, step="service_review", approve=True, actor=people["smgr"]
    )
    assert app.state == ApplicationState.REVIEWED
    app = services.gift_application_decide(application_id=app.pk, approve=True, actor=people["plan"])
    assert app.state == ApplicationState.APPROVED and app.decided_by == people["plan"]
    # the wrong department's permission is refused
    other = services.gift_application_file(campaign_id=c.pk, data=form(), actor=people["agent"])
    assert (
        _code(
            services.gift_application_review,
            application_id=other.pk,
            step="service_review",
            approve=True,
            actor=people["xmgr"],
        )
        == "APPROVAL_PERMISSION"
    )


def test_rejection_needs_a_reason_and_ends_the_application(people):
    c = campaign()
    app = services.gift_application_file(campaign_id=c.pk, data=form(), actor=people["agent"])
    assert (
        _code(
            services.gift_application_review,
            application_id=app.pk,
            step="service_review",
            approve=False,
            actor=people["smgr"],
        )
        == "GIFT_REASON_REQUIRED"
    )
    app = services.gift_application_review(
        application_id=app.pk, step="service_review", approve=False, reason="非意向客户", actor=people["smgr"]
    )
    assert (app.state, app.reject_step, app.reject_reason) == ("rejected", "service_review", "非意向客户")
    assert (
        _code(
            services.gift_application_review,
            application_id=app.pk,
            step="sales_review",
            approve=True,
            actor=people["xmgr"],
        )
        == "GIFT_APPLICATION_STATE"
    )
    # rejected at the final step
    app2 = _pass(
        services.gift_application_file(campaign_id=c.pk, data=form(), actor=people["agent"]), people, False
    )
    app2 = services.gift_application_decide(
        application_id=app2.pk, approve=False, reason="无决策权", actor=people["plan"]
    )
    assert (app2.state, app2.reject_step) == ("rejected", "final_approval")


@pytest.mark.parametrize(
    "step,role",
    [
        ("service_review", "service_manager"),
        ("sales_review", "sales_manager"),
        ("final_approval", "marketer"),
    ],
)
def test_every_step_refuses_the_requesting_role_and_the_requester(staff, people, step, role):
    c = campaign()
    requester = add_role(staff("sales_rep"), role)  # the requester holds the deciding role
    app = services.gift_application_file(campaign_id=c.pk, data=form(), actor=requester)
    assert role in app.requester_roles
    if step == "final_approval":
        _pass(app, people, approve_final=False)

    def decide(actor):
        if step == "final_approval":
            return services.gift_application_decide(application_id=app.pk, approve=True, actor=actor)
        return services.gift_application_review(application_id=app.pk, step=step, approve=True, actor=actor)

    assert _code(decide, actor=requester) == "APPROVAL_OWN_REQUEST"
    colleague = staff(role)  # someone else of the requesting department
    assert _code(decide, actor=colleague) == "APPROVAL_OWN_ROLE"
    # and the rejection path of the step is refused the same way
    if step == "final_approval":
        code = _code(
            services.gift_application_decide,
            application_id=app.pk,
            approve=False,
            reason="x",
            actor=colleague,
        )
    else:
        code = _code(
            services.gift_application_review,
            application_id=app.pk,
            step=step,
            approve=False,
            reason="x",
            actor=colleague,
        )
    assert code == "APPROVAL_OWN_ROLE"
    app.refresh_from_db()
    assert app.state in ("pending", "reviewed") and not app.reject_reason


def test_quota_is_enforced_at_final_approval(people):
    c = campaign()
    RecipientQuota.objects.filter(campaign=c, recipient_type="dealer").update(quota=2)
    apps = [
        _pass(
            services.gift_application_file(
                campaign_id=c.pk, data=form(recipient_type="dealer"), actor=people["agent"]
            ),
            people,
            approve_final=False,
        )
        for _ in range(3)
    ]
    for app in apps[:2]:
        services.gift_application_decide(application_id=app.pk, approve=True, actor=people["plan"])
    assert _code(
        services.gift_application_decide, application_id=apps[2].pk, approve=True, actor=people["plan"]
    ) == ("GIFT_QUOTA_FULL")
    row = {q.recipient_type: q for q in selectors.quotas(c)}["dealer"]
    assert (row.quota, row.approved, row.in_review, row.left) == (2, 2, 1, 0)


def test_walk_ins_must_have_visited_in_the_lunar_window(people):
    c = campaign()
    ok = services.gift_application_file(campaign_id=c.pk, data=walkin(date(2004, 9, 18)), actor=people["rep"])
    assert ok.visited_on == date(2004, 9, 18)
    for day in (date(2004, 9, 17), date(2004, 9, 28)):
        assert _code(
            services.gift_application_file, campaign_id=c.pk, data=walkin(day), actor=people["rep"]
        ) == ("GIFT_WALKIN_OUTSIDE_WINDOW")
    assert (
        _code(
            services.gift_application_file,
            campaign_id=c.pk,
            data=form(decision_power="yes"),
            actor=people["rep"],
        )
        == "GIFT_APPLICATION_INVALID"
    )


def test_budget_from_the_approved_list_and_the_courier_export(people):
    c = campaign()
    plan = (
        [("key_prospect", "high", True)] * 3
        + [("old_customer", "normal", True)] * 2
        + [("dealer", "high", False)]
    )
    for i, (rtype, level, approve) in enumerate(plan):
        app = services.gift_application_file(
            campaign_id=c.pk,
            data=form(recipient_type=rtype, level=level, name=f"客户{i}"),
            actor=people["agent"],
        )
        _pass(app, people, approve_final=approve)
    b = selectors.budget(c)
    # independently: 4 high (3 approved key prospects + 0) … count the approved by hand
    high, normal = 3, 2
    assert {line.level: line.count for line in b.lines} == {"high": high, "normal": normal}
    assert b.gifts_fen == high * 16_800 + normal * 8_800 == 68_000
    assert b.cards_fen == (high + normal) * 300
    assert b.total_fen == 68_000 + 1_500

    with clock.frozen(datetime(2004, 9, 20, 4, 0, tzinfo=UTC)):
        xlsx = services.gift_courier_export(campaign_id=c.pk, fmt="xlsx", actor=people["plan"])
        csv_file = services.gift_courier_export(campaign_id=c.pk, fmt="csv", actor=people["plan"])
    assert not xlsx.late and xlsx.rows == 5
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:8] == ("序号", "客户类型", "收件人", "单位", "地址", "联系电话", "礼品档次", "贺卡寄语")
    body = rows[1:]
    assert len(body) == 5
    assert sorted(r[6] for r in body) == ["普通", "普通", "高档", "高档", "高档"]
    assert all(r[7] == presets.CARD_MESSAGE and r[8] == "2004-09-22 至 2004-09-26 18:00 前" for r in body)
    assert {r[2] for r in body} == {"客户0", "客户1", "客户2", "客户3", "客户4"}
    assert body[0][4] == "广东省广州市天河区体育西路 1 号" and body[0][5] == "13800138000"
    text = csv_file.content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1:] == [
        [str(v) if v is not None else "" for v in r] for r in body
    ]

    # after the deadline (9/21 in shop time): refused, or flagged when asked for as late
    with clock.frozen(datetime(2004, 9, 21, 16, 30, tzinfo=UTC)):  # 9/22 00:30 Asia/Shanghai
        assert _code(services.gift_courier_export, campaign_id=c.pk, fmt="xlsx") == "GIFT_EXPORT_LATE"
        late = services.gift_courier_export(campaign_id=c.pk, fmt="csv", allow_late=True)
    assert late.late and late.filename.endswith("-LATE.csv")
    assert all(
        r[-1] == "逾期交件" for r in list(csv.reader(io.StringIO(late.content.decode("utf-8-sig"))))[1:]
    )
