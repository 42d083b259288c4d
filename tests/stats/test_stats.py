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
