"""SPEC 8's per-member figures kept by settlement: discounts received, categories bought, and the
profile derived from them (average basket and discount share computed here independently)."""

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction

from laoke.catalog.services import category_create
from laoke.members.models import MergeRecord
from laoke.members.services import member_create, member_merge
from laoke.stats.models import MemberCategoryStats
from laoke.stats.selectors import member_profile, member_stats
from laoke.stats.services import _stats_add

MAY, JUNE = datetime(2026, 5, 3, 4, tzinfo=UTC), datetime(2026, 6, 9, 4, tzinfo=UTC)


@pytest.fixture
def cats(db):
    return category_create(code="DRESS", name="连衣裙"), category_create(code="COAT", name="外套")


def _order(member, *, paid, discount, lines, at):
    with transaction.atomic():
        _stats_add(member=member, spend_fen=paid, orders=1, discount_fen=discount, categories=lines, at=at)


def test_profile_figures(cats):
    dress, coat = cats
    m = member_create(name="买家", mobile="13800002222")
    _order(m, paid=29_900, discount=1_500, lines={dress.pk: (29_900, 1)}, at=MAY)
    _order(m, paid=50_001, discount=0, lines={dress.pk: (10_001, 1), coat.pk: (40_000, 2)}, at=JUNE)
    p = member_profile(m, today=date(2026, 6, 30))
    assert (p.order_count, p.spend_total_fen, p.discount_total_fen) == (2, 79_901, 1_500)
    assert p.average_basket_fen == 39_951  # 79,901 / 2 = 39,950.5 → half up
    assert p.discount_share_bp == 184  # 1,500 / 81,401 = 1.8427 % → 184 bp
    assert p.categories == [(coat.pk, 40_000, 2), (dress.pk, 39_901, 2)]
    assert p.last_12_months_spend_fen == 79_901 and (p.first_order_at, p.last_order_at) == (MAY, JUNE)
    assert MemberCategoryStats.objects.get(member=m, category=dress).last_bought_at == JUNE


def test_refund_nets_out_and_a_category_never_goes_below_zero(cats):
    dress, _ = cats
    m = member_create(name="退货", mobile="13800003333")
    _order(m, paid=10_000, discount=500, lines={dress.pk: (10_000, 1)}, at=MAY)
    with transaction.atomic():  # a full refund of the line
        _stats_add(
            member=m, spend_fen=-10_000, discount_fen=-500, categories={dress.pk: (-10_000, -1)}, at=JUNE
        )
    p = member_profile(m, today=date(2026, 6, 30))
    assert (p.spend_total_fen, p.discount_total_fen, p.categories) == (0, 0, [])
    assert MemberCategoryStats.objects.get(member=m, category=dress).last_bought_at == MAY
    with pytest.raises(IntegrityError), transaction.atomic():
        _stats_add(member=m, categories={dress.pk: (-1, 0)})


def test_profile_of_a_member_without_orders(db):
    p = member_profile(member_create(name="新人"), today=date(2026, 6, 30))
    assert (p.order_count, p.average_basket_fen, p.discount_share_bp, p.categories) == (0, 0, 0, [])


def test_merge_carries_discounts_and_categories(cats):
    dress, coat = cats
    keep, dup = member_create(name="老客", mobile="13800004444"), member_create(name="重复")
    _order(keep, paid=10_000, discount=100, lines={dress.pk: (10_000, 1)}, at=MAY)
    _order(dup, paid=20_000, discount=300, lines={dress.pk: (5_000, 1), coat.pk: (15_000, 1)}, at=JUNE)
    member_merge(source_id=dup.pk, target_id=keep.pk)
    p = member_profile(keep, today=date(2026, 6, 30))
    assert (p.spend_total_fen, p.discount_total_fen) == (30_000, 400)
    assert sorted(p.categories) == sorted([(dress.pk, 15_000, 2), (coat.pk, 15_000, 1)])
    assert member_stats(dup).discount_total_fen == 0
    assert not MemberCategoryStats.objects.filter(member=dup).exists()
    assert MergeRecord.objects.get(source=dup).moved["stats"]["spend_fen"] == 20_000
