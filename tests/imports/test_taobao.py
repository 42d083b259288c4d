"""The Taobao/Tmall order report (+ item report) against the hand-checked fixtures
(tests/fixtures/imports/README.md gives every expected figure below)."""

from __future__ import annotations

import pytest

from laoke.catalog.models import Product
from laoke.core.models import AuditEntry
from laoke.imports.services import import_file
from laoke.members.models import Member, MemberRef
from laoke.orders.models import Order, OrderLine, Refund, RefundLine
from laoke.stats.models import MemberCategoryStats, MemberMonthStats, MemberStats
from laoke.tiers.models import MemberTier, TierHistory
from tests.imports.fixtures import as_xlsx, fixture_bytes

pytestmark = pytest.mark.django_db

PAID = {f"28471000000000000{n:02d}" for n in (1, 2, 3, 4, 6, 7, 8, 9, 11, 12)}


def _taobao(orders="taobao_orders_gbk.csv", items="taobao_items_gbk.csv", **kw):
    return import_file(
        kind="taobao",
        data=kw.pop("data", None) or fixture_bytes(orders),
        file_name=orders,
        items=fixture_bytes(items) if items else None,
        items_name=items or "",
        **kw,
    )


def _tables() -> dict:
    """Every row an import may write, as comparable values."""
    return {
        "orders": sorted(
            Order.objects.values_list("number", "member_id", "status", "total_fen", "refunded_fen")
        ),
        "lines": OrderLine.objects.count(),
        "refunds": sorted(Refund.objects.values_list("key", "goods_net_fen", "completes_order")),
        "refund_lines": RefundLine.objects.count(),
        "members": sorted(Member.objects.values_list("pk", "mobile", "name", "province")),
        "refs": sorted(MemberRef.objects.values_list("source", "external_id", "member_id")),
        "stats": sorted(MemberStats.objects.values_list("member_id", "spend_total_fen", "order_count")),
        "months": sorted(MemberMonthStats.objects.values_list("member_id", "month", "spend_fen", "orders")),
        "categories": MemberCategoryStats.objects.count(),
        "tiers": sorted(MemberTier.objects.values_list("member_id", "level_id", "since")),
        "history": TierHistory.objects.count(),
    }


def test_the_gbk_report_with_its_item_report_imports_every_paid_order():
    job = _taobao()
    assert job.state == "done", job.errors
    assert job.plan["skipped_unpaid"] == 2  # rows 2 and 9: 等待买家付款, closed before payment
    assert set(Order.objects.values_list("number", flat=True)) == PAID
    o1 = Order.objects.get(number="2847100000000000001")
    # two items 129.00 + 199.00 = 328.00 listed, shop coupon 10.00 → 318.00 paid, no postage
    assert (o1.goods_gross_fen, o1.goods_net_fen, o1.postage_net_fen, o1.total_fen) == (
        32800,
        31800,
        0,
        31800,
    )
    assert sorted(o1.lines.values_list("sku", "quantity")) == [("LK10001", 1), ("LK10002", 1)]
    assert sum(o1.lines.values_list("net_fen", flat=True)) == 31800
    buyer = o1.member
    assert buyer.mobile == "+8613800138001" and buyer.source == "taobao"
    assert MemberRef.objects.get(source="taobao", external_id="小鱼儿_2023").member == buyer
    repeat = Order.objects.get(number="2847100000000000011")  # the same buyer on Double 11
    assert repeat.member == buyer
    stats = MemberStats.objects.get(member=buyer)
    assert (stats.order_count, stats.spend_total_fen) == (2, 31800 + 18900)
    assert Order.objects.get(number="2847100000000000008").member is None  # masked buyer and mobile
    hk = Order.objects.get(number="2847100000000000002")
    assert (hk.ship_country, hk.member.mobile) == ("HK", None)  # +852 phone: the buyer name is the key
    assert MemberRef.objects.get(source="taobao", external_id="hk_mandy").member == hk.member
    assert Order.objects.get(number="2847100000000000003").ship_country == "TW"
    macau = Order.objects.get(number="2847100000000000012")
    assert (macau.ship_country, macau.postage_net_fen) == ("MO", 2500)
    assert MemberRef.objects.get(source="taobao", external_id="sunny_lee").member == macau.member
    xj = Order.objects.get(number="2847100000000000004")
    assert (xj.ship_province, xj.status, xj.member.name) == ("新疆维吾尔自治区", "shipped", "阿依古丽·买买提")


def test_refunds_partial_and_whole():
    _taobao()
    whole = Order.objects.get(number="2847100000000000006")
    assert (whole.status, whole.refunded_fen, whole.total_fen) == ("refunded", 15800, 15800)
    assert whole.refunds.get().completes_order
    part = Order.objects.get(number="2847100000000000007")
    assert (part.status, part.refunded_fen) == ("partially_refunded", 3980)
    refund = part.refunds.get()
    assert not refund.completes_order
    assert [(rl.line.sku, rl.quantity, rl.net_fen) for rl in refund.lines.all()] == [("LK10004", 2, 3980)]
    stats = MemberStats.objects.get(member=whole.member)
    assert (stats.order_count, stats.spend_total_fen) == (0, 0)  # paid then fully refunded


@pytest.mark.parametrize(
    "name,encoding",
    [
        ("taobao_orders_utf8bom.csv", None),
        ("taobao_orders_gb18030.csv", None),
        ("taobao_orders_gbk.csv", "gbk"),
    ],
)
def test_every_encoding_and_xlsx_gives_the_same_orders(name, encoding):
    data = fixture_bytes(name)
    if encoding:
        data = as_xlsx(data, encoding)
    job = _taobao(orders=name, data=data)
    assert job.state == "done", job.errors
    got = sorted(Order.objects.values_list("number", "total_fen", "refunded_fen", "ship_province"))
    assert [g[0] for g in got] == sorted(PAID)
    assert sum(g[1] for g in got) == 195150  # 318+168+25+118+39.9+158+168.8+59+199+20 (+ postages)


def test_the_order_report_alone_keeps_every_fen():
    job = _taobao(items=None)
    assert job.state == "done", job.errors
    for o in Order.objects.prefetch_related("lines"):
        lines = list(o.lines.all())
        assert sum(ln.net_fen for ln in lines) == o.goods_net_fen
        assert all(ln.unit_price_fen * ln.quantity == ln.gross_fen >= ln.net_fen for ln in lines)
    taiwan = Order.objects.get(number="2847100000000000003")  # 2 × 59.00 from 宝贝总数量
    assert sum(taiwan.lines.values_list("quantity", flat=True)) == 2


def test_known_products_link_lines_and_categories():
    from laoke.catalog.services import category_create, product_create

    shoes = category_create(code="shoes", name="鞋")
    product_create(sku="LK10004", title="袜子", list_price_fen=1990, category=shoes)
    _taobao()
    line = OrderLine.objects.get(order__number="2847100000000000012")
    assert line.product == Product.objects.get(sku="LK10004") and line.category == shoes
    macau = Order.objects.get(number="2847100000000000012").member
    assert MemberCategoryStats.objects.get(member=macau, category=shoes).quantity == 3


def test_importing_the_same_files_again_changes_nothing():
    _taobao()
    before, audit = _tables(), AuditEntry.objects.exclude(action__startswith="import.").count()
    again = _taobao()
    assert again.state == "done"
    assert again.plan["orders_new"] == 0 and again.result["orders_created"] == 0
    assert again.result["members_created"] == 0
    assert _tables() == before
    assert (
        AuditEntry.objects.exclude(action__startswith="import.").count() == audit
    )  # only the job's own rows


def test_a_broken_file_changes_nothing_and_names_row_and_column():
    before = _tables()
    job = _taobao(orders="taobao_orders_broken.csv", items=None)
    assert job.state == "checked" and job.error_count == 2
    assert [(e["row"], e["column"], e["value"]) for e in job.errors] == [
        (7, "买家实际支付金额", "12O.00"),
        (8, "订单创建时间", "2026-02-30 10:00:00"),
    ]
    assert _tables() == before
    from laoke.core.errors import DomainError
    from laoke.imports.services import import_job_apply

    with pytest.raises(DomainError) as refused:
        import_job_apply(job_id=job.job_id)
    assert refused.value.code == "IMPORT_HAS_ERRORS"
    assert _tables() == before


def test_valid_rows_mode_imports_all_but_the_broken_orders():
    job = _taobao(orders="taobao_orders_broken.csv", items=None, mode="valid")
    assert job.state == "done"
    assert set(Order.objects.values_list("number", flat=True)) == PAID - {
        "2847100000000000002",
        "2847100000000000003",
    }
    assert job.error_count == 2


def test_dry_run_writes_nothing_but_says_what_would_happen():
    before = _tables()
    job = _taobao(dry_run=True)
    assert job.state == "checked" and _tables() == before
    assert job.plan["orders_new"] == 10 and job.plan["orders_without_member"] == 1
    assert job.plan["refunds_new"] == 2 and job.plan["lines_new"] == 12
    # buyers: 9 identified orders, the repeat buyer twice → 8 people, none known yet
    assert (job.plan["members_new"], job.plan["members_matched"]) == (8, 0)


def test_an_interrupted_import_resumes_and_ends_as_if_run_once(monkeypatch):
    """The worker dies after the orders are in but before statistics: the tick marks the job
    failed; confirming it again skips what was written and finishes the rest."""
    from datetime import timedelta

    from laoke.core import clock
    from laoke.imports import pipeline
    from laoke.imports.models import ImportJob
    from laoke.imports.services import import_job_apply, import_job_confirm, imports_tick
    from laoke.orders.rebuild import stats_rebuild

    def crash(self):
        raise SystemExit("worker killed")

    monkeypatch.setattr(pipeline.Applier, "rebuild", crash)
    job = _taobao(dry_run=True)
    import_job_confirm(job_id=job.job_id)
    with pytest.raises(SystemExit):
        import_job_apply(job_id=job.job_id)
    ImportJob.objects.filter(pk=job.pk).update(state="applying")  # as a killed worker leaves it
    assert Order.objects.count() == 10 and not MemberStats.objects.exists()
    assert imports_tick(clock.now() + timedelta(hours=1)) == 1
    assert ImportJob.objects.get(pk=job.pk).state == "failed"
    monkeypatch.undo()
    import_job_confirm(job_id=job.job_id)
    done = import_job_apply(job_id=job.job_id)
    assert done.state == "done" and done.result["orders_created"] == 0 and done.result["members_rebuilt"] == 8
    assert Order.objects.count() == 10
    report = stats_rebuild()
    assert report.members == 8 and report.differing == []  # statistics as if imported in one go


def test_a_paid_order_closed_without_a_refund_amount_counts_as_refunded():
    import csv
    import io

    rows = list(csv.reader(io.StringIO(fixture_bytes("taobao_orders_utf8bom.csv").decode("utf-8-sig"))))
    header = [h.strip() for h in rows[0]]
    closed = next(r for r in rows if "2847100000000000006" in r[0])  # 交易关闭 after payment
    closed[header.index("退款金额")] = "0.00"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    job = _taobao(orders="closed.csv", items=None, data=out.getvalue().encode("utf-8-sig"))
    assert job.state == "done", job.errors
    order = Order.objects.get(number="2847100000000000006")
    assert order.status == "refunded" and order.refunded_fen == order.total_fen == 15800
