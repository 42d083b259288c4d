"""An import gives the same member statistics and tiers as settling the same orders one by one.

Sixty orders of ten buyers over 26 months (some refunded in part or whole) are imported from a
generic orders file; the statistics and tier rows are recorded; the orders, refunds, statistics and
tiers are removed; the same orders are then settled one by one at their payment times through
``order_settle`` (and refunded through ``order_refund``), and the rows must be identical. The tier
programme reviews a rolling window, and the data is checked to contain members whose tier at the
end of the history differs from a single evaluation at import time — so a naive import would fail
this test.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta

import pytest

from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.imports.services import import_file
from laoke.members.models import Member
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.models import Order, OrderLine, Refund, RefundLine
from laoke.orders.services import order_refund, order_settle
from laoke.stats.models import MemberCategoryStats, MemberMonthStats, MemberStats
from laoke.tiers.models import MemberTier, TierHistory
from laoke.tiers.rules import best_level, figures_for
from laoke.tiers.services import tier_programme_create

START = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
MOBILES = [f"1390000{i:04d}" for i in range(10)]
PRODUCTS = [
    ("TEE", 12_000, "apparel"),
    ("COAT", 68_000, "apparel"),
    ("TEA", 8_000, "food"),
    ("BAG", 3_000, None),
]


def _history(seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    orders = []
    for n in range(60):
        at = START + timedelta(days=rnd.randrange(0, 26 * 30), hours=rnd.randrange(0, 12), minutes=n)
        skus = rnd.sample([p[0] for p in PRODUCTS], rnd.randint(1, 3))
        lines = [(sku, rnd.randint(1, 3)) for sku in skus]
        refund = None
        roll = rnd.random()
        if roll < 0.12:
            refund = {sku: q for sku, q in lines}  # everything back
        elif roll < 0.3:
            sku, q = lines[0]
            refund = {sku: rnd.randint(1, q)}
        orders.append(
            {
                "number": f"HIST{n:04d}",
                "mobile": rnd.choice(MOBILES),
                "at": at,
                "lines": lines,
                "refund": refund,
            }
        )
    return sorted(orders, key=lambda o: o["at"])


def _file(orders: list[dict]) -> bytes:
    price = {sku: p for sku, p, _c in PRODUCTS}
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["订单编号", "手机", "付款时间", "商家编码", "数量", "单价", "退货数量"])
    for o in orders:
        local = clock.to_local(o["at"]).strftime("%Y-%m-%d %H:%M:%S")
        for sku, qty in o["lines"]:
            back = (o["refund"] or {}).get(sku, "")
            w.writerow([o["number"], o["mobile"], local, sku, qty, f"{price[sku] / 100:.2f}", back])
    return buf.getvalue().encode("utf-8-sig")


def _snapshot() -> dict:
    return {
        "stats": sorted(
            MemberStats.objects.values_list(
                "member_id",
                "spend_total_fen",
                "order_count",
                "discount_total_fen",
                "first_order_at",
                "last_order_at",
            )
        ),
        "months": sorted(
            MemberMonthStats.objects.exclude(spend_fen=0, orders=0, recharge_fen=0).values_list(
                "member_id", "month", "spend_fen", "orders"
            )
        ),
        "categories": sorted(
            MemberCategoryStats.objects.values_list(
                "member_id", "category_id", "spend_fen", "quantity", "last_bought_at"
            )
        ),
        "tiers": sorted(MemberTier.objects.values_list("member_id", "level_id", "since")),
    }


def _wipe() -> None:
    RefundLine.objects.all().delete()
    Refund.objects.all().delete()
    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    for model in (MemberStats, MemberMonthStats, MemberCategoryStats, TierHistory, MemberTier):
        model.objects.all().delete()


@pytest.fixture
def shop(db):
    with clock.frozen(NOW):
        cats = {
            "apparel": category_create(code="apparel", name="服装"),
            "food": category_create(code="food", name="食品"),
        }
        for sku, price, cat in PRODUCTS:
            product_create(sku=sku, title=sku, list_price_fen=price, category=cats.get(cat))
        tier_programme_create(
            code="window",
            name="会员",
            audience="individual",
            basis="mixed",
            downgrade_policy="rolling_12_months",
            is_active=True,
            levels=[
                {
                    "rank": 1,
                    "code": "silver",
                    "name": "银卡",
                    "rule_kind": "cumulative_spend",
                    "threshold": 150_000,
                },
                {
                    "rank": 2,
                    "code": "gold",
                    "name": "金卡",
                    "rule_kind": "cumulative_spend",
                    "threshold": 400_000,
                },
                {"rank": 3, "code": "vip", "name": "VIP", "rule_kind": "order_count", "threshold": 9},
            ],
        )
        yield


def test_import_equals_settling_one_by_one(shop):
    orders = _history()
    with clock.frozen(NOW):
        job = import_file(kind="orders", data=_file(orders), file_name="history.csv")
        assert job.state == "done", (job.failure, job.errors[:3])
        assert job.result["orders_created"] == 60
        imported = _snapshot()
        # Independent of the replay: one evaluation at import time gives a different tier for some
        # member (the window moved on), so the data exercises what one-by-one settlement does.
        from laoke.tiers.models import TierProgramme

        programme = TierProgramme.objects.get(code="window")
        levels = list(programme.levels.all())
        at_end = {
            m.pk: getattr(
                best_level(levels, figures_for(programme=programme, member=m, today=clock.today())),
                "pk",
                None,
            )
            for m in Member.objects.all()
        }
        assert any(at_end[mid] != level for mid, level, _s in imported["tiers"])
    _wipe()
    members = dict(Member.objects.values_list("mobile", "pk"))
    for o in orders:
        with clock.frozen(o["at"]):
            order = order_settle(
                request=CheckoutIn(
                    lines=tuple(LineIn(sku=s, quantity=q) for s, q in o["lines"]),
                    member_id=members["+86" + o["mobile"]],
                    payment_method="online",
                ),
                now=o["at"],
            )
            if o["refund"]:
                refs = {ln.sku: ln.ref for ln in order.lines.all()}
                order_refund(
                    order_id=order.pk,
                    key=f"r-{o['number']}",
                    quantities={refs[s]: q for s, q in o["refund"].items()},
                    now=o["at"],
                    override_window=True,
                )
    settled = _snapshot()
    assert settled["stats"] == imported["stats"]
    assert settled["months"] == imported["months"]
    assert settled["categories"] == imported["categories"]
    assert settled["tiers"] == imported["tiers"]
    assert sum(1 for _m, level, _s in settled["tiers"] if level) >= 3  # the tiers are not all empty
