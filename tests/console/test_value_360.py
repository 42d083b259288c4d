"""Member 360's value cards (tier, points, wallet) through the test client: figures read back
from the services that moved them, each card only for roles that may read it."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from laoke.cards.wallet import wallet_credit, wallet_debit
from laoke.core import clock
from laoke.members.services import member_create
from laoke.points.presets import points_presets_install
from laoke.points.rules import EarnLine
from laoke.points.services import points_earn, points_spend
from laoke.tiers.presets import tier_presets_install


def _client(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client()
    assert client.login(username=user.username, password="console-pass-1")
    return client


@pytest.fixture
def member(db):
    with clock.frozen(datetime(2026, 6, 2, 2, 0, tzinfo=UTC)):
        tier_presets_install(preset="online_shop")
        points_presets_install()
        m = member_create(name="韩梅梅", mobile="13912340000")
        points_earn(member=m, key="o-1", reference="o-1", lines=[EarnLine(ref="L1", paid_fen=12_345)])
        points_spend(member=m, key="s-1", reference="o-1", points=23)
        wallet_credit(member=m, amount_fen=50_000, key="w-1", reason="card_recharge")
        wallet_debit(member=m, amount_fen=1_234, key="w-2", reason="order.payment")
    return m


def test_admin_sees_tier_points_and_wallet(staff, member):
    html = _client(staff, "admin").get(f"/admin/console/member/{member.pk}/").content.decode()
    assert 'data-testid="member-value"' in html
    assert 'data-testid="points-balance">100<' in html  # 123 earned (1 per 元) − 23 spent
    assert "+123" in html and "-23" in html and "积分抵扣" in html
    assert 'data-testid="tier-rate">95折' in html
    assert 'data-testid="wallet-balance">¥487.66<' in html
    assert "+¥500.00" in html and "-¥12.34" in html
    assert 'data-testid="tier-level">' in html and "普通会员" in html


def test_roles_see_only_the_value_they_may_read(staff, member):
    html = _client(staff, "marketer").get(f"/admin/console/member/{member.pk}/").content.decode()
    assert 'data-testid="points-balance"' in html and 'data-testid="tier-level"' in html
    assert 'data-testid="wallet-balance"' not in html and "¥487.66" not in html
    html = _client(staff, "cashier").get(f"/admin/console/member/{member.pk}/").content.decode()
    assert 'data-testid="wallet-balance"' in html


def test_orders_card_shows_figures_and_recent_orders(staff, db):
    from laoke.orders import services
    from laoke.orders.checkout import CheckoutIn, LineIn
    from tests.orders.conftest import NOW, Shop

    with clock.frozen(NOW):
        shop = Shop()
        m = shop.member()
        order = services.order_settle(
            request=CheckoutIn(lines=(LineIn(sku="TEE", quantity=2),), member_id=m.pk)
        )
    html = _client(staff, "admin").get(f"/admin/console/member/{m.pk}/").content.decode()
    assert 'data-testid="order-stats"' in html and order.number in html
    assert "¥228.00" in html  # 2 × 120元 at 95折, the member's net spend
    html = _client(staff, "redemption_clerk").get(f"/admin/console/member/{m.pk}/").content
    assert b'data-testid="order-stats"' not in html
