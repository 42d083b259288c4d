"""Flash-zone services through the real database: presets, items (floor required, slots, 2 a
day), the tick (holiday stock, rotation after 10 days, idempotent), eligibility, claim and
release with their stable error codes, the quote's offer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.flash import selectors, services
from laoke.flash.models import ClaimState, FlashClaim, FlashDay, FlashItem, FlashZone, Holiday
from tests.flash.helpers import NOW, TODAY, at, item, member, product

pytestmark = pytest.mark.django_db


def claim(prod, m, *, order="O1", quantity=1, now=NOW):
    with transaction.atomic():
        return services._flash_claim(
            product_id=prod.pk, member=m, quantity=quantity, order_ref=order, now=now
        )


def release(order, now=NOW):
    with transaction.atomic():
        return services._flash_release(order_ref=order, now=now)


def code_of(fn, *args, **kw):
    with pytest.raises(DomainError) as exc:
        fn(*args, **kw)
    return exc.value.code


# --- presets ------------------------------------------------------------------------------------


def test_presets_install_the_zone_and_the_2026_and_2027_holidays_once(zone):
    assert (zone.items_per_day, zone.units_per_day, zone.units_per_day_holiday) == (2, 10, 20)
    assert (zone.step_bp, zone.rotation_days, zone.per_member_limit) == (1_000, 10, 1)
    assert zone.old_customers_only and zone.old_customer_min_orders == 1
    official = {h.date: h.name for h in Holiday.objects.filter(official=True)}
    # State Council schedule for 2026 (days off incl. bridging days).
    assert len(official) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert official[date(2026, 2, 15)] == "春节" and official[date(2026, 2, 23)] == "春节"
    assert date(2026, 2, 14) not in official and date(2026, 2, 28) not in official  # make-up workdays
    assert official[date(2026, 4, 4)] == "清明" and official[date(2026, 5, 5)] == "劳动节"
    assert official[date(2026, 6, 19)] == "端午" and official[date(2026, 9, 27)] == "中秋"
    assert official[date(2026, 10, 7)] == "国庆" and official[date(2026, 1, 3)] == "元旦"
    estimates = Holiday.objects.filter(official=False)
    assert {h.date.year for h in estimates} == {2027} and estimates.filter(date=date(2027, 2, 5)).exists()
    n = Holiday.objects.count()
    services.flash_presets_install(now=NOW)
    assert Holiday.objects.count() == n and FlashZone.objects.count() == 1


def test_presets_with_demo_items_publish_two_items_with_floors_and_open_today(db, frozen):
    product(19_900), product(29_900), product(9_900)
    result = services.flash_presets_install(demo_items=True, now=NOW)
    assert len(result["demo_items"]) == 2 and result["tick"]["opened"] == 2
    assert all(i.floor_fen == i.list_price_fen // 2 for i in FlashItem.objects.all())
    again = services.flash_presets_install(demo_items=True, now=NOW)
    assert again["demo_items"] == [] and FlashItem.objects.count() == 2


# --- items --------------------------------------------------------------------------------------


def test_no_floor_no_publishing(zone):
    p = product()
    assert code_of(item, p, floor_fen=None) == "FLASH_FLOOR_REQUIRED"
    draft = item(p, floor_fen=None, status="draft")
    assert draft.status == "draft"
    assert (
        code_of(services.flash_item_update, item_id=draft.pk, data={"status": "published"}, now=NOW)
        == "FLASH_FLOOR_REQUIRED"
    )
    done = services.flash_item_update(
        item_id=draft.pk, data={"status": "published", "floor_fen": 4_000}, now=NOW
    )
    assert done.status == "published" and done.floor_fen == 4_000


def test_item_validation_and_audit(zone):
    p = product(10_000)
    assert code_of(item, p, floor_fen=10_001) == "FLASH_ITEM_INVALID"
    assert code_of(item, p, slot=3) == "FLASH_ITEM_INVALID"  # 2 items a day: slots 1 and 2
    assert code_of(item, p, run_start=TODAY - timedelta(days=1)) == "FLASH_ITEM_INVALID"
    i = item(p)
    assert (i.list_price_fen, i.run_start, i.run_end) == (10_000, TODAY, TODAY + timedelta(days=10))
    assert code_of(item, product(), slot=1, run_start=TODAY + timedelta(days=9)) == "FLASH_SLOT_TAKEN"
    assert code_of(item, p, slot=2) == "FLASH_PRODUCT_TAKEN"
    item(product(), slot=1, run_start=TODAY + timedelta(days=10))  # the next run of slot 1
    assert AuditEntry.objects.filter(action="flash_item.create").count() == 2
    services.flash_item_update(item_id=i.pk, data={"floor_fen": 6_000}, now=NOW)
    entry = AuditEntry.objects.get(action="flash_item.update")
    assert entry.before == {"floor_fen": 5_000} and entry.after == {"floor_fen": 6_000}
    assert code_of(services.flash_item_update, item_id=i.pk, data={"slot": 2}, now=NOW) == "FLASH_ITEM_FROZEN"
    services.flash_item_retire(item_id=i.pk, now=NOW)
    assert FlashItem.objects.get(pk=i.pk).status == "retired"
    assert selectors.flash_schedule(TODAY) == []
    assert (
        code_of(services.flash_item_update, item_id=i.pk, data={"floor_fen": 1}, now=NOW)
        == "FLASH_ITEM_FROZEN"
    )


def test_two_items_a_day(zone):
    a, b = item(slot=1), item(slot=2)
    queued = item(slot=1, run_start=None)
    assert [i.pk for i in selectors.flash_schedule(TODAY)] == [a.pk, b.pk]
    services.flash_zone_update(data={"items_per_day": 1})
    assert [i.pk for i in selectors.flash_schedule(TODAY)] == [a.pk]
    assert queued.run_start is None


# --- the tick -----------------------------------------------------------------------------------


def test_tick_opens_the_day_with_10_units_and_is_idempotent(zone):
    a, b = item(slot=1), item(slot=2)
    assert services.flash_tick(NOW) == {"ended": 0, "started": 0, "opened": 2}
    assert services.flash_tick(NOW + timedelta(minutes=1)) == {"ended": 0, "started": 0, "opened": 0}
    days = FlashDay.objects.order_by("item_id")
    assert [(d.item_id, d.day, d.units, d.sold, d.is_holiday) for d in days] == [
        (a.pk, TODAY, 10, 0, False),
        (b.pk, TODAY, 10, 0, False),
    ]
    assert days[0].opens_at == at(10) and days[0].ends_at == at(0, day=TODAY + timedelta(days=1))


def test_holidays_get_20_units(zone):
    labour = date(2026, 5, 1)
    i = item(run_start=date(2026, 4, 28), now=at(9, day=date(2026, 4, 28)))
    services.flash_tick(at(0, 1, day=date(2026, 4, 30)))
    services.flash_tick(at(0, 1, day=labour))
    assert FlashDay.objects.get(item=i, day=date(2026, 4, 30)).units == 10
    may1 = FlashDay.objects.get(item=i, day=labour)
    assert may1.units == 20 and may1.is_holiday
    services.holiday_create(date=date(2026, 5, 6), name="店庆")
    services.flash_tick(at(0, 1, day=date(2026, 5, 6)))
    assert FlashDay.objects.get(item=i, day=date(2026, 5, 6)).units == 20


def test_rotation_after_10_days(zone):
    first = item(slot=1)
    nxt = item(slot=1, run_start=None)  # queued behind the first
    services.flash_tick(NOW)
    day9 = TODAY + timedelta(days=9)
    assert services.flash_tick(at(0, 5, day=day9))["ended"] == 0
    assert [i.pk for i in selectors.flash_schedule(day9)] == [first.pk]
    day10 = TODAY + timedelta(days=10)
    assert services.flash_tick(at(0, 5, day=day10)) == {"ended": 1, "started": 1, "opened": 1}
    assert FlashItem.objects.get(pk=first.pk).status == "ended"
    nxt.refresh_from_db()
    assert (nxt.run_start, nxt.run_end) == (day10, day10 + timedelta(days=10))
    assert [i.pk for i in selectors.flash_schedule(day10)] == [nxt.pk]
    assert services.flash_tick(at(0, 6, day=day10)) == {"ended": 0, "started": 0, "opened": 0}
    assert AuditEntry.objects.filter(action="flash.tick").count() == 1


# --- claims -------------------------------------------------------------------------------------


def test_claim_prices_at_now_and_takes_one_unit(zone):
    p = product(19_900)
    item(p, floor_fen=9_900)
    services.flash_tick(NOW)
    m = member()
    c = claim(p, m, now=at(12, 30))  # 2 full hours: 199 − 2 × 19.90 = 159.20元
    assert (c.quantity, c.unit_price_fen, c.state, c.order_ref) == (1, 15_920, "claimed", "O1")
    assert FlashDay.objects.get().sold == 1
    assert claim(p, m, order="O1", now=at(12, 31)).pk == c.pk  # the same order again: its claim
    assert code_of(claim, p, m, order="O2") == "FLASH_LIMIT_REACHED"
    assert code_of(claim, p, member(), quantity=2) == "FLASH_LIMIT_REACHED"
    assert FlashDay.objects.get().sold == 1


def test_claim_errors(zone):
    p = product()
    item(p)
    services.flash_tick(NOW)
    assert code_of(claim, p, member(), now=at(9, 59)) == "FLASH_NOT_ON_SALE"
    assert code_of(claim, product(), member()) == "FLASH_NOT_ON_SALE"
    assert code_of(claim, p, member(orders=0)) == "FLASH_NOT_ELIGIBLE"
    assert code_of(claim, p, member(), now=at(10, day=TODAY + timedelta(days=10))) == "FLASH_NOT_ON_SALE"
    for i in range(10):
        claim(p, member(), order=f"S{i}")
    assert code_of(claim, p, member(), order="S10") == "FLASH_SOLD_OUT"
    day = FlashDay.objects.get()
    assert (day.units, day.sold) == (10, 10) and FlashClaim.objects.count() == 10


def test_claim_opens_the_day_if_the_tick_has_not_run_yet(zone):
    p = product()
    item(p)
    claim(p, member())
    assert FlashDay.objects.get().sold == 1


def test_old_customer_is_read_from_stats_and_is_a_setting(zone):
    p = product()
    item(p)
    new, old = member(orders=0), member(orders=1)
    long_ago = member(orders=1, when=clock.now() - timedelta(days=800))
    assert selectors.is_old_customer(old, zone=zone, today=TODAY)
    assert not selectors.is_old_customer(new, zone=zone, today=TODAY)
    services.flash_zone_update(data={"old_customer_window_months": 12})
    z = selectors.zone_get()
    assert not selectors.is_old_customer(long_ago, zone=z, today=TODAY)
    assert selectors.is_old_customer(old, zone=z, today=TODAY)
    services.flash_zone_update(data={"old_customer_min_orders": 2, "old_customer_window_months": None})
    assert code_of(claim, p, old) == "FLASH_NOT_ELIGIBLE"
    services.flash_zone_update(data={"old_customers_only": False})
    assert claim(p, new).state == "claimed"
    assert AuditEntry.objects.filter(action="flash_zone.update").count() == 3


def test_release_before_the_day_ends_gives_the_unit_back_and_is_idempotent(zone):
    p = product()
    item(p)
    m = member()
    claim(p, m, order="O1")
    assert release("O1", now=at(15)) == 1
    assert release("O1", now=at(15)) == 0
    c = FlashClaim.objects.get()
    assert (c.state, c.restocked) == ("released", True)
    assert FlashDay.objects.get().sold == 0
    assert claim(p, m, order="O2", now=at(18)).unit_price_fen == 5_000  # may buy again (floor by 18:00)


def test_release_after_the_day_only_marks_released(zone):
    p = product()
    item(p)
    claim(p, member(), order="O1")
    assert release("O1", now=at(0, 0, day=TODAY + timedelta(days=1))) == 1
    assert FlashClaim.objects.get().state == ClaimState.RELEASED and not FlashClaim.objects.get().restocked
    assert FlashDay.objects.get().sold == 1


def test_offer_for_the_quote(zone):
    p = product(19_900)
    item(p, floor_fen=9_900)
    m = member()
    assert selectors.flash_offer(product_id=product().pk, member=m, now=NOW) is None
    early = selectors.flash_offer(product_id=p.pk, member=m, now=at(9))
    assert (early.unit_price_fen, early.reason_code, early.units_left) == (19_900, "FLASH_NOT_ON_SALE", 10)
    offer = selectors.flash_offer(product_id=p.pk, member=m, now=at(11, 1))
    assert offer == selectors.FlashOffer(
        product_id=p.pk,
        unit_price_fen=17_910,
        floor_fen=9_900,
        units_left=10,
        per_member_left=1,
        reason_code=None,
    )
    assert (
        selectors.flash_offer(product_id=p.pk, member=member(orders=0), now=NOW).reason_code
        == "FLASH_NOT_ELIGIBLE"
    )
    assert selectors.flash_offer(product_id=p.pk, member=None, now=NOW).reason_code == "FLASH_NOT_ELIGIBLE"
    claim(p, m, now=at(11, 1))
    after = selectors.flash_offer(product_id=p.pk, member=m, now=at(11, 2))
    assert (after.units_left, after.per_member_left, after.reason_code) == (9, 0, "FLASH_LIMIT_REACHED")


def test_a_merged_members_claims_follow_the_survivor(zone):
    from laoke.members.services import member_merge

    p = product()
    item(p)
    a, b = member(), member(with_mobile=False)
    claim(p, a, order="A")
    member_merge(source_id=a.pk, target_id=b.pk)
    assert FlashClaim.objects.get().member_id == b.pk
    assert code_of(claim, p, b, order="B") == "FLASH_LIMIT_REACHED"


def test_a_claim_is_seven_queries(zone, django_assert_num_queries):
    """The hot path: settings, today's stock row with its item, the member's statistics, then the
    savepoint around INSERT claim + guarded UPDATE (7; +2 for the helper's atomic(), a savepoint
    pair inside the test's transaction)."""
    p = product()
    item(p)
    services.flash_tick(NOW)
    m = member()
    with django_assert_num_queries(7 + 2):
        claim(p, m)


def test_the_huey_task_runs_the_tick(zone):
    from laoke.flash.tasks import flash_tick_periodic

    item(slot=1)
    assert flash_tick_periodic.call_local() == {"ended": 0, "started": 0, "opened": 1}
    assert flash_tick_periodic.call_local()["opened"] == 0


def test_offer_when_sold_out(zone):
    p = product()
    item(p)
    services.flash_zone_update(data={"units_per_day": 1})
    claim(p, member())
    offer = selectors.flash_offer(product_id=p.pk, member=member(), now=NOW)
    assert (offer.units_left, offer.reason_code) == (0, "FLASH_SOLD_OUT")
