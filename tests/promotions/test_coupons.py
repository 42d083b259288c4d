"""Templates, limits and budget, validity (absolute and N shop days), claim, import errors with
row and column, redeem/release and the expiry tick — through the real services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from laoke.catalog.services import gift_item_create, product_create
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.services import member_create
from laoke.promotions import selectors, services
from laoke.promotions.evaluate import Line
from laoke.promotions.models import Coupon, CouponMemberCount, CouponTemplate
from tests.promotions.helpers import END, NOW, template

pytestmark = pytest.mark.django_db


def code_of(fn, *a, **kw) -> str:
    with pytest.raises(DomainError) as exc:
        fn(*a, **kw)
    return exc.value.code


def test_template_validation_names_the_field(frozen):
    def bad(**kw):
        with pytest.raises(DomainError) as exc:
            template(**kw)
        return exc.value.code, exc.value.field

    assert bad(amount_off_fen=0) == ("COUPON_TEMPLATE_INVALID", "amount_off_fen")
    assert bad(kind="percent", amount_off_fen=0, rate_off_bp=10_000) == (
        "COUPON_TEMPLATE_INVALID",
        "rate_off_bp",
    )
    assert bad(kind="gift", amount_off_fen=0) == ("COUPON_TEMPLATE_INVALID", "gift")
    assert bad(kind="combo", product_skus=["NOPE"]) == ("COUPON_TEMPLATE_INVALID", "product_skus")
    assert bad(valid_to=None) == ("COUPON_TEMPLATE_INVALID", "valid_to")
    assert bad(valid_from=END) == ("COUPON_TEMPLATE_INVALID", "valid_to")
    assert bad(code_prefix="O0") == ("COUPON_TEMPLATE_INVALID", "code_prefix")
    assert CouponTemplate.objects.count() == 0
    gift = gift_item_create(code="TOWEL", name="小方巾", unit_cost_fen=800)
    product_create(sku="SCARF", title="围巾", list_price_fen=20_000)
    assert template(kind="gift", amount_off_fen=0, gift=gift).unit_value_fen == 800
    assert template(kind="combo", product_skus=["SCARF"]).pk
    assert AuditEntry.objects.filter(action="coupon_template.create").count() == 2


def test_terms_frozen_once_issued_but_limits_can_move(frozen, member):
    tpl = template(total_limit=5)
    services.coupon_issue(template=tpl, member=member)
    e = code_of(services.coupon_template_update, template_id=tpl.pk, data={"amount_off_fen": 2_000})
    assert e == "COUPON_TEMPLATE_TERMS_FROZEN"
    e = code_of(services.coupon_template_update, template_id=tpl.pk, data={"total_limit": 0})
    assert e == "COUPON_TEMPLATE_INVALID"
    tpl = services.coupon_template_update(template_id=tpl.pk, data={"total_limit": 10, "name": "新名"})
    assert tpl.total_limit == 10 and tpl.name == "新名"
    entry = AuditEntry.objects.filter(action="coupon_template.update").get()
    assert entry.after == {"name": "新名", "total_limit": 10}


def test_per_member_limit(frozen, member, friend):
    tpl = template(per_member_limit=2)
    services.coupon_issue(template=tpl, member=member)
    services.coupon_issue(template=tpl, member=member)
    assert code_of(services.coupon_issue, template=tpl, member=member) == "COUPON_MEMBER_LIMIT_REACHED"
    services.coupon_issue(template=tpl, member=friend)
    assert Coupon.objects.filter(member=member).count() == 2
    assert CouponMemberCount.objects.get(template=tpl, member=member).count == 2
    assert CouponTemplate.objects.get(pk=tpl.pk).issued_count == 3  # the refused one counted nothing


def test_total_limit_and_budget(frozen, member):
    tpl = template(total_limit=2)
    services.coupon_issue(template=tpl, member=member)
    services.coupon_issue(template=tpl, member=None)
    assert code_of(services.coupon_issue, template=tpl, member=member) == "COUPON_TOTAL_LIMIT_REACHED"
    # budget counts face value issued: 2,500 fen of budget holds two 1,000-fen coupons, not three
    tpl = template(budget_fen=2_500)
    services.coupon_issue(template=tpl, member=member)
    services.coupon_issue(template=tpl, member=member)
    assert code_of(services.coupon_issue, template=tpl, member=member) == "COUPON_BUDGET_EXHAUSTED"
    tpl.refresh_from_db()
    assert (tpl.issued_count, tpl.issued_value_fen) == (2, 2_000)
    # a percentage coupon counts its cap
    pct = template(kind="percent", amount_off_fen=0, rate_off_bp=2_000, cap_fen=3_000, budget_fen=6_000)
    services.coupon_issue(template=pct, member=member)
    services.coupon_issue(template=pct, member=member)
    assert code_of(services.coupon_issue, template=pct, member=member) == "COUPON_BUDGET_EXHAUSTED"


def test_issue_key_is_idempotent(frozen, member):
    tpl = template()
    a = services.coupon_issue(template=tpl, member=member, key="campaign:1:m")
    b = services.coupon_issue(template=tpl, member=member, key="campaign:1:m")
    assert a.pk == b.pk and Coupon.objects.count() == 1
    assert CouponTemplate.objects.get(pk=tpl.pk).issued_count == 1


def test_codes_are_unique_and_readable(frozen, member):
    tpl = template(code_prefix="VPX")
    codes = {services.coupon_issue(template=tpl, member=member).code for _ in range(50)}
    assert len(codes) == 50
    for c in codes:
        assert c.startswith("VPX") and len(c) == 13
        assert not set(c[3:]) & set("01OIL")


def test_absolute_validity(frozen, member):
    start = NOW + timedelta(days=1)
    tpl = template(valid_from=start, valid_to=END)
    c = services.coupon_issue(template=tpl, member=member)
    assert (c.valid_from, c.valid_to) == (start, END)
    with transaction.atomic():
        assert (
            code_of(services._coupon_redeem, coupon=c, member=member, order_ref="O1")
            == "COUPON_NOT_YET_VALID"
        )
    with clock.frozen(END):
        assert code_of(services.coupon_issue, template=tpl, member=member) == "COUPON_TEMPLATE_ENDED"


def test_n_days_in_shop_time(member):
    # 2026-03-10 23:30 in Shanghai is 15:30 UTC: still the 10th in the shop, so 3 days runs to
    # the end of the 12th, i.e. midnight of the 13th Shanghai = 2026-03-12 16:00 UTC.
    late = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    with clock.frozen(late):
        tpl = template(valid_to=None, valid_days=3)
        c = services.coupon_issue(template=tpl, member=member)
    assert c.valid_from == late
    assert c.valid_to == datetime(2026, 3, 12, 16, 0, tzinfo=UTC)
    with clock.frozen(datetime(2026, 3, 12, 15, 59, 59, tzinfo=UTC)):
        assert services.coupons_tick(clock.now()) == 0
        assert [u.coupon.pk for u in selectors.usable_coupons(member)] == [c.pk]
    with clock.frozen(datetime(2026, 3, 12, 16, 0, tzinfo=UTC)):
        assert selectors.usable_coupons(member) == []
        assert services.coupons_tick(clock.now()) == 1
        assert services.coupons_tick(clock.now()) == 0
    assert Coupon.objects.get(pk=c.pk).state == "expired"


def test_claim_shared_coupon(frozen, member, friend):
    tpl = template(per_member_limit=1)
    shared = services.coupon_issue(template=tpl, member=None, channel="SMS-0310")
    assert shared.shareable and shared.member_id is None and shared.channel == "SMS-0310"
    got = services.coupon_claim(code=shared.code.lower(), member=friend)
    assert got.member_id == friend.pk and got.claimed_at == NOW
    assert services.coupon_claim(code=shared.code, member=friend).pk == got.pk  # same answer again
    assert code_of(services.coupon_claim, code=shared.code, member=member) == "COUPON_ALREADY_CLAIMED"
    assert code_of(services.coupon_claim, code="NOSUCHCODE", member=member) == "COUPON_NOT_FOUND"
    own = services.coupon_issue(template=template(), member=member)
    assert code_of(services.coupon_claim, code=own.code, member=friend) == "COUPON_NOT_SHAREABLE"
    # the per-member limit counts claims too
    second = services.coupon_issue(template=tpl, member=None)
    assert code_of(services.coupon_claim, code=second.code, member=friend) == "COUPON_MEMBER_LIMIT_REACHED"


def test_import_reports_row_and_column_and_imports_nothing(frozen, member):
    services.coupon_issue(template=template(), member=member, key="x")
    taken = Coupon.objects.get().code
    tpl = template()
    text = "\n".join(
        [
            "code,mobile",
            "GOOD-0001,13800001111",
            "ab",  # row 3: too short
            "GOOD-0001",  # row 4: duplicate of row 2
            f"{taken},",  # row 5: exists
            "GOOD-0002,12345",  # row 6: not a mobile
            "GOOD-0003,13999999999",  # row 7: no such member
            "GOOD-0004,13800001111,extra",  # row 8: too many columns
        ]
    )
    with pytest.raises(DomainError) as exc:
        services.coupon_import(template=tpl, text=text)
    assert exc.value.code == "COUPON_IMPORT_INVALID"
    where = [(e["row"], e["column"]) for e in exc.value.details["errors"]]
    assert where == [(3, "code"), (4, "code"), (5, "code"), (6, "mobile"), (7, "mobile"), (8, "C")]
    assert exc.value.message("en") == "The import file has 6 errors; nothing was imported"
    assert Coupon.objects.filter(template=tpl).count() == 0
    n = services.coupon_import(template=tpl, text="code,mobile\nGOOD-0001,13800001111\ngood-0002\n")
    assert n == 2
    a, b = Coupon.objects.filter(template=tpl).order_by("code")
    assert (a.code, a.member_id, a.shareable) == ("GOOD-0001", member.pk, False)
    assert (b.code, b.member_id, b.shareable) == ("GOOD-0002", None, True)
    # a rerun (e.g. after a crash) skips what landed
    assert services.coupon_import(template=tpl, text="GOOD-0003\n") == 1
    assert CouponTemplate.objects.get(pk=tpl.pk).issued_count == 3


def test_import_respects_the_total_limit(frozen):
    tpl = template(total_limit=1)
    with pytest.raises(DomainError) as exc:
        services.coupon_import(template=tpl, text="AAAA-1\nAAAA-2\n")
    assert exc.value.code == "COUPON_TOTAL_LIMIT_REACHED"
    assert Coupon.objects.count() == 0


def test_bulk_issue_chunks_and_resumes(frozen, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 3)
    members = [member_create(name=f"批量{i}", mobile=f"1370000{i:04d}") for i in range(7)]
    tpl = template(total_limit=6)
    r = services.coupon_bulk_issue(template=tpl, members=members[:4], job_key="job1")
    assert (r.issued, r.already, r.stopped) == (4, 0, "")
    r = services.coupon_bulk_issue(template=tpl, members=members, job_key="job1")
    assert (r.issued, r.already, r.stopped) == (2, 4, "COUPON_TOTAL_LIMIT_REACHED")
    assert Coupon.objects.filter(template=tpl).count() == 6


def test_redeem_once_and_release(frozen, member, friend):
    tpl = template()
    c = services.coupon_issue(template=tpl, member=member)
    with transaction.atomic():
        assert code_of(services._coupon_redeem, coupon=c, member=friend, order_ref="O1") == "COUPON_NOT_OWNER"
    with transaction.atomic():
        services._coupon_redeem(coupon=c, member=member, order_ref="O1")
    assert (c.state, c.order_ref, c.redeemed_at) == ("redeemed", "O1", NOW)
    with transaction.atomic():
        assert (
            code_of(services._coupon_redeem, coupon=c, member=member, order_ref="O2")
            == "COUPON_ALREADY_REDEEMED"
        )
    with transaction.atomic():
        assert code_of(services._coupon_release, coupon=c, order_ref="O2") == "COUPON_NOT_REDEEMED_BY"
        services._coupon_release(coupon=c, order_ref="O1")
    assert (c.state, c.order_ref) == ("issued", "")
    with transaction.atomic():
        services._coupon_redeem(coupon=c, member=member, order_ref="O3")
        services._coupon_release(coupon=c, order_ref="O3", restore=False)
    assert c.state == "voided"


def test_release_after_the_window_expires_it(frozen, member):
    c = services.coupon_issue(template=template(valid_to=NOW + timedelta(hours=1)), member=member)
    with transaction.atomic():
        services._coupon_redeem(coupon=c, member=member, order_ref="O1")
    with clock.frozen(NOW + timedelta(hours=2)), transaction.atomic():
        services._coupon_release(coupon=c, order_ref="O1")
    assert c.state == "expired"


def test_usable_coupons_for_a_cart(frozen, member, friend):
    big = services.coupon_issue(template=template(amount_off_fen=2_000, threshold_fen=20_000), member=member)
    small = services.coupon_issue(template=template(), member=member)
    online = services.coupon_issue(
        template=template(sales_channel="online", amount_off_fen=500), member=member
    )
    services.coupon_issue(template=template(), member=friend)
    lines = [Line("A", 12_000)]
    usable = selectors.usable_coupons(member, sales_channel="store", lines=lines)
    assert [u.coupon.pk for u in usable] == [small.pk]  # big needs 200元; online is not for the store
    usable = selectors.usable_coupons(member, sales_channel="online", lines=[Line("A", 30_000)])
    assert [u.coupon.pk for u in usable] == [big.pk, small.pk, online.pk]
    assert [u.evaluation.amount_fen for u in usable] == [2_000, 1_000, 500]


def test_hot_path_query_counts(frozen, member, django_assert_num_queries):
    tpls = [template(), template(kind="percent", amount_off_fen=0, rate_off_bp=1_000, cap_fen=500)]
    coupons = [services.coupon_issue(template=t, member=member) for t in tpls for _ in range(3)]
    with django_assert_num_queries(1):
        usable = selectors.usable_coupons(member, sales_channel="store", lines=[Line("A", 20_000)])
    assert len(usable) == 6
    with transaction.atomic(), django_assert_num_queries(2):  # the guarded UPDATE and the re-read
        services._coupon_redeem(coupon=coupons[0], member=member, order_ref="O1")


def test_tick_works_in_chunks(frozen, member, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 2)
    tpl = template(valid_to=NOW + timedelta(hours=1))
    for _ in range(5):
        services.coupon_issue(template=tpl, member=member)
    keep = services.coupon_issue(template=template(), member=member)
    assert services.coupons_tick(NOW + timedelta(hours=1)) == 5
    assert Coupon.objects.filter(state="expired").count() == 5
    assert Coupon.objects.get(pk=keep.pk).state == "issued"


def test_inactive_template_stops_issuing_but_issued_coupons_stay_usable(frozen, member):
    tpl = template()
    c = services.coupon_issue(template=tpl, member=member)
    tpl = services.coupon_template_update(template_id=tpl.pk, data={"is_active": False})
    assert code_of(services.coupon_issue, template=tpl, member=member) == "COUPON_TEMPLATE_INACTIVE"
    assert [u.coupon.pk for u in selectors.usable_coupons(member)] == [c.pk]
