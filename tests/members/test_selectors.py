"""Reads the console is built on: PII permission, object rule, dashboard counts, new members per
shop day, search."""

from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from laoke.core import clock
from laoke.core.services import store_create
from laoke.members.selectors import (
    can_see_pii,
    member_counts,
    member_search,
    member_visible_queryset,
    new_members_per_day,
)
from laoke.members.services import (
    group_account_create,
    member_create,
    member_forget,
    member_lifecycle_set,
    member_mark_permanent,
    member_merge,
    member_ref_add,
)

# 2026-11-11 00:30 in Shanghai is 2026-11-10 16:30 UTC: the shop day and the UTC day differ.
NOW = datetime(2026, 11, 10, 16, 30, tzinfo=UTC)


def test_can_see_pii_by_role(staff):
    expected = {  # SPEC 1/16 and docs/decisions/0006: who sees unmasked PII
        "admin": True,
        "service_manager": True,
        "service_agent": True,
        "api_client": True,
        "cashier": False,
        "marketer": False,
        "analyst": False,
        "redemption_clerk": False,
    }
    assert {role: can_see_pii(staff(role)) for role in expected} == expected
    assert can_see_pii(None) is False


def test_object_rule_and_merged_members(staff, db):
    group = group_account_create(name="某某公司")
    individual = member_create(name="个人")
    grouped = member_create(name="集体成员", group_account=group)
    merged = member_create(name="重复")
    member_merge(source_id=merged.pk, target_id=individual.pk)
    agent, manager = staff("service_agent"), staff("service_manager")
    assert set(member_visible_queryset(agent)) == {individual}
    assert set(member_visible_queryset(manager)) == {individual, grouped}
    assert set(member_visible_queryset(manager, include_inactive=True)) == {individual, grouped, merged}
    assert set(member_visible_queryset(None)) == {individual}


def test_member_counts(db):
    store_create(code="S1", name="一号店")
    group = group_account_create(name="某某公司")
    with clock.frozen(NOW - timedelta(hours=1)):  # 23:30 on 10 November, Shanghai: yesterday
        a = member_create(name="甲", mobile="13800000001")
    with clock.frozen(NOW):
        b = member_create(name="乙", group_account=group)
        c = member_create(name="丙", mobile="13800000003")
        d = member_create(name="丁")
        member_lifecycle_set(member_id=b.pk, state="active")
        member_mark_permanent(member_id=c.pk, reason="gift redeemed")
        member_merge(source_id=d.pk, target_id=a.pk)  # a duplicate: not a second person
        member_forget(member_id=c.pk, reason="member request")  # still counted
        counts = member_counts()
    assert counts == {
        "total": 3,
        "with_mobile": 1,
        "group_members": 1,
        "new_today": 2,
        "anonymised": 1,
        "permanent": 1,
        "by_lifecycle": {"registered": 2, "recharged": 0, "active": 1, "dormant": 0, "lapsed": 0},
    }


def test_new_members_per_day_in_shop_days(db):
    with clock.frozen(NOW - timedelta(days=2, hours=1)):  # 8 Nov 23:30 Shanghai: outside the window
        member_create(name="戊")
    with clock.frozen(NOW - timedelta(days=2)):  # 9 Nov 00:30 Shanghai (8 Nov in UTC)
        member_create(name="甲")
    with clock.frozen(NOW - timedelta(hours=1)):  # 10 Nov 23:30 Shanghai
        member_create(name="乙")
    with clock.frozen(NOW):  # 11 Nov 00:30 Shanghai (10 Nov in UTC)
        member_create(name="丙")
        member_create(name="丁")
        with CaptureQueriesContext(connection) as q:
            series = new_members_per_day(days=3)
        assert len(q.captured_queries) == 1
        assert new_members_per_day(days=0) == []
    assert series == [(date(2026, 11, 9), 1), (date(2026, 11, 10), 1), (date(2026, 11, 11), 2)]


def test_search(staff, db):
    store = store_create(code="S1", name="一号店")
    group = group_account_create(name="某某公司")
    a = member_create(name="王小明", mobile="13700001111", home_store=store)
    b = member_create(name="王大明", group_account=group)
    c = member_create(name="李雷")
    member_ref_add(member_id=c.pk, source="taobao", external_id="lilei_88")
    member_lifecycle_set(member_id=c.pk, state="dormant")
    member_mark_permanent(member_id=c.pk, reason="gift redeemed")
    manager, agent = staff("service_manager"), staff("service_agent")
    assert set(member_search(manager, q="王")) == {a, b}
    assert set(member_search(agent, q="王")) == {a}  # the object rule applies to search too
    for form in ("137-0000-1111", "+86 137 0000 1111", "13700001111"):
        assert list(member_search(agent, q=form)) == [a]
    assert list(member_search(agent, q=a.code)) == [a]
    assert list(member_search(agent, q="lilei_88")) == [c]
    assert list(member_search(manager, lifecycle="dormant")) == [c]
    assert list(member_search(manager, store_id=store.pk)) == [a]
    assert list(member_search(manager, group_id=group.pk)) == [b]
    assert list(member_search(agent, group_id=group.pk)) == []
    assert list(member_search(manager, permanent=True)) == [c]
    assert list(member_search(manager, q="1370000")) == []  # part of a mobile is not a search key
