"""Pinned SQL query counts of the settlement hot path (ARCHITECTURE: "pin query counts on hot
paths"), on SQLite, for a representative cart: 2 lines (TEE × 2 and the special-sale SALE × 1), a
满100减10 coupon, wallet 50元 + 300 points, normal-courier delivery to 浙江.

The member has settled one order before (steady state: the statistics rows, the tier row, the
order-settings row and an earned points lot exist). A member's first order costs more: about 120
statements instead of 87, for the get-or-create of the statistics and tier rows and the first
tier change (history, audit).

Each figure is pinned twice: the total (what a regression shows first) and per statement kind and
table, so a failure says where the change is. The counts include SAVEPOINT / RELEASE: on
PostgreSQL each is a round trip like any query. The durable transaction's own savepoint appears
because the test runs inside pytest-django's transaction (in production it is BEGIN … COMMIT).

Where they come from — settlement (88 statements):

- prepare, the same reads as a quote (17, below), with the member row locked first;
- the order: SAVEPOINT + INSERT orders_order + RELEASE (the number is drawn in a savepoint so a
  clash can be retried), INSERT orders_orderline (one bulk insert for both lines);
- the coupon: a guarded UPDATE promotions_coupon, its re-read (``refresh_from_db``), INSERT
  orders_ordercoupon;
- points spent: SELECT points_pointsspend (idempotency by key), the points account locked, the
  transfer key looked up twice (once by the points code, once more inside ``ledger._transfer``),
  the spendable lots, the system sink account (get-or-create), then the transfer itself in 6
  statements (SAVEPOINT × 2, INSERT ledger_transfer, RELEASE, the member account's guarded balance
  UPDATE — a system account keeps no running balance —, RELEASE), one UPDATE per lot consumed (two
  here: the seed lot runs out and the first earned lot pays the rest), INSERT
  points_lotconsumption, INSERT points_pointsspend;
- wallet debited: the wallet account (get-or-create in a savepoint: 3 statements), the transfer
  key (``exists`` then again inside ``_transfer``), the system account, the same 6-statement
  transfer as above, then the balance re-read and the wallet policy for the low-balance reminder;
- points earned: SELECT points_pointsearning (idempotency), the programme,
  its earn rules, the member's tier (multiplier), the category paths, INSERT points_pointsearning
  and its lines (one bulk insert), the points account locked, the transfer key, the system
  account, the 6-statement transfer, the deficit lot (none), INSERT points_pointslot, UPDATE
  points_pointsearning (transfer and lot);
- statistics: three guarded ``UPDATE … SET x = x + d`` (member, month, category);
- tier re-evaluation: programme, levels, the member's tier row (locked), the statistics;
- 满就送 rules, the referral (none), the bundles again (free-shipping cards: the same rows
  ``order_offers`` read in prepare), the member's accounts re-read for the audit row's
  before/after balances, the audit row, RELEASE.

Quote (17 statements, all reads): member, products, member's tier (its level prices the member
and says whether it ships free), the active shipping rule set with its tariff (4 queries, loaded
once), the member's statistics (old/new customer), member prices, the coupons with their
templates, gift rules, bundles, the wallet account and its closure, the order settings, the
points programme (``exists``, once), the spendable points (one SUM over the lots).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from laoke.orders import services
from laoke.orders.checkout import CheckoutIn, LineIn

pytestmark = pytest.mark.django_db

QUOTE = {
    "SELECT members_member": 1,
    "SELECT catalog_product": 1,
    "SELECT tiers_membertier": 1,
    "SELECT shipping_shippingruleset": 1,
    "SELECT shipping_postagerate": 1,
    "SELECT shipping_regionassignment": 1,
    "SELECT shipping_shippingrule": 1,
    "SELECT stats_memberstats": 1,
    "SELECT promotions_memberprice": 1,
    "SELECT promotions_coupon": 1,
    "SELECT promotions_giftrule": 1,
    "SELECT promotions_bundle": 1,
    "SELECT ledger_account": 1,
    "SELECT cards_walletclosure": 1,
    "SELECT orders_ordersettings": 1,
    "SELECT points_pointsprogramme": 1,
    "SELECT points_pointslot": 1,
}

SETTLE = Counter(QUOTE) + Counter(
    {
        # the order
        "INSERT orders_order": 1,
        "INSERT orders_orderline": 1,
        # the coupon
        "UPDATE promotions_coupon": 1,
        "SELECT promotions_coupon": 1,
        "INSERT orders_ordercoupon": 1,
        # points spent, wallet debited, points earned: three ledger transfers
        "SELECT points_pointsspend": 1,
        "SELECT ledger_account": 8,
        "SELECT ledger_transfer": 6,
        "INSERT ledger_transfer": 3,
        "UPDATE ledger_account": 3,  # the member's accounts only: system accounts keep no balance
        "SELECT points_pointslot": 2,
        "UPDATE points_pointslot": 2,
        "INSERT points_lotconsumption": 1,
        "INSERT points_pointsspend": 1,
        "SELECT cards_walletpolicy": 1,
        "SELECT points_pointsprogramme": 1,
        "SELECT points_pointsearning": 1,
        "SELECT points_earnrule": 1,
        "SELECT tiers_membertier": 2,
        "SELECT catalog_category": 1,
        "INSERT points_pointsearning": 1,
        "INSERT points_pointsearningline": 1,
        "INSERT points_pointslot": 1,
        "UPDATE points_pointsearning": 1,
        # statistics, tier, 满就送, referral, bundle cards, audit
        "UPDATE stats_memberstats": 1,
        "UPDATE stats_membermonthstats": 1,
        "UPDATE stats_membercategorystats": 1,
        "SELECT tiers_tierprogramme": 1,
        "SELECT tiers_tierlevel": 1,
        "SELECT stats_memberstats": 1,
        "SELECT promotions_fullsendrule": 1,
        "SELECT referrals_referral": 1,
        "SELECT promotions_bundle": 1,
        "INSERT core_auditentry": 1,
        # the durable transaction (1), the order number (1), the wallet account's get-or-create
        # (1), two per ledger transfer (6)
        "SAVEPOINT": 9,
        "RELEASE SAVEPOINT": 9,
    }
)

_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"(\w+)"')


def kinds(ctx: CaptureQueriesContext) -> Counter:
    out: Counter = Counter()
    for q in ctx.captured_queries:
        sql = q["sql"].lstrip()
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            out["RELEASE SAVEPOINT" if sql.startswith("RELEASE") else "SAVEPOINT"] += 1
            continue
        m = _TABLE.search(sql)
        out[f"{sql.split()[0].upper()} {m.group(1) if m else sql[:40]}"] += 1
    return out


def cart(member, coupon) -> CheckoutIn:
    return CheckoutIn(
        lines=(LineIn(sku="TEE", quantity=2), LineIn(sku="SALE", quantity=1)),
        member_id=member.pk,
        coupon_codes=(coupon.code,),
        courier="normal",
        province="浙江省",
        wallet_fen=5_000,
        points=300,
    )


@pytest.fixture
def steady(shop):
    """A member who has settled one order already, and an unused coupon of theirs."""
    m = shop.member()
    services.order_settle(request=cart(m, shop.coupon(m)))
    return m, shop.coupon(m)


def test_quote_query_count(steady):
    member, coupon = steady
    with CaptureQueriesContext(connection) as ctx:
        q = services.order_quote(request=cart(member, coupon))
    assert q.result.total_fen == 26_800  # the cart of test_settlement's first test, priced
    assert (len(ctx), kinds(ctx)) == (17, Counter(QUOTE))


def test_settle_query_count(steady):
    member, coupon = steady
    with CaptureQueriesContext(connection) as ctx:
        order = services.order_settle(request=cart(member, coupon))
    assert (order.total_fen, order.wallet_fen, order.points_used) == (26_800, 5_000, 300)
    assert (len(ctx), kinds(ctx)) == (88, SETTLE)
