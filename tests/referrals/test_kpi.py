"""The referral-share KPI (seed 002: 20% of sales), against figures computed here from the raw
events: shop-time months, full refunds booked in the refund's month (as the stats buckets do),
group accounts' spend in the denominator, shares in basis points rounded half-up."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from laoke.members.services import group_account_create
from laoke.referrals.selectors import kpi_report
from laoke.referrals.services import referral_register
from laoke.stats.services import _stats_add
from tests.referrals.helpers import member, refund, settle

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_kpi_per_month_matches_an_independent_computation(preset, old, new):
    referral_register(new_member=new, referrer_ref=old.code)
    x = member("普通客", "13700001234")
    group = group_account_create(name="某公司")

    def at(*a):
        return datetime(*a, tzinfo=UTC)

    # (who, order, fen, when, referred?) — a negative amount is a full refund of that order.
    events = [
        (new, "O-1", 30_000, at(2026, 3, 10, 2), True),
        (new, "O-2", 20_000, at(2026, 3, 12, 2), True),
        (x, "X-1", 180_000, at(2026, 3, 15, 2), False),
        (old, "OLD-1", 40_000, at(2026, 3, 16, 2), False),  # the referrer's own spend is not referred
        (group, "G-1", 20_000, at(2026, 3, 20, 2), False),
        (new, "O-4", 10_000, at(2026, 3, 31, 16, 30), True),  # 00:30 on 1 April in Shanghai
        (new, "O-3", 60_000, at(2026, 4, 2, 2), True),
        (x, "X-2", 100_003, at(2026, 4, 3, 2), False),
        (new, "O-2", -20_000, at(2026, 4, 5, 2), True),  # March's order refunded in April
    ]
    for who, ref, fen, when, _ in events:
        if who is group:
            with transaction.atomic():
                _stats_add(group_account=group, spend_fen=fen, orders=1, at=when)
        elif fen >= 0:
            settle(who, ref, fen, at=when)
        else:
            refund(who, ref, -fen, at=when)

    referred, total = defaultdict(int), defaultdict(int)
    for _, _, fen, when, is_referred in events:
        month = when.astimezone(SHANGHAI).date().replace(day=1)
        total[month] += fen
        if is_referred:
            referred[month] += fen

    def share(m):
        if total[m] <= 0:
            return None
        return int((Decimal(referred[m]) * 10_000 / Decimal(total[m])).quantize(Decimal(1), ROUND_HALF_UP))

    report = kpi_report(start=date(2026, 3, 1), end=date(2026, 5, 31))
    assert [m.month for m in report] == [date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)]
    for row in report:
        assert (row.referred_fen, row.total_fen, row.share_bp) == (
            referred[row.month],
            total[row.month],
            share(row.month),
        )
        assert row.target_bp == 2_000
        assert row.met == (share(row.month) is not None and share(row.month) >= 2_000)
    # The figures themselves, so a wrong event list cannot hide a wrong report.
    assert [(r.referred_fen, r.total_fen, r.share_bp, r.met) for r in report] == [
        (50_000, 290_000, 1_724, False),
        (50_000, 150_003, 3_333, True),
        (0, 0, None, False),
    ]
