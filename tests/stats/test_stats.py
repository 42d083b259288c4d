from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from laoke.members.services import group_account_create, member_create
from laoke.stats.selectors import group_stats, member_stats
from laoke.stats.services import _stats_add


def test_totals_accumulate_and_refuse_to_go_below_zero(db):
    m = member_create(name="统计", mobile="13800001111")
    assert member_stats(m).spend_total_fen == 0 and member_stats(m).pk is not None  # unsaved, zero
    t1 = datetime(2026, 1, 2, 3, tzinfo=UTC)
    t0 = datetime(2025, 12, 1, tzinfo=UTC)
    with transaction.atomic():
        _stats_add(member=m, spend_fen=10_000, orders=1, at=t1)
        _stats_add(member=m, spend_fen=5_000, orders=1, at=t0)  # arrives late: first stays earliest
        _stats_add(member=m, recharge_fen=50_000, at=t1)
    s = member_stats(m)
    assert (s.spend_total_fen, s.order_count, s.recharge_total_fen) == (15_000, 2, 50_000)
    assert (s.first_order_at, s.last_order_at, s.last_recharge_at) == (t0, t1, t1)
    with pytest.raises(IntegrityError), transaction.atomic():
        _stats_add(member=m, spend_fen=-15_001)
    assert member_stats(m).spend_total_fen == 15_000


def test_group_totals(db):
    g = group_account_create(name="某公司")
    with transaction.atomic():
        _stats_add(group_account=g, recharge_fen=500_000)
    assert group_stats(g).recharge_total_fen == 500_000


# --- monthly buckets (windows such as "the last 12 months") ----------------------------------------

from datetime import date  # noqa: E402

from laoke.stats.models import GroupMonthStats, MemberMonthStats  # noqa: E402
from laoke.stats.selectors import window_start, window_totals, window_totals_many  # noqa: E402
from laoke.stats.services import month_of  # noqa: E402


def test_month_of_is_shop_time():
    # Asia/Shanghai is UTC+8: 16:00 UTC on the last day of a month is already the next month there.
    assert month_of(datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC)) == date(2026, 1, 1)
    assert month_of(datetime(2026, 1, 31, 16, 0, tzinfo=UTC)) == date(2026, 2, 1)
    assert month_of(datetime(2025, 12, 31, 16, 0, tzinfo=UTC)) == date(2026, 1, 1)


def test_window_start_crosses_years():
    assert window_start(date(2026, 1, 15), 12) == date(2025, 2, 1)
    assert window_start(date(2026, 1, 15), 13) == date(2025, 1, 1)
    assert window_start(date(2026, 12, 31), 1) == date(2026, 12, 1)
    assert window_start(date(2026, 3, 1), 27) == date(2024, 1, 1)


def test_month_buckets_and_windows(db):
    m = member_create(name="窗口", mobile="13800002222")
    n = member_create(name="另一位", mobile="13800003333")
    with transaction.atomic():
        _stats_add(member=m, spend_fen=10_000, orders=1, at=datetime(2025, 1, 31, 16, tzinfo=UTC))  # Feb
        _stats_add(member=m, spend_fen=20_000, orders=1, at=datetime(2025, 6, 10, tzinfo=UTC))  # Jun
        _stats_add(member=m, spend_fen=-5_000, at=datetime(2025, 7, 1, tzinfo=UTC))  # refund in Jul
        _stats_add(member=m, recharge_fen=100_000, at=datetime(2026, 1, 2, tzinfo=UTC))  # Jan 2026
        _stats_add(member=n, spend_fen=7, orders=1, at=datetime(2026, 1, 2, tzinfo=UTC))
        _stats_add(member=m, at=datetime(2026, 1, 2, tzinfo=UTC))  # nothing to add: no bucket row
    rows = {
        (r.month, r.spend_fen, r.recharge_fen, r.orders) for r in MemberMonthStats.objects.filter(member=m)
    }
    assert rows == {
        (date(2025, 2, 1), 10_000, 0, 1),
        (date(2025, 6, 1), 20_000, 0, 1),
        (date(2025, 7, 1), -5_000, 0, 0),
        (date(2026, 1, 1), 0, 100_000, 0),
    }
    w = window_totals(member=m, today=date(2026, 1, 20), months=12)  # 2025-02 .. 2026-01
    assert (w.spend_fen, w.recharge_fen, w.orders) == (25_000, 100_000, 2)
    w = window_totals(member=m, today=date(2026, 7, 1), months=12)  # 2025-08 .. 2026-07
    assert (w.spend_fen, w.recharge_fen, w.orders) == (0, 100_000, 0)
    w = window_totals(member=m, today=date(2026, 6, 30), months=12)  # 2025-07 .. : the refund alone
    assert w.spend_fen == 0  # a net below zero is floored
    many = window_totals_many(owner="member", ids=[m.pk, n.pk], today=date(2026, 1, 20), months=12)
    assert many[m.pk] == window_totals(member=m, today=date(2026, 1, 20), months=12)
    assert many[n.pk].spend_fen == 7 and len(many) == 2
    assert member_stats(m).spend_total_fen == 25_000  # the running total is unchanged by buckets


def test_group_month_buckets(db):
    g = group_account_create(name="某集团")
    with transaction.atomic():
        _stats_add(group_account=g, recharge_fen=500_000, at=datetime(2026, 3, 3, tzinfo=UTC))
        _stats_add(group_account=g, recharge_fen=1, at=datetime(2026, 3, 30, tzinfo=UTC))
    assert GroupMonthStats.objects.get(group_account=g).recharge_fen == 500_001
    assert window_totals(group_account=g, today=date(2026, 3, 31)).recharge_fen == 500_001
    # 12 calendar months: 2026-03 .. 2027-02 still holds March 2026; 2026-04 .. 2027-03 does not
    many = window_totals_many(owner="group_account", ids=[g.pk], today=date(2027, 2, 28))
    assert many[g.pk].recharge_fen == 500_001
    assert window_totals_many(owner="group_account", ids=[g.pk], today=date(2027, 3, 1)) == {}
