"""The demo data set: complete, valid, seeded, loaded once, fast enough for `make run`."""

import time
from datetime import timedelta

import phonenumbers
import pytest
from django.contrib.auth import get_user_model

from laoke.catalog.models import GiftItem, GiftStock, Product
from laoke.core import clock
from laoke.core.models import AuditEntry, Store
from laoke.core.roles import ROLE_PERMISSIONS
from laoke.demo import POINT_GIFT_LEVELS, demo_load
from laoke.members.models import (
    Agreement,
    AttributeValue,
    CardPolicy,
    Consent,
    CorporateAccount,
    GroupAccount,
    Member,
    Tag,
)
from laoke.payments.models import PackagePurchase

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def loaded(module_db):
    """Loaded once for the module (rolled back at its end); each test runs in its own savepoint."""
    from laoke.core.services import roles_sync

    with module_db():
        roles_sync()
        started = time.perf_counter()
        summary = demo_load(seed=7, members=2000)
        return summary, time.perf_counter() - started


def test_demo_loads_2000_members_quickly_and_only_once(loaded):
    summary, seconds = loaded
    assert summary["loaded"] and summary["members"] == 2000
    assert seconds < 30, f"demo took {seconds:.1f}s"
    assert Member.objects.count() == 2000
    assert demo_load(seed=7, members=2000) == {"loaded": False, "reason": "demo data already present"}
    assert Member.objects.count() == 2000
    assert AuditEntry.objects.filter(action="demo.load").count() == 1


def test_demo_members_are_realistic(loaded):
    mobiles = list(Member.objects.exclude(mobile=None).values_list("mobile", flat=True))
    assert len(mobiles) > 1700 and len(set(mobiles)) == len(mobiles)
    for m in mobiles:
        num = phonenumbers.parse(m)
        assert m.startswith("+86") and len(m) == 14
        assert phonenumbers.is_valid_number(num)
        assert phonenumbers.number_type(num) == phonenumbers.PhoneNumberType.MOBILE
    names = list(Member.objects.values_list("name", flat=True))
    assert all(2 <= len(n) <= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names)
    provinces = set(Member.objects.values_list("province", flat=True))
    assert {"北京市", "广东省", "新疆维吾尔自治区", "内蒙古自治区", "广西壮族自治区"} <= provinces
    now = clock.now()
    oldest = Member.objects.order_by("registered_at").first().registered_at
    assert now - timedelta(days=731) < oldest < now - timedelta(days=365)
    assert Member.objects.filter(registered_at__gte=now - timedelta(days=30)).count() > 100
    assert Member.objects.exclude(group_account=None).exists()
    # Every member with a mobile has an SMS consent row; consents came with their history.
    assert Consent.objects.filter(channel="sms").count() == len(mobiles)
    assert AttributeValue.objects.filter(
        definition__key="size", value_text__in=["S", "M", "L", "XL"]
    ).exists()
    assert AttributeValue.objects.filter(definition__key="baby_age_months", value_int__gte=0).exists()


def test_demo_configuration_matches_the_seed_presets(loaded):
    summary, _ = loaded
    kinds = dict(Store.objects.values_list("code", "kind"))
    assert kinds["ONLINE"] == Store.Kind.ONLINE and kinds["BJ"] == Store.Kind.BRANCH
    assert Store.objects.filter(parent__code="BJ").count() == 2
    assert set(GroupAccount.objects.values_list("kind", flat=True)) == {"company", "family"}
    assert Tag.objects.get(name="三高人群").kind == Tag.Kind.SENSITIVE
    assert Agreement.objects.filter(version="1.0").exists()
    active = CardPolicy.objects.get(is_active=True)
    assert (active.fee_fen, active.validity_days, active.replacement_fee_fen) == (500, 730, 200)
    assert active.waiver_threshold_fen
    assert CardPolicy.objects.get(is_active=False).free_with_first_purchase
    assert Product.objects.filter(is_special_sale=True, title__contains="会员特价").exists()
    assert Product.objects.count() == summary["products"] + 1  # + the towel the promotion presets add
    for level in POINT_GIFT_LEVELS:
        gift = GiftItem.objects.get(code=f"PTS-{level}")
        assert GiftStock.objects.filter(gift=gift).count() == 3  # online shop + two stores
    assert GiftItem.objects.filter(name__contains="小方巾").exists()
    assert set(CorporateAccount.objects.values_list("klass", flat=True)) == {"key", "conference", "potential"}
    User = get_user_model()
    for role in ROLE_PERMISSIONS:
        assert User.objects.get(username=f"demo_{role}").groups.filter(name=role).exists()
    logins = open(summary["staff_logins"]).read().splitlines()
    assert len(logins) == len(ROLE_PERMISSIONS)
    username, password = logins[0].split("\t")
    assert User.objects.get(username=username).check_password(password)


def test_demo_value_presets_and_history(loaded):
    from laoke.cards.models import CardBatch, WalletPolicy
    from laoke.ledger.models import Account
    from laoke.ledger.services import ledger_check
    from laoke.points.models import GiftOffer, PointsProgramme
    from laoke.points.selectors import points_lots_check
    from laoke.tiers.models import MemberTier, TierProgramme

    active = dict(TierProgramme.objects.filter(is_active=True).values_list("code", "audience"))
    assert active == {"stored-value": "individual", "stored-value-group": "group"}
    assert TierProgramme.objects.filter(code="online-shop", is_active=False).exists()
    graded = MemberTier.objects.filter(member__isnull=False).exclude(level=None)
    assert 100 < graded.count() <= 300  # 1,000元 and more of past spend grades a member
    programme = PointsProgramme.objects.get(is_active=True)
    assert programme.points_per_yuan == 1 and programme.expiry_months is None
    levels = sorted(GiftOffer.objects.filter(store__code="BJ-01").values_list("level__points", flat=True))
    assert levels == POINT_GIFT_LEVELS
    assert Account.objects.filter(kind="points", balance__gt=0).count() >= 200  # + demo orders' buyers
    # 100 wallets recharged with demo cards, and the buyers of the demo's paid recharge packages
    package_buyers = set(
        PackagePurchase.objects.filter(state=PackagePurchase.State.PAID).values_list("member_id", flat=True)
    )
    assert package_buyers
    funded = Account.objects.filter(kind="wallet", balance__gt=0)
    assert 100 - len(package_buyers) <= funded.exclude(member_id__in=package_buyers).count() <= 100
    assert funded.filter(member_id__in=package_buyers).count() == len(package_buyers)
    assert points_lots_check() == [] and ledger_check().ok
    assert WalletPolicy.objects.count() == 1
    assert CardBatch.objects.get().count == 20


def test_demo_installs_shipping_and_coupon_presets(loaded):
    from laoke.promotions.models import CouponTemplate
    from laoke.shipping.quote import shipping_quote

    names = set(CouponTemplate.objects.values_list("name", "amount_off_fen"))
    assert {("满就送 3元券", 300), ("满就送 5元券", 500), ("推荐有礼 50元券", 5_000)} <= names
    q = shipping_quote(subtotal_fen=15_000, courier="normal", member_kind="new", province="浙江省")
    assert q.charged_fen == 0  # seed 001: a new customer's single order ≥ 150元 ships free


def test_demo_orders_settled_through_settlement(loaded):
    from laoke.flash.models import FlashItem
    from laoke.ledger.services import ledger_check
    from laoke.orders.models import Order, Refund
    from laoke.orders.rebuild import stats_rebuild
    from laoke.promotions.models import FullSendRule, GiftRule
    from laoke.stats.models import MemberStats

    summary, _ = loaded
    assert Order.objects.count() == summary["orders"] >= 50
    assert Refund.objects.count() >= 3
    assert Order.objects.filter(member__isnull=False, tier_code__gt="").exists()
    # The demo's graded history (half a year ago, without order rows, as a legacy import would
    # leave it) is all the rebuild cannot reproduce; every demo buyer's figures agree.
    graded = set(
        MemberStats.objects.filter(
            first_order_at__lt=Order.objects.order_by("paid_at")[0].paid_at
        ).values_list("member_id", flat=True)
    )
    report = stats_rebuild()
    assert set(report.differing) <= graded and report.members - len(graded) >= 30
    assert ledger_check().ok
    assert FlashItem.objects.count() == 2
    assert FullSendRule.objects.count() == 1 and GiftRule.objects.count() == 3
