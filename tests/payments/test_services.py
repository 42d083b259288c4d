"""Starting a purchase (the rules), refunds after partial spending (exact), presets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.cards.wallet import wallet_debit
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.ledger.services import ledger_check
from laoke.payments.models import PackagePurchase, RechargePackage
from laoke.payments.services import (
    package_create,
    package_purchase_refund,
    package_purchase_start,
    package_update,
    packages_ensure_presets,
    payments_tick,
    refund_amounts,
)
from tests.payments.fake_server import environ
from tests.payments.helpers import RETURN_URL, balances, member, package_500

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(fake_provider):
    with environ(fake_provider.env):
        yield fake_provider


def _paid(fake, m, pkg, provider="alipay"):
    """Paid at the cashier; credited by the reconciliation tick (no live server needed)."""
    purchase, url = package_purchase_start(
        member=m, package_id=pkg.pk, provider=provider, return_url=RETURN_URL
    )
    fake.confirm(url, lose_notification=True)
    assert payments_tick(clock.now() + timedelta(minutes=5))["credited"] == 1
    purchase.refresh_from_db()
    assert purchase.state == "paid"
    return purchase


def test_start_rules(env):
    m, pkg = member(), package_500(per_member_limit=1)
    with pytest.raises(DomainError) as e:
        package_purchase_start(member=m, package_id=pkg.pk, provider="paypal", return_url=RETURN_URL)
    assert e.value.code == "PAYMENT_PROVIDER_INVALID"
    with pytest.raises(DomainError) as e:
        package_purchase_start(
            member=m, package_id=pkg.pk, provider="alipay", return_url="javascript:alert(1)"
        )
    assert e.value.code == "PAYMENT_RETURN_URL_INVALID"
    package_purchase_start(member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL)
    with pytest.raises(
        DomainError
    ) as e:  # the limit counts a purchase not yet paid (only closed ones free it)
        package_purchase_start(member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL)
    assert e.value.code == "PACKAGE_LIMIT_REACHED"
    package_update(package_id=pkg.pk, changes={"active": False, "per_member_limit": None})
    with pytest.raises(DomainError) as e:
        package_purchase_start(member=m, package_id=pkg.pk, provider="alipay", return_url=RETURN_URL)
    assert e.value.code == "PACKAGE_NOT_AVAILABLE"
    later = package_create(
        name="下周", price_fen=10_000, sale_starts_at=clock.now() + timedelta(days=7), bonus_fen=0
    )
    with pytest.raises(DomainError) as e:
        package_purchase_start(member=m, package_id=later.pk, provider="wechat", return_url=RETURN_URL)
    assert e.value.code == "PACKAGE_NOT_AVAILABLE"
    for bad in ({"price_fen": 0}, {"bonus_fen": -1}, {"name": " "}):
        with pytest.raises(DomainError) as e:
            package_update(package_id=pkg.pk, changes=bad)
        assert e.value.code == "PACKAGE_INVALID"


def test_refund_after_partial_spending_is_exact(env):
    m, pkg = member(), package_500()
    purchase = _paid(env, m, pkg)
    assert balances(m) == (50_000, 5_000)
    # Spend 110元 of the 550元: in proportion 500:50 → 100元 paid + 10元 bonus.
    wallet_debit(member=m, amount_fen=11_000, key="order:T1", reason="order.pay", reference="T1")
    assert balances(m) == (40_000, 4_000)
    refunded = package_purchase_refund(purchase_id=purchase.pk, reason="member asked")
    assert refunded.state == "refunded"
    assert (refunded.refund_fen, refunded.bonus_back_fen) == (40_000, 4_000)
    assert balances(m) == (0, 0)
    # The provider refunded exactly the unspent paid part, under the purchase's refund number.
    assert env.trade(purchase.out_trade_no)["refunds"] == {f"{purchase.out_trade_no}R1": 40_000}
    with pytest.raises(DomainError) as e:
        package_purchase_refund(purchase_id=purchase.pk)
    assert e.value.code == "PURCHASE_NOT_REFUNDABLE"
    report = ledger_check()
    assert report.ok, report.summary()


def test_refund_through_wechat_with_odd_amounts(env):
    m = member()
    pkg = package_create(name="充1000送150", price_fen=100_000, bonus_fen=15_000)
    purchase = _paid(env, m, pkg, provider="wechat")
    # 33.33元 at 1000:150 → paid 28.98 (2898.26…), bonus 4.35 (434.73…): largest remainder → 2898 + 435.
    wallet_debit(member=m, amount_fen=3_333, key="order:T2", reason="order.pay", reference="T2")
    assert balances(m) == (100_000 - 2_898, 15_000 - 435)
    refunded = package_purchase_refund(purchase_id=purchase.pk)
    assert (refunded.state, refunded.refund_fen, refunded.bonus_back_fen) == ("refunded", 97_102, 14_565)
    assert balances(m) == (0, 0)
    assert env.trade(purchase.out_trade_no)["refunds"] == {f"{purchase.out_trade_no}R1": 97_102}


def test_refund_amounts_rule():
    p = PackagePurchase(price_fen=50_000, bonus_fen=5_000)
    assert refund_amounts(p, 40_000, 4_000) == (40_000, 4_000)  # empties the paid wallet: all bonus left
    assert refund_amounts(p, 70_000, 9_000) == (50_000, 5_000)  # more money than this purchase: its own
    assert refund_amounts(p, 80_000, 1_000) == (50_000, 1_000)  # never more bonus than is left
    assert refund_amounts(p, 60_000, 6_000) == (50_000, 5_000)
    assert refund_amounts(p, 0, 3_000) == (0, 0)
    p2 = PackagePurchase(price_fen=20_000, bonus_fen=1_000)
    # 123.45元 refunded of a 200+10 package while other money remains: 10 × 12345/20000 = 6.17 → 617
    assert refund_amounts(p2, 30_000, 5_000) == (20_000, 1_000)
    assert refund_amounts(PackagePurchase(price_fen=20_000, bonus_fen=1_000), 12_345 + 1, 5_000)[0] == 12_346


def test_presets_once():
    made = packages_ensure_presets()
    assert [(p.price_fen, p.bonus_fen) for p in made] == [(20_000, 1_000), (50_000, 5_000), (100_000, 15_000)]
    packages_ensure_presets()
    assert RechargePackage.objects.count() == 3
