"""The statistics rebuilt from orders agree with the ones settlement and refunds kept
incrementally — over a mix of orders, partial and full refunds across months and categories."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.cli import main
from laoke.core import clock
from laoke.orders import services
from laoke.orders.rebuild import stats_rebuild
from laoke.stats.models import MemberStats
from tests.orders.test_settlement import checkout

pytestmark = pytest.mark.django_db


def _history(shop):
    a, b = shop.member(), shop.member("13800002222")
    o1 = services.order_settle(
        request=checkout(
            a, ("TEE", 3), ("TEA", 2), wallet_fen=3_000, points=200, courier="normal", province="浙江省"
        )
    )
    o2 = services.order_settle(
        request=checkout(b, ("COAT", 1), ("SALE", 2), courier="normal", province="新疆")
    )
    with clock.frozen(clock.now() + timedelta(days=25)):  # next month
        services.order_refund(order_id=o1.pk, key="p1", quantities={"1": 1})
        services.order_settle(request=checkout(a, ("COAT", 2), group_purchase=True))
        services.order_refund(order_id=o2.pk, key="all")
    return a, b


def test_rebuild_agrees_with_the_incremental_figures(shop):
    _history(shop)
    report = stats_rebuild()
    assert report.members == 2 and report.differing == []


def test_rebuild_finds_and_repairs_a_drifted_member(shop, capsys):
    a, _b = _history(shop)
    right = MemberStats.objects.get(member=a)
    MemberStats.objects.filter(member=a).update(spend_total_fen=right.spend_total_fen + 1, order_count=7)
    assert main(["orders", "rebuild-stats"]) == 1
    assert '"differing": 1' in capsys.readouterr().out
    assert stats_rebuild(repair=True).repaired == 1
    fixed = MemberStats.objects.get(member=a)
    assert (fixed.spend_total_fen, fixed.order_count) == (right.spend_total_fen, right.order_count)
    assert main(["orders", "rebuild-stats"]) == 0
