"""Registering a referral: both rewards at registration, the referrer by mobile or member number,
every fraud-guard refusal with its stable code, one referral per member, presets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.models import Member
from laoke.members.services import member_create, member_merge
from laoke.promotions.models import Coupon, CouponTemplate
from laoke.referrals import services
from laoke.referrals.models import Referral, ReferralProgramme
from laoke.referrals.services import referral_programme_update, referral_register, referrals_presets_install
from tests.promotions.helpers import END, template
from tests.referrals.helpers import ADDRESS, member, settle

pytestmark = pytest.mark.django_db


def code_of(fn) -> str:
    with pytest.raises(DomainError) as exc:
        fn()
    return exc.value.code


def test_at_registration_both_get_the_50_yuan_voucher(preset, old, new):
    r = referral_register(new_member=new, referrer_ref="138 0000 1111", device_id="dev-new")
    assert (r.referrer_id, r.new_member_id, r.state, r.trigger) == (
        old.pk,
        new.pk,
        "rewarded",
        "registration",
    )
    assert r.rewarded_at is not None and r.reward_order_ref == ""
    mine, theirs = Coupon.objects.get(pk=r.referrer_coupon_id), Coupon.objects.get(pk=r.new_member_coupon_id)
    assert (mine.member_id, theirs.member_id) == (old.pk, new.pk)
    assert mine.issue_key == f"referral:{r.pk}:referrer" and theirs.issue_key == f"referral:{r.pk}:new"
    for c in (mine, theirs):
        assert c.template.amount_off_fen == 5_000 and c.template.kind == "fixed"
        assert c.state == "issued" and c.channel == "REFERRAL"
    entry = AuditEntry.objects.get(action="referral.register")
    assert entry.after["referrer"] == old.pk and entry.after["coupons"] == [mine.pk, theirs.pk]


@pytest.mark.parametrize("ref", ["13800001111", "+86 138-0000-1111", "１３８００００１１１１", "CODE"])
def test_the_referrer_is_named_by_mobile_or_member_number(preset, old, new, ref):
    ref = old.code.lower() if ref == "CODE" else ref
    assert referral_register(new_member=new, referrer_ref=ref).referrer_id == old.pk


def test_the_same_registration_again_is_the_same_referral_and_no_more_coupons(preset, old, new):
    first = referral_register(new_member=new, referrer_ref=old.code)
    again = referral_register(new_member=new, referrer_ref=old.mobile)
    assert again.pk == first.pk
    assert Coupon.objects.count() == 2 and Referral.objects.count() == 1
    assert AuditEntry.objects.filter(action="referral.register").count() == 1


def test_a_member_is_referred_at_most_once(preset, old, new):
    other = member("另一老会员", "13800003333")
    referral_register(new_member=new, referrer_ref=old.code)
    assert (
        code_of(lambda: referral_register(new_member=new, referrer_ref=other.code))
        == "REFERRAL_ALREADY_REFERRED"
    )
    assert Referral.objects.count() == 1 and Coupon.objects.count() == 2


def test_unknown_referrer(preset, new):
    for ref in ("13711112222", "M0000000000", "   ", "not-a-member"):
        assert code_of(lambda ref=ref: referral_register(new_member=new, referrer_ref=ref)) == (
            "REFERRAL_REFERRER_NOT_FOUND"
        )


def test_a_member_cannot_refer_themselves(preset, new):
    assert code_of(lambda: referral_register(new_member=new, referrer_ref="13900002222")) == "REFERRAL_SELF"
    assert code_of(lambda: referral_register(new_member=new, referrer_ref=new.code)) == "REFERRAL_SELF"
    assert not Referral.objects.exists()


def test_same_normalised_address_is_refused(preset, old):
    a = member("甲", "13800004444", address=ADDRESS)
    b = member("乙", "13900005555", address="北京 朝阳区 建国路８８号 3单元 101")  # full-width digits, spaces
    assert code_of(lambda: referral_register(new_member=b, referrer_ref=a.code)) == "REFERRAL_SAME_ADDRESS"
    # Same district, another street address: a neighbour may refer.
    c = member("丙", "13900006666", address="北京市朝阳区建国路90号")
    assert referral_register(new_member=c, referrer_ref=a.code).state == "rewarded"


def test_same_device_is_refused(preset, old):
    a, b, c = (member(n, m) for n, m in [("甲", "13900007771"), ("乙", "13900007772"), ("丙", "13900007773")])
    referral_register(new_member=a, referrer_ref=old.code, device_id="phone-1")
    # a registered on phone-1: a cannot refer someone registering on phone-1
    assert code_of(lambda: referral_register(new_member=b, referrer_ref=a.code, device_id="phone-1")) == (
        "REFERRAL_SAME_DEVICE"
    )
    # old's referee registered on phone-1: old's next referee on the same phone is refused (device farm)
    assert code_of(lambda: referral_register(new_member=b, referrer_ref=old.code, device_id="phone-1")) == (
        "REFERRAL_SAME_DEVICE"
    )
    assert referral_register(new_member=c, referrer_ref=old.code, device_id="phone-2").state == "rewarded"
    assert referral_register(new_member=b, referrer_ref=a.code, device_id="").state == "rewarded"


def test_same_mobile_is_refused_by_the_guard():
    # Mobiles are unique among saved members, so two accounts share one only through data the
    # database does not hold twice (e.g. an unsaved or imported record): the guard still says no.
    a = Member(pk=1, mobile="+8613800001111")
    b = Member(pk=2, mobile="+86 138 0000 1111")
    with pytest.raises(DomainError) as exc:
        services._guard(referrer=a, new_member=b, device_id="")
    assert exc.value.code == "REFERRAL_SAME_MOBILE"
    services._guard(referrer=a, new_member=Member(pk=3, mobile="+8613800001112"), device_id="")


def test_the_referrer_must_be_an_active_member_who_joined_first(preset, old, new, frozen):
    dup = member_create(name="老会员重复")  # e.g. a platform import without a mobile
    Member.objects.filter(pk=dup.pk).update(registered_at=frozen - timedelta(days=1))
    member_merge(source_id=dup.pk, target_id=old.pk)
    assert (
        code_of(lambda: referral_register(new_member=new, referrer_ref=dup.code))
        == "REFERRAL_REFERRER_INVALID"
    )
    with clock.frozen(frozen + timedelta(hours=1)):
        later = member("后来者", "13800009999")
        assert code_of(lambda: referral_register(new_member=new, referrer_ref=later.code)) == (
            "REFERRAL_REFERRER_INVALID"
        )
    assert not Referral.objects.exists()


def test_the_referrer_must_be_named_soon_after_registration_and_before_any_order(preset, old, frozen):
    late = member("晚来", "13900001010")
    with clock.frozen(frozen + timedelta(days=7, seconds=1)):
        assert (
            code_of(lambda: referral_register(new_member=late, referrer_ref=old.code)) == "REFERRAL_TOO_LATE"
        )
    buyer = member("已下单", "13900001011")
    settle(buyer, "O-BEFORE", 10_000)
    assert code_of(lambda: referral_register(new_member=buyer, referrer_ref=old.code)) == "REFERRAL_TOO_LATE"
    ok = member("准时", "13900001012")
    with clock.frozen(frozen + timedelta(days=7)):
        ok.refresh_from_db()
        assert referral_register(new_member=ok, referrer_ref=old.code).state == "rewarded"


def test_fraud_guard_off_lets_the_same_address_through(preset):
    referral_programme_update(data={"fraud_guard": False})
    a = member("甲", "13800004444", address=ADDRESS)
    b = member("乙", "13900005555", address=ADDRESS)
    assert referral_register(new_member=b, referrer_ref=a.code).state == "rewarded"
    c = member("丙", "13900005556")
    assert code_of(lambda: referral_register(new_member=c, referrer_ref=c.code)) == "REFERRAL_SELF"


def test_an_inactive_programme_refuses(preset, old, new):
    referral_programme_update(data={"is_active": False})
    assert code_of(lambda: referral_register(new_member=new, referrer_ref=old.code)) == (
        "REFERRAL_PROGRAMME_INACTIVE"
    )


def test_a_coupon_that_cannot_be_issued_refuses_and_writes_nothing(preset, old, new):
    tpl = template(name="限量", threshold_fen=0, amount_off_fen=5_000, total_limit=1)
    referral_programme_update(data={"referrer_template": tpl, "new_member_template": tpl})
    assert (
        code_of(lambda: referral_register(new_member=new, referrer_ref=old.code))
        == "COUPON_TOTAL_LIMIT_REACHED"
    )
    assert not Referral.objects.exists() and not Coupon.objects.exists()
    assert CouponTemplate.objects.get(pk=tpl.pk).issued_count == 0


def test_a_combination_voucher_is_just_another_template(preset, old, new):
    from laoke.catalog.services import product_create

    product_create(sku="SKU-TEA", title="茶叶礼盒", list_price_fen=30_000)
    combo = template(
        name="组合抵价券", kind="combo", threshold_fen=0, amount_off_fen=5_000, product_skus=["SKU-TEA"]
    )
    referral_programme_update(data={"new_member_template": combo.pk})
    r = referral_register(new_member=new, referrer_ref=old.code)
    assert r.new_member_coupon.template.kind == "combo" and r.referrer_coupon.template.kind == "fixed"


def test_no_template_no_coupon(frozen, old, new):
    # Without presets: the defaults (active, registration trigger) and no reward coupons, e.g. an
    # S2 programme that pays only the cash subsidy.
    r = referral_register(new_member=new, referrer_ref=old.code)
    assert r.state == "rewarded" and r.referrer_coupon_id is None and not Coupon.objects.exists()


def test_presets_are_idempotent_and_keep_the_operators_choices(frozen):
    p1 = referrals_presets_install()
    tpl = p1.referrer_template
    assert (tpl.name, tpl.amount_off_fen, tpl.channel_code, tpl.valid_days) == (
        "推荐有礼 50元券",
        5_000,
        "REFERRAL",
        90,
    )
    assert (p1.trigger, p1.kpi_target_bp, p1.fraud_guard, p1.is_active) == ("registration", 2_000, True, True)
    other = template(name="另一张", valid_to=END)
    referral_programme_update(data={"new_member_template": other, "trigger": "first_paid_order"})
    p2 = referrals_presets_install()
    assert CouponTemplate.objects.filter(amount_off_fen=5_000).count() == 1
    assert ReferralProgramme.objects.count() == 1
    assert (p2.new_member_template_id, p2.trigger) == (other.pk, "first_paid_order")


def test_presets_adopt_the_demo_template_of_the_same_name(frozen):
    from laoke.promotions.services import coupon_template_create

    demo = coupon_template_create(
        data={"name": "推荐有礼 50元券", "kind": "fixed", "amount_off_fen": 5_000, "valid_days": 90}
    )
    p = referrals_presets_install()
    assert p.referrer_template_id == p.new_member_template_id == demo.pk
    assert CouponTemplate.objects.count() == 1


def test_programme_settings_are_validated(frozen):
    for data in (
        {"trigger": "never"},
        {"kpi_target_bp": 10_001},
        {"window_days": 0},
        {"referrer_template": 999_999},
    ):
        with pytest.raises(DomainError) as exc:
            referral_programme_update(data=data)
        assert exc.value.code == "REFERRAL_SETTINGS_INVALID"
    assert not ReferralProgramme.objects.exists()


def test_new_member_must_be_active(preset, old, frozen):
    a = member_create(name="甲", mobile="13900001111")
    b = member_create(name="乙")
    member_merge(source_id=b.pk, target_id=a.pk)
    b.refresh_from_db()
    assert (
        code_of(lambda: referral_register(new_member=b, referrer_ref=old.code))
        == "REFERRAL_NEW_MEMBER_INVALID"
    )
