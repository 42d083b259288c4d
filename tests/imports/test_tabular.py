"""core.tabular (the one reader of uploaded tables) against the committed fixtures.

Expected values are written out here or read independently (the stdlib csv module on the raw
text, zoneinfo for times); see tests/fixtures/imports/README.md for what each fixture holds.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from laoke.core.errors import DomainError
from laoke.core.tabular import (
    ROW_AMOUNT,
    ROW_DATETIME,
    ROW_UNDECODABLE,
    Cells,
    clean_cell,
    normalize_header,
    parse_date,
    parse_time,
    parse_yuan,
    read_table,
)
from laoke.imports.generator import taobao_files
from tests.imports.fixtures import as_xlsx, csv_rows, fixture_bytes

SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDER_HEADERS = (
    "订单编号,买家会员名,买家支付宝账号,支付单号,买家应付货款,买家应付邮费,买家支付积分,总金额,返点积分,"
    "买家实际支付金额,买家实际支付积分,订单状态,买家留言,收货人姓名,收货地址,运送方式,联系电话,联系手机,"
    "订单创建时间,订单付款时间,宝贝标题,宝贝种类,物流单号,物流公司,订单备注,宝贝总数量,店铺Id,店铺名称,"
    "订单关闭原因,卖家服务费,是否手机订单,确认收货时间,打款商家金额,退款金额"
).split(",")
ITEM_HEADERS = (
    "主订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码,退款状态".split(",")
)
NUMBERS = {f"28471000000000000{i:02d}" for i in range(1, 13)}


def column(table, header: str) -> list[str]:
    i = table.headers.index(header)
    return [cells[i] if i < len(cells) else "" for _, cells in table.rows]


# --- encodings ---------------------------------------------------------------------------------


def test_encodings_are_detected_and_give_the_same_rows():
    gbk = fixture_bytes("taobao_orders_gbk.csv")
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")  # the fixture really is GBK
    bom = fixture_bytes("taobao_orders_utf8bom.csv")
    assert bom.startswith(b"\xef\xbb\xbf")
    a, b = read_table(gbk, "gbk.csv"), read_table(bom, "bom.csv")
    assert (a.encoding, b.encoding) == ("gb18030", "utf-8-sig")
    assert a.rows == b.rows and a.headers == b.headers and not a.problems and not b.problems
    assert len(a.rows) == 12 and "阿依古丽·买买提" in column(a, "收货人姓名")


def test_a_gb18030_name_outside_gbk():
    data = fixture_bytes("taobao_orders_gb18030.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")  # 𠮷 is outside GBK: a GBK reader would fail here
    table = read_table(data, "gb18030.csv")
    gbk = read_table(fixture_bytes("taobao_orders_gbk.csv"), "gbk.csv")
    assert table.encoding == "gb18030"
    names = column(table, "收货人姓名")
    assert "林𠮷祥" in names and "林吉祥" not in names
    assert [n if n != "林𠮷祥" else "林吉祥" for n in names] == column(gbk, "收货人姓名")


def test_a_mixed_file_is_decoded_line_by_line_and_the_bad_line_reported():
    header = "订单编号,收货人姓名,买家留言\r\n".encode()
    data = (
        header
        + "1,王芳,好评\r\n".encode()  # row 2: UTF-8
        + "2,李强,尽快发货\r\n".encode("gbk")  # row 3: GBK
        + b"3,\xff\xfe\xfd,x\r\n"  # row 4: neither
        + '4,赵磊,"两行\n留言"\r\n'.encode("gbk")  # row 5: one row in Excel over two lines
        + b"5,\xff\xff,y\r\n"  # row 6: neither (physical line 7)
        + "6,孙悦,完\r\n".encode()  # row 7
    )
    table = read_table(data, "mixed.csv")
    assert table.encoding == "mixed"
    assert [n for n, _ in table.rows] == [2, 3, 5, 7]
    assert column(table, "收货人姓名") == ["王芳", "李强", "赵磊", "孙悦"]
    assert column(table, "买家留言")[2] == "两行\n留言"
    assert [(p.row, p.error) for p in table.problems] == [(4, ROW_UNDECODABLE), (6, ROW_UNDECODABLE)]
    assert table.problems[0].value.startswith("33 2c ff fe fd")  # the raw bytes, as hex


def test_utf16_and_binary_files_are_refused():
    with pytest.raises(DomainError) as exc:
        read_table("订单编号\n1\n".encode("utf-16"), "u16.csv")
    assert exc.value.code == "TABLE_UNREADABLE"
    with pytest.raises(DomainError):
        read_table(b"PK\x03\x04not really a zip", "fake.xlsx")


# --- headers and cells -------------------------------------------------------------------------


def test_headers_are_folded_to_the_documented_names():
    raw = csv_rows(fixture_bytes("taobao_orders_gbk.csv"), "gbk")[0]
    assert "订单编号 " in raw and "买家会员名\u3000" in raw and "店铺Ｉｄ" in raw and raw[-2:] == ["", ""]
    assert read_table(fixture_bytes("taobao_orders_gbk.csv"), "o.csv").headers == ORDER_HEADERS
    items = read_table(fixture_bytes("taobao_items_gbk.csv"), "i.csv")
    assert items.headers == ITEM_HEADERS and items.encoding == "gb18030"
    generated, _ = taobao_files(30, seed=3, items=False)
    assert read_table(generated, "g.csv").headers == ORDER_HEADERS
    assert normalize_header("\ufeff 宝贝总数量  ") == "宝贝总数量"
    assert normalize_header("买家应付邮费（元）") == "买家应付邮费(元)"
    assert normalize_header("ｕｎｉｔ\u3000\u3000price") == "unit price"
    assert normalize_header(None) == ""


def test_guards_are_removed_from_order_numbers_and_phones():
    raw = csv_rows(fixture_bytes("taobao_orders_gbk.csv"), "gbk")[1:]
    written = [r[0] for r in raw]
    assert any(w.startswith('="') for w in written) and any(w.startswith("'") for w in written)
    assert any(w.isdigit() for w in written)
    table = read_table(fixture_bytes("taobao_orders_gbk.csv"), "o.csv")
    assert set(column(table, "订单编号")) == NUMBERS
    assert any(r[17].startswith("'") for r in raw)
    mobiles = column(table, "联系手机")
    assert "13800138001" in mobiles and not any(m.startswith("'") for m in mobiles)
    assert "138****1234" in mobiles and "+852 6123 4567" in mobiles
    assert any(r[22].endswith("\t") for r in raw)  # Taobao's tab after tracking numbers
    assert all("\t" not in v for v in column(table, "物流单号"))
    items = read_table(fixture_bytes("taobao_items_gbk.csv"), "i.csv")
    assert set(column(items, "主订单编号")) == NUMBERS


@pytest.mark.parametrize(
    "value, expected",
    [
        ('="2847100000000000001"', "2847100000000000001"),
        ('="0571"', "0571"),
        ("=123", "123"),
        ("'13800138000", "13800138000"),
        ("' 13800138000 ", "13800138000"),
        (" \t2847\t ", "2847"),
        ("=SUM(A1:A3)", "=SUM(A1:A3)"),  # a formula, not a guard: kept for the row error to show
        ("", ""),
        (None, ""),
        (13812345678.0, "13812345678"),
        (12.5, "12.5"),
        (7, "7"),
        (datetime(2026, 11, 11, 0, 0, 12), "2026-11-11 00:00:12"),
        (date(1990, 5, 1), "1990-05-01"),
    ],
)
def test_clean_cell(value, expected):
    assert clean_cell(value) == expected


def test_empty_trailing_columns_are_dropped_and_ragged_rows_noted():
    table = read_table(b"a,b,,\r\n1,2,,\r\n3,,,\r\n4,5\r\n6,7,8,9,10\r\n", "r.csv")
    assert table.headers == ["a", "b"] and table.width == 4
    assert table.rows == [(2, ["1", "2"]), (3, ["3"]), (4, ["4", "5"]), (5, ["6", "7", "8", "9", "10"])]
    assert table.ragged == {4: 2, 5: 5}


# --- row numbers -------------------------------------------------------------------------------


def test_row_numbers_are_the_ones_excel_shows():
    lines = fixture_bytes("taobao_orders_gbk.csv").split(b"\r\n")
    # a blank line after the second order, another one and an empty-celled line at the end
    data = b"\r\n".join([*lines[:3], b"", *lines[3:-1], b"", b",,,", b""])
    table = read_table(data, "o.csv")
    assert [n for n, _ in table.rows] == [2, 3, *range(5, 15)]
    xlsx = read_table(as_xlsx(data, "gbk"), "o.xlsx")
    assert [n for n, _ in xlsx.rows] == [n for n, _ in table.rows]
    # blank lines above the header: the header is on the row Excel shows it on
    table = read_table(b"\r\n\r\n" + fixture_bytes("taobao_orders_gbk.csv"), "o.csv")
    assert table.headers == ORDER_HEADERS and [n for n, _ in table.rows] == list(range(4, 16))


def test_the_broken_file_fails_on_the_documented_rows_and_columns():
    table = read_table(fixture_bytes("taobao_orders_broken.csv"), "broken.csv")
    wanted = ("订单编号", "买家实际支付金额", "订单创建时间", "订单付款时间", "退款金额")
    columns, missing = table.index({h: h for h in wanted}, set(wanted))
    assert not missing
    errors = []
    cells = Cells("broken.csv", errors)
    parsed = 0
    for row, record in table.records(columns):
        cells.fen(row, record, "买家实际支付金额", required=True)
        cells.fen(row, record, "退款金额")
        cells.when(row, record, "订单创建时间", required=True)
        cells.when(row, record, "订单付款时间")
        parsed += 1
    assert parsed == 12
    assert [(e.row, e.column, e.value, e.error) for e in errors] == [
        (7, "买家实际支付金额", "12O.00", ROW_AMOUNT),
        (8, "订单创建时间", "2026-02-30 10:00:00", ROW_DATETIME),
    ]
    good = read_table(fixture_bytes("taobao_orders_gbk.csv"), "gbk.csv")
    differing = [
        (n, h)
        for (n, a), (_, b) in zip(good.rows, table.rows, strict=True)
        for h, x, y in zip(good.headers, a, b, strict=False)
        if x != y
    ]
    assert differing == [(7, "买家实际支付金额"), (8, "订单创建时间")]  # nothing else is broken


def test_members_broken_fails_on_rows_5_and_7():
    from laoke.members.validation import normalize_mobile

    table = read_table(fixture_bytes("members_broken.csv"), "members_broken.csv")
    bad = []
    for n, cells in table.rows:
        try:
            normalize_mobile(cells[1])
        except DomainError:
            bad.append((n, "手机号"))
        if cells[4] and parse_date(cells[4]) is None:
            bad.append((n, "生日"))
    assert bad == [(5, "手机号"), (7, "生日")]


# --- xlsx ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, encoding",
    [
        ("taobao_orders_gbk.csv", "gbk"),
        ("taobao_items_gbk.csv", "gbk"),
        ("taobao_orders_utf8bom.csv", "utf-8-sig"),
        ("members.csv", "utf-8-sig"),
        ("orders.csv", "utf-8-sig"),
        ("products.csv", "utf-8-sig"),
    ],
)
def test_xlsx_gives_the_same_rows_as_csv(name, encoding):
    data = fixture_bytes(name)
    text, sheet = read_table(data, name), read_table(as_xlsx(data, encoding), name)
    assert sheet.encoding == "xlsx" and sheet.headers == text.headers
    assert [n for n, _ in sheet.rows] == [n for n, _ in text.rows]
    typed = 0
    for (n, a), (_, b) in zip(text.rows, sheet.rows, strict=True):
        assert len(a) == len(b), n
        for x, y in zip(a, b, strict=True):
            if x != y:  # Excel stored the cell as a number: 0.00 → 0, 19.90 → 19.9
                assert parse_yuan(x) == parse_yuan(y) is not None, (n, x, y)
                typed += 1
    assert sheet.ragged == {}
    if name.startswith("taobao_orders"):
        assert typed > 0  # the comparison did meet numbers stored as numbers


def test_xlsx_with_a_wrong_dimension_is_read_whole():
    wb = Workbook()
    ws = wb.active
    ws.append(["订单编号", "总金额"])
    for i in range(5):
        ws.append([f"2847{i}", 10 + i])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body, n = re.subn(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1"/>', body)
                assert n == 1
            dst.writestr(item, body)
    table = read_table(out.getvalue(), "dim.xlsx")
    assert [cells for _, cells in table.rows] == [[f"2847{i}", str(10 + i)] for i in range(5)]


def test_xlsx_dates_are_read_as_shop_times():
    wb = Workbook()
    ws = wb.active
    ws.append(["订单付款时间", "生日"])
    ws.append([datetime(2026, 11, 11, 0, 0, 40), date(1990, 5, 1)])
    buf = io.BytesIO()
    wb.save(buf)
    table = read_table(buf.getvalue(), "d.xlsx")
    when, birthday = table.rows[0][1]
    assert parse_time(when) == datetime(2026, 11, 10, 16, 0, 40, tzinfo=UTC)
    assert parse_date(birthday) == date(1990, 5, 1)


# --- value parsers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, fen",
    [
        ("128.00", 12800),
        ("0", 0),
        ("0.00", 0),
        (".5", 50),
        ("19.9", 1990),
        ("12.340", 1234),  # a third decimal that is 0 is no precision lost
        ("1,299.50", 129950),
        ("¥1299.50", 129950),
        ("￥ 12", 1200),  # full-width yen
        ("１２９９．５", 129950),  # full-width digits and point
        (" 59.00 ", 5900),
        ("-5", None),
        ("-0.01", None),
        ("¥-5", None),
        ("12.345", None),
        ("0.005", None),
        ("12O.00", None),
        ("1e3", None),
        ("", None),
        ("12.50元", None),
        ("1234567890123", None),  # beyond 12 digits of yuan
    ],
)
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


def shop(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-11 10:00:00", shop(2026, 11, 11, 10)),
        ("2026-11-11 10:00", shop(2026, 11, 11, 10)),
        ("2026/11/11 1:02:03", shop(2026, 11, 11, 1, 2, 3)),  # Excel's way
        ("2026/11/11 1:02", shop(2026, 11, 11, 1, 2)),
        ("2026/3/8 9:05", shop(2026, 3, 8, 9, 5)),
        ("2026-11-11", shop(2026, 11, 11)),
        ("2026/11/11", shop(2026, 11, 11)),
        ("2026-11-11T10:00:00", shop(2026, 11, 11, 10)),
        ("2026-11-11 10:00:00.5", shop(2026, 11, 11, 10, 0, 0, 500000)),
        ("2026-11-11T02:00:00Z", datetime(2026, 11, 11, 2, tzinfo=UTC)),
        ("2026-11-11T10:00:00+08:00", shop(2026, 11, 11, 10)),
        ("２０２６－１１－１１　１０：００：００", shop(2026, 11, 11, 10)),  # full-width
        (" 2026-11-11 10:00:00 ", shop(2026, 11, 11, 10)),
        ("2026-02-30 10:00:00", None),
        ("2026-11-11 24:00:00", None),
        ("46337.5", None),  # an Excel serial number is not guessed at
        ("1899-12-31 00:00:00", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_time(text, expected):
    got = parse_time(text)
    assert got == expected
    if got is not None:
        assert got.utcoffset() is not None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1990-05-01", date(1990, 5, 1)),
        ("1988/3/7", date(1988, 3, 7)),
        ("1992年8月9日", date(1992, 8, 9)),
        ("1990-05-01 00:00:00", date(1990, 5, 1)),
        ("1990-02-30", None),
        ("19900501", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_the_taobao_fixtures_add_up():
    """The README's hand computation, redone with the stdlib reader and Decimal."""
    from decimal import Decimal

    def clean(v: str) -> str:
        return v.strip().removeprefix('="').removesuffix('"').lstrip("'")

    orders = csv_rows(fixture_bytes("taobao_orders_gbk.csv"), "gbk")
    items = csv_rows(fixture_bytes("taobao_items_gbk.csv"), "gbk")
    h = [x.strip().replace("\u3000", "") for x in orders[0]]
    listed: dict[str, Decimal] = {}
    for r in items[1:]:
        listed[clean(r[0])] = listed.get(clean(r[0]), Decimal(0)) + Decimal(r[2]) * int(r[3])
    seen = set()
    for r in orders[1:]:
        o = dict(zip(h, r, strict=True))
        no = clean(o["订单编号"])
        seen.add(no)
        payable, post = Decimal(o["买家应付货款"]), Decimal(o["买家应付邮费"])
        total, paid, refund = Decimal(o["总金额"]), Decimal(o["买家实际支付金额"]), Decimal(o["退款金额"])
        assert listed[no] - payable == (Decimal("10.00") if no.endswith("011") else 0), no
        assert payable + post - total in (0, 10), no  # a shop coupon of 10.00 or none
        assert paid == (total if o["订单付款时间"] else 0), no
        assert refund <= paid and (o["订单状态"] != "交易关闭" or not paid or refund == paid), no
    assert seen == NUMBERS


@given(st.lists(st.text(alphabet="='\" \t\u3000\xa0\x1f\r\na1中", max_size=6), min_size=1, max_size=6))
@settings(max_examples=300, deadline=None)
def test_csv_rows_are_cleaned_exactly_like_clean_cell(cells):
    """read_table skips the call for plain cells: the shortcut must never change a result."""
    from laoke.core.tabular import _clean_row

    assert _clean_row(list(cells)) == [clean_cell(c) for c in cells]


# --- the older readers now built on read_table (analytics.external, analytics.traffic) ------------


@pytest.mark.django_db
def test_page_views_in_gbk_with_spreadsheet_guards():
    from laoke.analytics import traffic
    from laoke.analytics.models import PageView

    data = (
        "Member_Ref ,session,ts,page,referrer\r\n"
        '\'13900000001,="0001",2026/3/1 10:00,/首页,\r\n'
        "\r\n"
        "x,s2,2026-03-01T10:00:00,/列表\r\n"  # one cell short: the header has five
    ).encode("gbk")
    result = traffic.pageviews_import(data=data, now=datetime(2026, 3, 10, tzinfo=UTC), skip_invalid=True)
    assert [(e.row, e.error.code) for e in result.errors] == [(4, "ANALYTICS_PAGEVIEW_COLUMNS")]
    assert result.errors[0].params == {"found": 4, "expected": 5}
    view = PageView.objects.get()
    assert (view.member_ref, view.session, view.page) == ("13900000001", "0001", "/首页")
    with pytest.raises(DomainError) as exc:
        traffic.pageviews_import(data=data + b"y,s3,\xff\xfe,/\r\n", now=datetime(2026, 3, 10, tzinfo=UTC))
    assert exc.value.code == "ANALYTICS_PAGEVIEW_ENCODING" and exc.value.details["rows"] == [5]


@pytest.mark.django_db
def test_an_external_campaign_from_xlsx_and_gbk():
    from laoke.analytics.external import external_campaign_import
    from laoke.analytics.models import ExternalOrder

    contacts = "member_ref,ARM,contacted_at\nA1,sms,2026-06-01\nA2,control,2026-06-01 09:30:00\n"
    orders = "member_ref,ordered_at,amount\n'A1,2026/6/3 10:00,￥12.50\n"
    summary = external_campaign_import(
        name="表格导入",
        contacts=io.BytesIO(as_xlsx(contacts.encode(), "utf-8")),
        orders=io.BytesIO(orders.encode("gbk")),
    )
    assert (summary["contacts"], summary["orders"], summary["arms"]) == (2, 1, {"control": 1, "sms": 1})
    order = ExternalOrder.objects.get()
    assert order.amount_fen == 1250 and order.ordered_at == datetime(2026, 6, 3, 2, tzinfo=UTC)
