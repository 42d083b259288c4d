"""Product roles (SPEC 11, S1) on a small shop whose orders are settled through the real services;
each product is built to be one role for a reason the test states and recomputes by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from laoke.analytics import product_roles as pr
from laoke.analytics.models import ProductRole, Role
from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.services import member_create
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_refund, order_settle
from laoke.promotions.rule_services import bundle_create
from laoke.promotions.services import coupon_issue, coupon_template_create

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
END = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def settle(member, *lines, at, coupon=None):
    req = CheckoutIn(
        lines=tuple(LineIn(sku=s, quantity=q, unit_price_fen=p) for s, q, p in lines),
        member_id=member.pk,
        coupon_codes=(coupon.code,) if coupon else (),
    )
    with clock.frozen(at):
        return order_settle(request=req, now=at)


def cur(days: int) -> datetime:
    return NOW - timedelta(days=days)


def prior(days: int) -> datetime:
    return NOW - timedelta(days=90 + days)


class RoleShop:
    """Current period = the 90 days before NOW, prior = the 90 days before that.

    TRAF     list 10元, cost 9.50元: 9 kept orders × 2 units + 5 × 1 unit with NOCOST (one more order
             refunded in full) → 23 units, margin 5%, high volume → traffic.
    NOCOST   list 20元, no cost, 5 orders × 5 units sold at 15元 → discount depth 25% (the fallback
             for margin), the highest volume → traffic.
    PROF     list 100元, cost 30元, 3 members × 2 orders → margin 70%, every buyer bought again → profit.
    POT      list 50元, cost 30元, 1 unit before, 4 units now (4 buyers, once each) → growth +300% → potential.
    REG      list 40元, cost 20元, 5 units before, 5 now (different buyers) → regular.
    MARG     list 30元, cost 20元, 1 unit in an order of its own → low sales, no rule, no repeat → marginal.
    NS1      never sold → marginal.  NS2: 2 units before only (one-time buyers with a 50% coupon).
    Bundle   PROF + REG → 11 units, margin (80,000 − 28,000) / 80,000 = 65%, repeat share 3/8 → profit.
    """

    def __init__(self):
        cat = category_create(code="gifts", name="礼品")
        p = {}
        for sku, list_fen, cost in [
            ("TRAF", 1_000, 950),
            ("NOCOST", 2_000, None),
            ("PROF", 10_000, 3_000),
            ("POT", 5_000, 3_000),
            ("REG", 4_000, 2_000),
            ("MARG", 3_000, 2_000),
            ("NS1", 6_000, 1_000),
            ("NS2", 2_000, 1_000),
        ]:
            p[sku] = product_create(
                sku=sku, title=sku.lower(), list_price_fen=list_fen, cost_price_fen=cost, category=cat
            )
        self.p = p
        self.m = [member_create(name=f"m{i}", mobile=f"1390000{i:04d}") for i in range(36)]
        m = self.m
        for i in range(10):
            order = settle(m[i], ("TRAF", 2, None), at=cur(10 + i))
            if i == 9:
                with clock.frozen(cur(5)):
                    order_refund(order_id=order.pk, key="refund-9", now=cur(5))
        for i in range(10, 15):
            settle(m[i], ("NOCOST", 5, 1_500), ("TRAF", 1, None), at=cur(i))
        for i in (15, 16, 17):
            settle(m[i], ("PROF", 1, None), at=cur(60))
            settle(m[i], ("PROF", 1, None), at=cur(20))
        settle(m[18], ("POT", 1, None), at=prior(10))
        for i in range(19, 23):
            settle(m[i], ("POT", 1, None), at=cur(i))
        for i in range(23, 28):
            settle(m[i], ("REG", 1, None), at=prior(i))
        for i in range(28, 33):
            settle(m[i], ("REG", 1, None), at=cur(i))
        settle(m[33], ("MARG", 1, None), at=cur(3))
        half = coupon_template_create(
            data={
                "name": "立减10元",
                "kind": "fixed",
                "threshold_fen": 0,
                "amount_off_fen": 1_000,
                "valid_to": END,
            }
        )
        for i in (34, 35):
            with clock.frozen(prior(30)):
                c = coupon_issue(template=half, member=m[i])
            settle(m[i], ("NS2", 1, None), at=prior(20), coupon=c)
        with clock.frozen(NOW):
            self.bundle = bundle_create(
                data={
                    "code": "set1",
                    "name": "PROF+REG",
                    "hot_product": p["PROF"],
                    "items": [{"product_id": p["REG"].pk, "quantity": 1}],
                    "bundle_price_fen": 12_000,
                }
            )


@pytest.fixture
def role_shop(db):
    return RoleShop()


def test_each_role_for_its_reason(role_shop):
    products, bundles = pr.compute_roles(now=NOW)
    role = {role_shop_sku: products[p.pk][0] for role_shop_sku, p in role_shop.p.items()}
    assert role == {
        "TRAF": Role.TRAFFIC,
        "NOCOST": Role.TRAFFIC,
        "PROF": Role.PROFIT,
        "POT": Role.POTENTIAL,
        "REG": Role.REGULAR,
        "MARG": Role.MARGINAL,
        "NS1": Role.MARGINAL,
        "NS2": Role.MARGINAL,
    }
    m = {sku: products[p.pk][1] for sku, p in role_shop.p.items()}
    # TRAF: the refunded order does not count; 9 × 2 + 5 × 1 units at list price.
    assert (m["TRAF"].units, m["TRAF"].revenue_fen, m["TRAF"].buyers) == (23, 23_000, 14)
    assert m["TRAF"].margin == pytest.approx((23_000 - 23 * 950) / 23_000, abs=1e-12)
    # 30 counted orders in the period; TRAF in 14, NOCOST in 5, both in 5: lift = (5/14) / (5/30).
    assert (m["TRAF"].rules, m["NOCOST"].rules) == (2, 2)
    assert m["TRAF"].max_lift == pytest.approx(30 / 14, rel=1e-12)
    assert m["NOCOST"].margin is None and m["NOCOST"].discount_depth == pytest.approx(0.25, abs=1e-12)
    assert m["TRAF"].volume_rank == 6 / 8 and m["NOCOST"].volume_rank == 7 / 8
    assert (m["PROF"].buyers, m["PROF"].repeat_buyers, m["PROF"].margin) == (3, 3, pytest.approx(0.7))
    assert (m["POT"].units, m["POT"].prior_units, m["POT"].growth) == (4, 1, 3.0)
    assert (m["REG"].units, m["REG"].prior_units, m["REG"].growth, m["REG"].repeat_share) == (5, 5, 0.0, 0.0)
    assert (m["MARG"].units, m["MARG"].rules, m["MARG"].volume_rank) == (1, 0, 2 / 8)
    assert (m["NS2"].units, m["NS2"].prior_units) == (0, 2)

    b_role, b = bundles[role_shop.bundle.pk]
    assert b_role == Role.PROFIT
    assert (b.units, b.revenue_fen, b.cost_fen, b.buyers, b.repeat_buyers) == (11, 80_000, 28_000, 8, 3)
    assert b.margin == pytest.approx(0.65, abs=1e-12) and b.repeat_share == 3 / 8

    # The thresholds are arguments.
    strict = pr.Thresholds(traffic_min_rank=0.8)  # TRAF (rank 0.75) is no longer "high volume"
    products, _ = pr.compute_roles(now=NOW, t=strict)
    assert products[role_shop.p["TRAF"].pk][0] != Role.TRAFFIC
    assert products[role_shop.p["NOCOST"].pk][0] == Role.TRAFFIC


def test_compute_manual_rows_audit_and_suggestions(role_shop, django_user_model, monkeypatch):
    user = django_user_model.objects.create(username="mkt")
    ns1 = role_shop.p["NS1"]
    pr.product_role_set(product_id=ns1.pk, role=Role.PROFIT, discount_cap_bp=500, actor=user, now=NOW)
    summary = pr.product_roles_compute(now=NOW)
    assert summary == {
        "traffic": 2,
        "profit": 2,  # PROF and the bundle
        "marginal": 2,  # MARG, NS2 (NS1 is manual)
        "potential": 1,
        "regular": 1,
        "manual_kept": 1,
    }
    row = ProductRole.objects.get(product=ns1)
    assert (row.role, row.manual, row.discount_cap_bp) == (Role.PROFIT, True, 500)
    prof = ProductRole.objects.get(product=role_shop.p["PROF"])
    assert (prof.role, prof.manual, prof.discount_cap_bp) == (Role.PROFIT, False, 1000)
    assert prof.metrics["units"] == 6 and prof.metrics["repeat_share"] == 1.0
    assert ProductRole.objects.get(bundle=role_shop.bundle).role == Role.PROFIT
    monkeypatch.setattr(pr, "CHUNK", 4)  # written 4 rows per transaction: the same outcome
    assert pr.product_roles_compute(now=NOW) == summary  # a second run changes nothing
    assert AuditEntry.objects.filter(action="analytics.product_roles.compute").count() == 2
    assert ProductRole.objects.count() == 9
    # handing NS1 back to the computation: the next run makes it marginal again
    pr.product_role_set(product_id=ns1.pk, role=None, actor=user, now=NOW)
    pr.product_roles_compute(now=NOW)
    assert ProductRole.objects.get(product=ns1).role == Role.MARGINAL

    # Promotion suggestions (NS1 set by hand as a profit item again).
    pr.product_role_set(product_id=ns1.pk, role=Role.PROFIT, discount_cap_bp=500, actor=user, now=NOW)
    with clock.frozen(NOW):
        s = pr.promotion_suggestions(now=NOW)
    assert [r["code"] for r in s["promote"]] == ["NOCOST", "TRAF", "MARG", "NS2"]  # traffic by units first
    assert {(r["code"], r["discount_cap_bp"]) for r in s["protect"]} == {
        ("PROF", 1000),
        ("set1", 1000),
        ("NS1", 500),
    }
    # Exactly members 34 and 35 have one order with a discount share ≥ 30% (10元 off 20元).
    assert s["notify_first"] == {"preset": "one_time_price_sensitive", "segment_id": None, "count": 2}

    # Manual assignment: audited with before/after, validated (nothing written when refused).
    AuditEntry.objects.filter(action="analytics.product_role.set").delete()
    reg = role_shop.p["REG"]
    pr.product_role_set(product_id=reg.pk, role=Role.TRAFFIC, actor=user, now=NOW)
    pr.product_role_set(product_id=reg.pk, role=Role.PROFIT, discount_cap_bp=800, actor=user, now=NOW)
    entries = list(AuditEntry.objects.filter(action="analytics.product_role.set").order_by("pk"))
    assert len(entries) == 2
    assert entries[1].before == {"role": "traffic", "manual": True, "discount_cap_bp": None}
    assert entries[1].after == {"role": "profit", "manual": True, "discount_cap_bp": 800}
    assert entries[1].actor_id == user.pk
    bad = [
        {"product_id": reg.pk, "role": "hero"},
        {"product_id": reg.pk, "bundle_id": role_shop.bundle.pk, "role": "profit"},
        {"role": "profit"},
        {"product_id": reg.pk, "role": "profit", "discount_cap_bp": 10_001},
        {"product_id": 999_999, "role": "profit"},
    ]
    for kwargs in bad:
        with pytest.raises(DomainError) as exc:
            pr.product_role_set(**kwargs, actor=user, now=NOW)
        assert exc.value.code.startswith("ANALYTICS_")
    assert AuditEntry.objects.filter(action="analytics.product_role.set").count() == 2
