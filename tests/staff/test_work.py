"""Quota completion, cadence states, staff_tick, the monthly assessment (figures recomputed here
independently), its sign-off (an approval step), prospects' conversion and the object rule."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.staff import selectors, services
from laoke.staff.models import Assessment, PlanItem, Prospect, WorkLog
from tests.staff.fixtures import MON, local


def _log(actor, kind, at, **kw):
    with clock.frozen(at):
        return services.work_log_add(actor=actor, kind=kind, **kw)


def test_quota_completion_of_a_day_from_the_logs(team):
    # Monday: 1 new visit, 3 old visits, 5 calls (one more than the quota), 1 other
    for kind, n in {"new_visit": 1, "old_visit": 3, "call": 5, "other": 1}.items():
        for i in range(n):
            _log(team.rep, kind, local(2026, 6, 1, 9 + i))
    # 23:30 on Sunday in Shanghai is still Sunday (15:30 UTC), 00:10 on Tuesday is Tuesday
    _log(team.rep, "new_visit", local(2026, 5, 31, 23, 30))
    _log(team.rep, "new_visit", local(2026, 6, 2, 0, 10))
    with clock.frozen(local(2026, 6, 2, 8)):
        s = selectors.day_summary(team.rep, date(2026, 6, 1))
    kinds = s["completion"]["kinds"]
    assert (kinds["new_visit"]["done"], kinds["old_visit"]["done"], kinds["call"]["done"]) == (1, 3, 5)
    assert (kinds["new_visit"]["pct"], kinds["old_visit"]["pct"], kinds["call"]["pct"]) == (
        50.0,
        100.0,
        100.0,
    )
    # extra calls do not make up the missing visit: (1 + 3 + 4) / (2 + 3 + 4)
    assert s["completion"]["overall_pct"] == round(100 * 8 / 9, 1)
    assert s["done"]["other"] == 1


def test_cadence_state_slices():
    f, last = date(2026, 6, 1), date(2026, 6, 30)
    st = selectors.cadence_state
    assert st(done=0, times=2, first=f, last=last, today=date(2026, 6, 1))["state"] == "due"
    assert st(done=0, times=2, first=f, last=last, today=date(2026, 6, 15))["state"] == "due"
    assert st(done=0, times=2, first=f, last=last, today=date(2026, 6, 16))["state"] == "overdue"
    assert st(done=1, times=2, first=f, last=last, today=date(2026, 6, 16))["state"] == "due"
    assert st(done=2, times=2, first=f, last=last, today=date(2026, 6, 16))["state"] == "ok"
    assert st(done=1, times=2, first=f, last=last, today=date(2026, 6, 10))["state"] == "ok"


def test_a_visit_by_another_rep_does_not_keep_the_own_customer_cadence(team):
    account = services.account_create(actor=team.head, name="A公司", rep_id=team.rep.pk)
    _log(team.head, "old_visit", local(2026, 6, 2), account_id=account.pk)
    with clock.frozen(local(2026, 6, 3)):
        assert selectors.cadence_list(team.rep)[0]["done"] == 0


def test_staff_tick_suggests_plans_once_and_counts_overdue(team):
    account = services.account_create(actor=team.head, name="B公司", rep_id=team.rep.pk)
    with clock.frozen(MON):
        p = services.prospect_register(actor=team.rep, name="赵六")  # follow-up due 2 June
    now = local(2026, 6, 17, 7)  # Wednesday; B公司 not visited this month → overdue
    with clock.frozen(now):
        first = services.staff_tick(now)
        again = services.staff_tick(now)
    assert first["overdue"] == 1
    assert again["suggested"] == 0 and again["overdue"] == 1
    items = PlanItem.objects.filter(plan__rep=team.rep).exclude(origin="manual")
    by_day = {(i.plan.day, i.account_id, i.prospect_id, i.origin) for i in items}
    for day in (date(2026, 6, 17), date(2026, 6, 18)):
        assert (day, account.pk, None, "cadence") in by_day
        assert (day, None, p.pk, "follow_up") in by_day
    assert first["suggested"] == len(by_day) == 4
    # the plan item is done once that kind of work about that subject is logged that day
    _log(team.rep, "old_visit", local(2026, 6, 17, 9), account_id=account.pk)
    with clock.frozen(local(2026, 6, 17, 12)):
        plan = selectors.day_summary(team.rep)["plan"]
    assert {(i["item"].account_id, i["done"]) for i in plan} == {(account.pk, True), (None, False)}


def _month_of_work(team):
    """June 2026 for ``rep``: 22 working days; 30 new, 60 old visits, 100 calls; 2 customers, one
    visited twice (kept), one once; 3 prospects: a deal, a loss, one open with 2 follow-ups."""
    a1 = services.account_create(actor=team.head, name="甲", rep_id=team.rep.pk)
    a2 = services.account_create(actor=team.head, name="乙", rep_id=team.rep.pk)
    with clock.frozen(MON):
        ps = [services.prospect_register(actor=team.rep, name=f"P{i}") for i in range(3)]
    days = [date(2026, 6, d) for d in range(1, 31)]
    plan = {"new_visit": 30, "old_visit": 60, "call": 100}
    rows = []
    for kind, n in plan.items():
        for i in range(n):
            d = days[i % 30]
            rows.append(WorkLog(rep=team.rep, kind=kind, at=local(d.year, d.month, d.day, 9), created_at=MON))
    WorkLog.objects.bulk_create(rows)
    _log(team.rep, "old_visit", local(2026, 6, 3), account_id=a1.pk)
    _log(team.rep, "old_visit", local(2026, 6, 20), account_id=a1.pk)
    _log(team.rep, "old_visit", local(2026, 6, 21), account_id=a2.pk)
    _log(team.rep, "call", local(2026, 6, 4), prospect_id=ps[2].pk)
    _log(team.rep, "call", local(2026, 6, 6), prospect_id=ps[2].pk)
    with clock.frozen(local(2026, 6, 10)):
        services.prospect_close(actor=team.rep, prospect_id=ps[0].pk, outcome="won")
        services.prospect_close(actor=team.rep, prospect_id=ps[1].pk, outcome="lost", lost_reason="finance")
    # a log of another month and of another rep do not count
    _log(team.rep, "call", local(2026, 5, 29))
    _log(team.rep2, "call", local(2026, 6, 5))


def test_monthly_assessment_figures_recomputed_independently(team):
    _month_of_work(team)
    with clock.frozen(local(2026, 7, 2)):
        f = selectors.month_figures(team.rep, date(2026, 6, 1))
    wd = int(np.busday_count("2026-06-01", "2026-07-01"))  # Monday–Friday
    assert wd == 22 and f["working_days"] == wd
    done = {"new_visit": 30, "old_visit": 60 + 3, "call": 100 + 2}
    target = {"new_visit": 2 * wd, "old_visit": 3 * wd, "call": 4 * wd}
    for k in done:
        assert f["kinds"][k]["done"] == done[k]
        assert f["kinds"][k]["target"] == target[k]
        assert f["kinds"][k]["pct"] == round(100 * min(done[k], target[k]) / target[k], 1)
    expected = 100 * sum(min(done[k], target[k]) for k in done) / sum(target.values())
    assert f["overall_pct"] == round(expected, 1)
    assert (f["customers"], f["cadence_kept"], f["cadence_pct"]) == (2, 1, 50.0)
    assert (f["prospects_registered"], f["follow_ups"], f["deals"], f["lost"]) == (3, 2, 1, 1)


def test_assessment_so_far_in_the_current_month(team):
    _log(team.rep, "call", local(2026, 6, 3))
    with clock.frozen(local(2026, 6, 3, 18)):  # Mon–Wed: 3 working days so far
        f = selectors.month_figures(team.rep, date(2026, 6, 1))
    assert f["working_days"] == 3 and f["kinds"]["call"]["target"] == 12


def test_assessment_sign_off_is_an_approval_step(team):
    with clock.frozen(local(2026, 6, 20)):
        filed = services.assessment_file(actor=team.rep, month=date(2026, 6, 1))
        assert filed.requester_roles == ["sales_rep"]
        with pytest.raises(DomainError) as e:  # the month is not over
            services.assessment_sign(actor=team.head, assessment_id=filed.pk)
        assert e.value.code == "STAFF_MONTH_NOT_OVER"
    with clock.frozen(local(2026, 7, 1)):
        # the rep (and any rep: no such right) cannot sign
        for actor in (team.rep, team.rep2, team.gm):
            with pytest.raises(DomainError) as e:
                services.assessment_sign(actor=actor, assessment_id=filed.pk)
            assert e.value.code in ("APPROVAL_PERMISSION", "NOT_FOUND"), actor
        # a manager filing for a rep: neither that manager nor another sales manager signs it
        other = services.assessment_file(actor=team.head, month=date(2026, 6, 1), rep_id=team.rep2.pk)
        with pytest.raises(DomainError) as e:
            services.assessment_sign(actor=team.head, assessment_id=other.pk)
        assert e.value.code == "APPROVAL_OWN_REQUEST"
        with pytest.raises(DomainError) as e:
            services.assessment_sign(actor=team.head2, assessment_id=other.pk)
        assert e.value.code == "APPROVAL_OWN_ROLE"
        signed = services.assessment_sign(actor=team.head, assessment_id=filed.pk, note="好")
        assert (signed.state, signed.signed_by_id) == ("signed", team.head.pk)
        with pytest.raises(DomainError) as e:
            services.assessment_file(actor=team.rep, month=date(2026, 6, 1))
        assert e.value.code == "STAFF_ASSESSMENT_SIGNED"
    # the manager of another branch does not even see it
    assert Assessment.objects.get(pk=filed.pk).state == "signed"


def test_a_rep_files_the_assessment_of_another_rep_no(team):
    with clock.frozen(local(2026, 6, 20)), pytest.raises(DomainError) as e:
        services.assessment_file(actor=team.rep, month=date(2026, 6, 1), rep_id=team.rep2.pk)
    assert e.value.code == "STAFF_REP_NOT_VISIBLE"


def test_object_rule_reps_see_only_their_own(team):
    ids = lambda u: set(selectors.visible_rep_ids(u))  # noqa: E731
    assert ids(team.rep) == {team.rep.pk}
    assert ids(team.head) == {team.head.pk, team.head2.pk, team.rep.pk, team.rep2.pk}  # branch 北区
    assert ids(team.gm) >= {team.rep.pk, team.rep2.pk, team.far.pk, team.head.pk}
    with clock.frozen(MON):
        mine = services.prospect_register(actor=team.rep, name="我的")
        account = services.account_create(actor=team.head, name="丙", rep_id=team.rep.pk)
        assert list(selectors.prospects_visible(team.rep2)) == []
        for kw in ({"prospect_id": mine.pk}, {"account_id": account.pk}):
            with pytest.raises(DomainError) as e:
                services.work_log_add(actor=team.rep2, kind="call", **kw)
            assert e.value.code == "NOT_FOUND"
        with pytest.raises(DomainError) as e:
            services.prospect_close(actor=team.far, prospect_id=mine.pk, outcome="lost", lost_reason="price")
        assert e.value.code == "NOT_FOUND"
        with pytest.raises(DomainError) as e:
            selectors.rep_for(team.far, team.rep.pk)
        assert e.value.code == "STAFF_REP_NOT_VISIBLE"
        assert [p.pk for p in selectors.prospects_visible(team.head)] == [mine.pk]
        assert selectors.rep_for(team.gm, team.rep.pk) == team.rep


def test_prospect_close_rules_and_conversion_to_a_member(team):
    from laoke.members.models import Member
    from laoke.members.services import member_create

    with clock.frozen(MON):
        a = services.prospect_register(actor=team.rep, name="陈七", phone="13911112222")
        b = services.prospect_register(actor=team.rep, name="周八", phone="13933334444")
        existing = member_create(name="周八", mobile="13933334444")
        with pytest.raises(DomainError) as e:
            services.prospect_close(actor=team.rep, prospect_id=a.pk, outcome="lost")
        assert e.value.code == "STAFF_LOST_REASON_REQUIRED"
        won = services.prospect_convert(actor=team.rep, prospect_id=a.pk)
        assert won.status == "won" and won.member.mobile == "+8613911112222" and won.member.name == "陈七"
        linked = services.prospect_convert(actor=team.rep, prospect_id=b.pk)
        assert linked.member_id == existing.pk  # no second member for the same mobile
        assert Member.objects.filter(mobile__in=["+8613911112222", "+8613933334444"]).count() == 2
        with pytest.raises(DomainError) as e:
            services.work_log_add(actor=team.rep, kind="call", prospect_id=a.pk)
        assert e.value.code == "STAFF_PROSPECT_CLOSED"
        assert Prospect.objects.get(pk=a.pk).next_follow_up_on is None


def test_weekly_pending_list(team):
    with clock.frozen(MON):
        soon = services.prospect_register(actor=team.rep, name="本周")  # due Tuesday
        later = services.prospect_register(actor=team.rep, name="下周", level="C")
        services.work_log_add(actor=team.rep, kind="call", prospect_id=later.pk)  # C: due 8 June
        services.prospect_register(actor=team.rep2, name="别人的")
        assert [p.pk for p in selectors.weekly_pending(team.rep)] == [soon.pk]
    with clock.frozen(local(2026, 6, 8)):
        assert [p.pk for p in selectors.weekly_pending(team.rep)] == [soon.pk, later.pk]


def test_bad_input_is_a_domain_error(team):
    with clock.frozen(MON):
        for kw, code in (
            ({"kind": "dance"}, "FIELD_INVALID"),
            ({"kind": "call", "at": local(2026, 6, 2)}, "STAFF_LOG_IN_FUTURE"),
            ({"kind": "call", "account_id": 1, "prospect_id": 1}, "STAFF_LOG_SUBJECT"),
        ):
            with pytest.raises(DomainError) as e:
                services.work_log_add(actor=team.rep, **kw)
            assert e.value.code == code
        with pytest.raises(DomainError) as e:
            services.quota_plan_set(actor=team.head, new_visits=-1, old_visits=3, calls=4)
        assert e.value.code == "STAFF_QUOTA_INVALID"
        with pytest.raises(DomainError) as e:
            services.prospect_register(actor=team.rep, name=" ")
        assert e.value.code == "STAFF_PROSPECT_CONTACT"
        with pytest.raises(DomainError) as e:
            selectors.parse_month("2026/06")
        assert e.value.code == "STAFF_MONTH_INVALID"


def test_assessment_query_count_does_not_grow_with_reps(team, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> tuple[int, int]:
        team.head = type(team.head).objects.get(pk=team.head.pk)  # a fresh permission cache
        with clock.frozen(local(2026, 7, 2)), CaptureQueriesContext(connection) as ctx:
            rows = selectors.assessments_for(team.head, date(2026, 6, 1))
        return len(rows), len(ctx.captured_queries)

    _log(team.rep, "call", local(2026, 6, 3))
    few, q1 = count()
    for _ in range(3):
        rep = staff("sales_rep", store=team.shop)
        _log(rep, "call", local(2026, 6, 4))
    more, q2 = count()
    assert (few, more) == (4, 7)
    assert q1 == q2 <= 15
