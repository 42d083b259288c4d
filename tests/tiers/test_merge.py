"""A member merge carries statistics and grades the survivor (the stats and tiers merge hooks)."""

from datetime import UTC, datetime

from laoke.core import clock
from laoke.members.models import MergeRecord
from laoke.members.services import member_create, member_merge
from laoke.stats.models import MemberMonthStats
from laoke.stats.selectors import member_stats, window_totals
from laoke.tiers.presets import tier_presets_install
from laoke.tiers.selectors import current_level

from .helpers import spend, spend_and_evaluate

MARCH, APRIL = datetime(2026, 3, 10, 4, tzinfo=UTC), datetime(2026, 4, 10, 4, tzinfo=UTC)


def test_merge_adds_figures_and_upgrades_the_survivor(member):
    with clock.frozen(datetime(2026, 5, 1, 4, tzinfo=UTC)):
        tier_presets_install(preset="stored_value")
        duplicate = member_create(name="老客（淘宝）")
        spend(duplicate, 800, at=MARCH)
        spend(duplicate, 300, at=APRIL)
        spend_and_evaluate(member, 500, at=APRIL)
        assert current_level(member=member) is None  # 500元: below 黄钻's 1,000元
        member_merge(source_id=duplicate.pk, target_id=member.pk)

        s = member_stats(member)
        assert (s.spend_total_fen, s.order_count) == (160_000, 3)
        assert (s.first_order_at, s.last_order_at) == (MARCH, APRIL)
        gone = member_stats(duplicate)
        assert (gone.spend_total_fen, gone.order_count) == (0, 0)
        assert not MemberMonthStats.objects.filter(member=duplicate).exists()
        months = dict(MemberMonthStats.objects.filter(member=member).values_list("month__month", "spend_fen"))
        assert months == {3: 80_000, 4: 80_000}
        assert window_totals(member=member, today=clock.today()).spend_fen == 160_000
        assert current_level(member=member).name == "黄钻"  # 1,600元
        moved = MergeRecord.objects.get(source=duplicate).moved
        assert moved["stats"] == {"spend_fen": 110_000, "recharge_fen": 0, "orders": 2}
        assert moved["tiers"] == {"upgraded_to": "yellow-diamond"}


def test_merge_of_a_member_without_figures_moves_nothing(member):
    tier_presets_install(preset="stored_value")
    duplicate = member_create(name="空档案")
    member_merge(source_id=duplicate.pk, target_id=member.pk)
    moved = MergeRecord.objects.get(source=duplicate).moved
    assert moved["stats"] == {} and moved["tiers"] == {"upgraded_to": None}
