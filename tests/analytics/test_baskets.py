"""Shop baskets, rules over them (against mlxtend on the baskets written out by hand) and what a
set of members bought (shares and lifts worked out by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from mlxtend.frequent_patterns import association_rules as mlx_rules
from mlxtend.frequent_patterns import fpgrowth
from mlxtend.preprocessing import TransactionEncoder

from laoke.analytics import baskets as B
from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.members.services import member_create
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_refund, order_settle

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=30), NOW


def settle(member, *lines, at):
    req = CheckoutIn(
        lines=tuple(LineIn(sku=s, quantity=q) for s, q in lines), member_id=member.pk if member else None
    )
    with clock.frozen(at):
        return order_settle(request=req, now=at)


def refund(order, sku, qty, key, at):
    ref = order.lines.get(sku=sku).ref
    with clock.frozen(at):
        order_refund(order_id=order.pk, key=key, quantities={ref: qty}, now=at)


class BasketShop:
    """A, B in category c1 (10元, 20元); C, D in c2 (30元, 40元). In the window [START, END):
    m0 [A,B] [A,C]; m1 [A,B,C]; m2 [B, D×2] with one D refunded; m3 [A,B] with B refunded;
    m4 [C,D] refunded in full (does not count); an anonymous [A,D]. m5 [D] before the window."""

    def __init__(self):
        c1 = category_create(code="c1", name="杯具")
        c2 = category_create(code="c2", name="茶叶")
        for sku, price, cat in [("A", 1_000, c1), ("B", 2_000, c1), ("C", 3_000, c2), ("D", 4_000, c2)]:
            product_create(sku=sku, title=f"item {sku}", list_price_fen=price, category=cat)
        m = self.m = [member_create(name=f"m{i}", mobile=f"1380000{i:04d}") for i in range(6)]
        t = lambda d: NOW - timedelta(days=d, hours=1)  # noqa: E731
        settle(m[0], ("A", 1), ("B", 1), at=t(20))
        settle(m[0], ("A", 1), ("C", 1), at=t(10))
        settle(m[1], ("A", 1), ("B", 1), ("C", 1), at=t(15))
        o = settle(m[2], ("B", 1), ("D", 2), at=t(12))
        refund(o, "D", 1, "r-m2", t(11))
        o = settle(m[3], ("A", 1), ("B", 1), at=t(8))
        refund(o, "B", 1, "r-m3", t(7))
        o = settle(m[4], ("C", 1), ("D", 1), at=t(5))
        with clock.frozen(t(4)):
            order_refund(order_id=o.pk, key="r-m4", now=t(4))
        settle(None, ("A", 1), ("D", 1), at=t(3))
        settle(m[5], ("D", 1), at=NOW - timedelta(days=40))


@pytest.fixture
def basket_shop(db):
    return BasketShop()


PRODUCT_BASKETS = [["A", "B"], ["A", "C"], ["A", "B", "C"], ["B", "D"], ["A"], ["A", "D"]]
CATEGORY_BASKETS = [["c1"], ["c1", "c2"], ["c1", "c2"], ["c1", "c2"], ["c1"], ["c1", "c2"]]


def _mlx(baskets, min_support):
    te = TransactionEncoder()
    df = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
    fi = fpgrowth(df, min_support=min_support, use_colnames=True)
    return fi, mlx_rules(fi, num_itemsets=len(df), metric="lift", min_threshold=1.0)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # mlxtend's certainty
def test_baskets_rules_and_purchases(basket_shop, django_assert_max_num_queries):
    m = basket_shop.m
    # Baskets: refunds netted per line, the wholly refunded order and the one before the window left out.
    got = B.shop_baskets(start=START, end=END)
    as_lists = sorted(
        sorted(got.labels[i] for i in got.indices[a:b]) for a, b in zip(got.indptr[:-1], got.indptr[1:])
    )
    assert as_lists == sorted(PRODUCT_BASKETS)
    got = B.shop_baskets(start=START, end=END, level="category")
    as_lists = sorted(
        sorted(got.labels[i] for i in got.indices[a:b]) for a, b in zip(got.indptr[:-1], got.indptr[1:])
    )
    assert as_lists == sorted(CATEGORY_BASKETS)
    assert B.shop_baskets(start=START, end=END, member_ids=[m[0].pk]).n == 2

    # Rules: the same as mlxtend's on the baskets written out above.
    for level, lists in (("product", PRODUCT_BASKETS), ("category", CATEGORY_BASKETS)):
        out = B.shop_rules(start=START, end=END, level=level, min_support=0.3, min_lift=1.0)
        fi, ref = _mlx(lists, 0.3)
        assert (out["baskets"], out["itemsets"], out["rule_count"]) == (6, len(fi), len(ref))
        ours = {(frozenset(r["antecedent"]), frozenset(r["consequent"])): r for r in out["rules"]}
        assert set(ours) == set(zip(ref["antecedents"], ref["consequents"]))
        for a, c, s, conf, lift in ref[
            ["antecedents", "consequents", "support", "confidence", "lift"]
        ].values:
            r = ours[(a, c)]
            assert abs(r["support"] - s) <= 1e-12 and abs(r["confidence"] - conf) <= 1e-12
            assert abs(r["lift"] - lift) <= 1e-12
    with django_assert_max_num_queries(3):  # lines, their refunds, the titles
        out = B.shop_rules(start=START, end=END, min_support=0.3, min_lift=1.0, limit=1)
    assert len(out["rules"]) == 1 and out["rule_count"] >= 1
    assert out["rules"][0]["antecedent_titles"][0].startswith("item ")

    # What m0 and m1 bought, against the other buyers in the window (m2, m3; m4's order was refunded).
    with django_assert_max_num_queries(5):  # lines, refunds, category codes, titles of both levels
        p = B.members_purchases([m[0].pk, m[1].pk], START, END)
    assert (p["members"], p["buyers"], p["others_buyers"], p["orders"]) == (2, 2, 2, 3)
    assert p["revenue"] == Decimal("130.00")  # A×3 + B×2 + C×2 at list price
    rows = {r["item"]: r for r in p["products"]}
    assert set(rows) == {"A", "B", "C"}
    assert (rows["A"]["orders"], rows["A"]["quantity"], rows["A"]["revenue"]) == (3, 3, Decimal("30.00"))
    assert (rows["A"]["share"], rows["A"]["others_share"], rows["A"]["lift"]) == (
        1.0,
        0.5,
        2.0,
    )  # m3 bought A
    assert (rows["B"]["share"], rows["B"]["others_share"], rows["B"]["lift"]) == (
        1.0,
        0.5,
        2.0,
    )  # m2 (m3's refunded)
    assert (rows["C"]["others_share"], rows["C"]["lift"]) == (0.0, None)
    cats = {r["item"]: r for r in p["categories"]}
    assert (cats["c1"]["orders"], cats["c1"]["quantity"], cats["c1"]["lift"]) == (3, 5, 1.0)
    assert cats["c2"]["title"] == "茶叶" and cats["c2"]["share"] == 1.0 and cats["c2"]["others_share"] == 0.5

    # m2: D×2 with one refunded → 1 unit, 40元.
    d = {r["item"]: r for r in B.members_purchases([m[2].pk], START, END)["products"]}["D"]
    assert (d["quantity"], d["revenue"], d["others_buyers"]) == (1, Decimal("40.00"), 0)


def test_bad_level():
    with pytest.raises(DomainError) as exc:
        B.shop_baskets(start=START, end=END, level="brand")
    assert exc.value.code == "ANALYTICS_LEVEL_INVALID"
