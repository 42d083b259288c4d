"""Seeded generators of import files: Taobao/Tmall seller-centre reports and generic CSVs.

Large test and bench data is generated, never committed (ARCHITECTURE, testing rules). Every
generator is a pure function of its arguments: ``random.Random(seed)``, no clock, no hashing of
``str`` (which Python salts per process) — the same seed gives the same bytes on every machine.

**Taobao** (:func:`taobao_files`): the order report (订单报表) and the item report (宝贝报表) as the
seller centre writes them, with the quirks of real exports sprinkled deterministically:

- headers with trailing ASCII or ideographic (U+3000) spaces and a full-width ``店铺Ｉｄ``, all
  folding to the documented names under ``core.tabular.normalize_header``; two empty trailing
  columns on every line;
- order numbers written ``="2847…"`` (the Excel guard, unquoted as Taobao writes it) in some rows
  and with a leading ``'`` in others; mobiles with a leading ``'``; a tab after some tracking
  numbers;
- masked Alipay accounts always; some masked mobiles (``138****1234``: the buyer name is the
  key) and some masked buyer names (``t**8``); a few buyers masked on both (nobody);
- addresses ``省 市 区 街道(邮编)`` across the provinces, 香港/澳门/台湾 and remote 新疆/西藏;
- statuses: 交易成功 mostly; recent orders also 卖家已发货，等待买家确认 / 买家已付款，等待卖家发货 /
  等待买家付款 (unpaid); 交易关闭 either unpaid (no 订单付款时间, 订单关闭原因 such as 买家未付款)
  or paid and fully refunded (退款金额 = 买家实际支付金额, reason 退款); partial refunds
  (交易成功, one item of several 退款成功, 退款金额 its share).

Money (fen internally, yuan with two decimals in the file): list = Σ 价格 × 购买数量;
买家应付货款 = list − a seller's price change (sometimes); 买家实际支付金额 = 买家应付货款 − a shop
coupon (sometimes) + 买家应付邮费; 总金额 = 买家实际支付金额 (for an unpaid order 总金额 is what was
due and 买家实际支付金额 is 0.00). Dates: the three years before 2026-11-01, growing, with spikes on
Double 11 (a third of it in the midnight hour) and 618. About 1.5 items per order and N/2.5
distinct buyers, many with several orders. ``xlsx=True`` writes the same rows as xlsx (openpyxl
write-only; numbers and times typed as Excel keeps them, see :func:`excel_value`).

**Generic** (:func:`generic_files`): members, products, orders and coupon codes with the Chinese
header aliases of ``imports.fields``; record *i* of a kind depends only on (seed, i), so files
generated with the same seed are consistent: orders reference the SKUs of the first ``products``
products and the mobiles of the first ``members`` members.

``python -m laoke.imports.generator --orders 200000 --out DIR`` writes the files.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path

END = date(2026, 11, 1)  # generated orders lie in the three years before this day
START = date(2023, 11, 1)
DAYS = (END - START).days

# As the seller centre writes them, with the quirks: trailing ASCII and ideographic (U+3000)
# spaces, full-width 店铺Ｉｄ, two empty trailing columns; normalize_header folds them all.
ORDER_HEADERS = tuple(
    "订单编号 ,买家会员名\u3000,买家支付宝账号,支付单号,买家应付货款,买家应付邮费,买家支付积分,总金额,返点积分,"
    "买家实际支付金额,买家实际支付积分,订单状态,买家留言,收货人姓名,收货地址 ,运送方式,联系电话 ,联系手机,"
    "订单创建时间,订单付款时间 ,宝贝标题 ,宝贝种类,物流单号 ,物流公司,订单备注,宝贝总数量  ,店铺Ｉｄ,店铺名称,"
    "订单关闭原因,卖家服务费,是否手机订单,确认收货时间,打款商家金额,退款金额,,".split(",")
)
ITEM_HEADERS = tuple(
    "主订单编号,标题 ,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码 ,退款状态,".split(
        ","
    )
)

SUCCESS = "交易成功"
SHIPPED = "卖家已发货，等待买家确认"
PAID = "买家已付款，等待卖家发货"
WAITING = "等待买家付款"
CLOSED = "交易关闭"
NO_REFUND = "没有申请退款"
REFUNDED = "退款成功"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力斌宇浩凯婷雪琳晨欣怡子涵梓轩一诺思远雨桐佳慧"
NICK_WORDS = tuple(
    "tb jd_ 小鱼儿 快乐的猫 lucy_ 阿宝 sunny 海边的风 木子 yoyo 静静 王小二 candy_ 大橙子".split()
)
# (province city district, streets, postcode, remote?)
PLACES = (
    ("浙江省 杭州市 西湖区", ("文三路", "古墩路", "天目山路"), "310012", False),
    ("浙江省 宁波市 鄞州区", ("天童南路", "首南中路"), "315100", False),
    ("上海 上海市 浦东新区", ("张杨路", "世纪大道", "陆家嘴环路"), "200120", False),
    ("上海 上海市 徐汇区", ("漕溪北路", "肇嘉浜路"), "200030", False),
    ("北京 北京市 朝阳区", ("建国路", "望京街"), "100020", False),
    ("北京 北京市 海淀区", ("中关村大街", "学院路"), "100080", False),
    ("广东省 深圳市 南山区", ("科技园南路", "南海大道"), "518057", False),
    ("广东省 广州市 天河区", ("天河北路", "体育西路"), "510620", False),
    ("江苏省 南京市 鼓楼区", ("中山北路", "广州路"), "210008", False),
    ("江苏省 苏州市 姑苏区", ("人民路", "干将西路"), "215000", False),
    ("四川省 成都市 武侯区", ("人民南路四段", "武侯祠大街"), "610041", False),
    ("湖北省 武汉市 洪山区", ("珞喻路", "雄楚大道"), "430070", False),
    ("山东省 青岛市 市南区", ("香港中路", "东海西路"), "266071", False),
    ("福建省 厦门市 思明区", ("湖滨南路", "厦禾路"), "361003", False),
    ("河南省 郑州市 金水区", ("花园路", "农业路"), "450003", False),
    ("湖南省 长沙市 岳麓区", ("麓山南路", "桐梓坡路"), "410006", False),
    ("陕西省 西安市 雁塔区", ("长安南路", "小寨东路"), "710061", False),
    ("重庆 重庆市 渝中区", ("解放碑步行街", "中山三路"), "400010", False),
    ("辽宁省 沈阳市 和平区", ("南京北街", "太原北街"), "110001", False),
    ("黑龙江省 哈尔滨市 南岗区", ("西大直街", "红军街"), "150001", False),
    ("云南省 昆明市 五华区", ("东风西路", "青年路"), "650021", False),
    ("广西壮族自治区 南宁市 青秀区", ("民族大道", "东葛路"), "530022", False),
    ("内蒙古自治区 呼和浩特市 新城区", ("新华大街",), "010050", False),
    ("新疆维吾尔自治区 乌鲁木齐市 天山区", ("解放北路", "中山路"), "830002", True),
    ("新疆维吾尔自治区 喀什地区 喀什市", ("人民东路",), "844000", True),
    ("西藏自治区 拉萨市 城关区", ("北京中路", "江苏路"), "850000", True),
    ("香港特别行政区 九龙 油尖旺区", ("弥敦道", "广东道"), "999077", True),
    ("澳门特别行政区 澳门半岛 花地玛堂区", ("罗理基博士大马路",), "999078", True),
    ("台湾 台北市 大安区", ("忠孝东路四段", "复兴南路一段"), "000000", True),
)
# Mainland mobile prefixes libphonenumber knows as mobile for every following 8 digits.
MOBILE_PREFIXES = ("138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188")
CLOSE_REASONS = ("买家未付款", "超时关闭", "买家不想买了", "其他原因")
SHIPPING = ("快递", "快递", "快递", "EMS")
COURIERS = ("中通快递", "圆通速递", "韵达快递", "顺丰速运", "申通快递")
CATEGORIES = (
    ("保温杯", 3990, 12900, "颜色分类：{c}；容量：{v}"),
    ("真丝围巾", 8900, 39900, "颜色分类：{c}"),
    ("纯棉T恤", 2900, 9900, "颜色分类：{c}；尺码：{s}"),
    ("蓝牙耳机", 9900, 59900, "颜色分类：{c}"),
    ("面膜", 4900, 19900, "规格：{v}"),
    ("绿茶", 5800, 29800, "净含量：{v}"),
    ("坚果礼盒", 6800, 19800, "规格：{v}"),
    ("运动袜", 990, 3990, "颜色分类：{c}；尺码：{s}"),
    ("手机壳", 1500, 4900, "颜色分类：{c}"),
    ("洗发水", 3900, 12900, "净含量：{v}"),
)
BRANDS = ("老客", "山川", "青禾", "木白", "星河", "云朵")
COLOURS = ("黑色", "白色", "藏青", "浅灰", "酒红", "雾蓝")
SIZES = ("S", "M", "L", "XL", "XXL")
VOLUMES = ("350ml", "500ml", "250g", "500g", "10片", "2盒")


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


_YUAN_TABLE: list[str] = []


def _yuan_fast():
    """fen → yuan text by table lookup below 2,000 yuan (formatting is a good part of the time)."""
    if not _YUAN_TABLE:
        _YUAN_TABLE.extend(f"{y}.{f:02d}" for y in range(2_000) for f in range(100))
    table, n = _YUAN_TABLE, len(_YUAN_TABLE)
    return lambda fen: table[fen] if 0 <= fen < n else _yuan(fen)


def _mobile(i: int, seed: int) -> str:
    """A valid mainland mobile, distinct for every i < 10^8 (an affine bijection of the suffix)."""
    prefix = MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)]
    return f"{prefix}{(i * 7_654_321 + 1_234_567 + seed * 1_000_003) % 100_000_000:08d}"


def _mask_mobile(m: str) -> str:
    return f"{m[:3]}****{m[-4:]}"


def _mask_name(nick: str) -> str:
    return f"{nick[0]}**{nick[-1]}"


# --- catalogue ------------------------------------------------------------------------------------


def _product(seed: int, i: int) -> tuple[str, str, int, str]:
    """(SKU, title, list price in fen, an attribute text) of product i — a function of (seed, i)."""
    rng = random.Random(seed * 1_000_003 + i * 7 + 1)
    name, lo, hi, attr = CATEGORIES[i % len(CATEGORIES)]
    price = (rng.randrange(lo, hi) // 100) * 100 + rng.choice((0, 90, 99, 0))
    title = f"{BRANDS[i % len(BRANDS)]}{name} {rng.choice(('新款', '经典款', '礼盒装', '加厚款'))}{i + 1}号"
    attr = attr.format(c=rng.choice(COLOURS), s=rng.choice(SIZES), v=rng.choice(VOLUMES))
    return f"LK{10000 + i}", title, price, attr


# --- Taobao ----------------------------------------------------------------------------------------


def _day_weights() -> list[float]:
    out = []
    for d in range(DAYS):
        day = START + timedelta(days=d)
        w = 1.0 + 0.6 * d / DAYS  # the shop grows
        if (day.month, day.day) == (11, 11):
            w *= 14
        elif (day.month, day.day) in ((11, 10), (11, 12)):
            w *= 3
        elif (day.month, day.day) == (6, 18):
            w *= 4
        elif day.month == 2 and day.day < 12:
            w *= 0.5  # Spring Festival: couriers stop
        out.append(w)
    return out


HOUR_WEIGHTS = (
    2,
    1,
    0.5,
    0.3,
    0.2,
    0.3,
    0.6,
    1.2,
    2,
    2.6,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3.3,
    3.6,
    4.2,
    4.6,
    4.4,
    3.5,
)


def _cum(weights) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


class _Clock:
    """Seconds since START (shop time) → 'YYYY-MM-DD HH:MM:SS', from precomputed day and time texts."""

    def __init__(self) -> None:
        self.days = [(START + timedelta(days=d)).isoformat() + " " for d in range(DAYS + 30)]
        self.times = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]

    def __call__(self, s: int) -> str:
        return self.days[s // 86400] + self.times[s % 86400]


def _buyers(n: int, seed: int, rnd) -> list[tuple]:
    """Per buyer: (nick as written, mobile as written, receiver name, address, alipay, landline,
    remote?). About 6 % show a masked mobile (the buyer name is the key), 4 % a masked name, 1 %
    both (nobody)."""
    out = []
    ns, ng, nw, npl = len(SURNAMES), len(GIVEN), len(NICK_WORDS), len(PLACES)
    extras = ("", "", "3幢", "2单元501室", "B座1203")
    for i in range(n):
        nick = f"{NICK_WORDS[int(rnd() * nw)]}{i + 17}"
        mobile = _mobile(i, seed)
        name = (
            SURNAMES[int(rnd() * ns)]
            + GIVEN[int(rnd() * ng)]
            + (GIVEN[int(rnd() * ng)] if rnd() < 0.6 else "")
        )
        place = PLACES[int(rnd() * npl)]
        streets = place[1]
        address = (
            f"{place[0]} {streets[int(rnd() * len(streets))]}{1 + int(rnd() * 399)}号"
            f"{extras[int(rnd() * 5)]}({place[2]})"
        )
        r = rnd()
        masked_mobile = r < 0.06
        masked_nick = 0.06 <= r < 0.10 or r < 0.01
        alipay = f"{nick[0]}***@163.com" if r > 0.7 else f"{mobile[:3]}****{mobile[-4:]}"
        phone = f"{mobile[:3]}****{mobile[-4:]}" if masked_mobile else mobile
        landline = f"0{10 + int(rnd() * 89)}-{20_000_000 + int(rnd() * 69_999_999)}" if r > 0.9 else ""
        out.append(
            (
                f"{nick[0]}**{nick[-1]}" if masked_nick else nick,
                phone,
                name,
                address,
                alipay,
                landline,
                place[3],
            )
        )
    return out


def taobao_files(
    n_orders: int,
    *,
    seed: int,
    encoding: str = "gb18030",
    items: bool = True,
    xlsx: bool = False,
    products: int = 240,
) -> tuple[bytes, bytes | None]:
    """(order report, item report or None) as file bytes: CSV in ``encoding`` ("gb18030",
    "gbk" or "utf-8-sig"), or xlsx when ``xlsx`` is set. See the module docstring."""
    # Millions of small tuples would trigger the cyclic garbage collector over and over (it was
    # half of the time); they hold only strings, so there is nothing for it to find.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _taobao_files(n_orders, seed, encoding, items, xlsx, products)
    finally:
        if enabled:
            gc.enable()


def _taobao_files(
    n_orders: int, seed: int, encoding: str, items: bool, xlsx: bool, products: int
) -> tuple[bytes, bytes | None]:
    rng = random.Random(seed)
    rnd = rng.random
    yuan = _yuan_fast()
    # per product: (sku, title, price fen, attributes, price text)
    catalogue = [(*c, yuan(c[2])) for c in (_product(seed, i) for i in range(products))]
    n_cat = len(catalogue)
    n_buyers = max(1, round(n_orders / 2.5))
    buyers = _buyers(n_buyers, seed, rnd)
    # every buyer orders once, the rest go to buyers with a skew (loyal customers order often)
    who = list(range(min(n_buyers, n_orders)))
    who += [int(n_buyers * rnd() ** 2) for _ in range(n_orders - len(who))]
    rng.shuffle(who)
    days = rng.choices(range(DAYS), cum_weights=_cum(_day_weights()), k=n_orders)
    hours = rng.choices(range(24), cum_weights=_cum(HOUR_WEIGHTS), k=n_orders)
    d11 = {(date(y, 11, 11) - START).days for y in (2023, 2024, 2025)}
    created = sorted(
        d * 86400 + (0 if d in d11 and rnd() < 0.35 else h) * 3600 + int(rnd() * 3600)  # midnight rush
        for d, h in zip(days, hours, strict=True)
    )
    end = DAYS * 86400
    clock = _Clock()
    order_rows, item_rows = [], []
    number = 2847_0000_0000_0000_000 + seed % 1000 * 10**12
    line_counts = (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 4)  # mean 1.5
    coupons = (300, 500, 1000, 2000)
    postages = (600, 800, 1000)
    append_order, append_item = order_rows.append, item_rows.append
    for k in range(n_orders):
        s = created[k]
        number += 1_000 + int(rnd() * 9_000)
        no = str(number)
        nick, phone, name, address, alipay, landline, remote = buyers[who[k]]
        n_lines = line_counts[int(rnd() * 20)]
        if n_lines == 1:
            c = catalogue[int(n_cat * rnd() ** 1.5)]
            q = 1 if rnd() < 0.8 else 2 + int(rnd() * 3)
            lines = [(c, q)]
            list_fen = c[2] * q
        else:
            picked = {int(n_cat * rnd() ** 1.5) for _ in range(n_lines)}
            lines = [(catalogue[p], 1 if rnd() < 0.8 else 2 + int(rnd() * 3)) for p in sorted(picked)]
            list_fen = sum(c[2] * q for c, q in lines)
        change = int(list_fen * 0.05 * rnd()) // 100 * 100 if rnd() < 0.08 else 0
        payable = list_fen - change
        coupon = coupons[int(rnd() * 4)] if rnd() < 0.2 else 0
        if coupon * 5 > payable:
            coupon = 0
        if remote:
            postage = 1500 + 500 * int(rnd() * 3)
        else:
            postage = 0 if payable >= 4900 else postages[int(rnd() * 3)]
        paid = payable - coupon + postage
        r = rnd()
        refund = 0
        reason = ""
        refunded_line = -1  # -1 none, -2 all
        if r < 0.055:
            status, is_paid, reason = CLOSED, False, CLOSE_REASONS[int(rnd() * 4)]
        elif r < 0.4 and end - s < 3 * 86400:
            status, is_paid = WAITING, False
        elif r < 0.085:
            status, is_paid, reason, refund, refunded_line = CLOSED, True, "退款", paid, -2
        elif end - s < 2 * 86400 and r < 0.5:
            status, is_paid = PAID, True
        elif end - s < 12 * 86400 and r < 0.7:
            status, is_paid = SHIPPED, True
        else:
            status, is_paid = SUCCESS, True
            if len(lines) > 1 and r > 0.93:  # one item refunded: its share of the goods paid
                refunded_line = len(lines) - 1
                c, q = lines[-1]
                refund = c[2] * q * (payable - coupon) // list_fen
        if is_paid:
            pay_s = s + 5 + int(rnd() * 900)
            if status == SUCCESS:
                confirm_s = pay_s + 86400 * (3 + int(rnd() * 7))
                if confirm_s >= end:  # not confirmed yet: still shipped, nothing refunded
                    status, confirm, refund, refunded_line = SHIPPED, "", 0, -1
                else:
                    confirm = clock(confirm_s)
            else:
                confirm = ""
            paid_text = yuan(paid)
        else:
            confirm, paid_text = "", "0.00"
        shipped = status in (SUCCESS, SHIPPED) or (refunded_line == -2 and k % 2 == 0)
        g = rnd()
        append_order(
            (
                f'="{no}"' if g < 0.4 else ("'" + no if g < 0.6 else no),
                nick,
                alipay,
                f"2{s % 97:02d}0{no[-12:]}{k % 10_000_000:07d}" if is_paid else "",
                yuan(payable),
                yuan(postage),
                "0",
                yuan(paid),
                "0",
                paid_text,
                "0",
                status,
                "",
                name,
                address,
                SHIPPING[k % 4],
                landline,
                phone if g < 0.5 or "*" in phone else "'" + phone,
                clock(s),
                clock(pay_s) if is_paid else "",
                "，".join(c[1] for c, _ in lines),
                str(len(lines)),
                (f"YT{number % 10**13:013d}\t" if k % 7 == 0 else f"YT{number % 10**13:013d}")
                if shipped
                else "",
                COURIERS[k % 5] if shipped else "",
                "",
                str(sum(q for _, q in lines)) if n_lines > 1 else str(lines[0][1]),
                "5718230046",
                "老客旗舰店",
                reason,
                "0.00",
                "是" if k % 3 else "否",
                confirm,
                yuan(paid - refund) if status == SUCCESS else "0.00",
                yuan(refund),
                "",
                "",
            )
        )
        if items:
            guarded = (f'="{no}"', "'" + no, no, no, no)
            for j, (c, q) in enumerate(lines):
                append_item(
                    (
                        guarded[(k + j) % 5],
                        c[1],
                        c[4],
                        str(q),
                        c[0],
                        c[3],
                        "",
                        "",
                        status,
                        c[0],
                        REFUNDED if refunded_line == -2 or refunded_line == j else NO_REFUND,
                        "",
                    )
                )
    order_rows.reverse()  # the seller centre lists the newest first
    item_rows.reverse()
    if xlsx:
        return xlsx_bytes([ORDER_HEADERS, *order_rows]), (
            xlsx_bytes([ITEM_HEADERS, *item_rows]) if items else None
        )
    # No generated cell holds a comma, a quote (but the ="…" guard, written unquoted as Taobao
    # does) or a line break, so lines are joined directly: csv.writer would quote the guard.
    orders = _lines(ORDER_HEADERS, order_rows).encode(encoding)
    if not items:
        return orders, None
    return orders, _lines(ITEM_HEADERS, item_rows).encode(encoding)


def _lines(headers, rows) -> str:
    return "\r\n".join([",".join(headers), *map(",".join, rows), ""])


# --- xlsx ----------------------------------------------------------------------------------------

_INT = re.compile(r"^-?[1-9]\d{0,14}$|^0$")
_DEC = re.compile(r"^-?\d{1,12}\.\d+$")
_DT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def excel_value(text: str):
    """A CSV cell as Excel keeps it after "save as xlsx": ``="…"`` becomes the text inside, short
    whole numbers and decimals become numbers, date-times become dates; long digit strings
    (order numbers) and everything else stay text."""
    if text.startswith('="') and text.endswith('"'):
        return text[2:-1]
    if _INT.match(text):
        return int(text)
    if _DEC.match(text):
        return float(text)
    if _DT.match(text):
        return datetime.fromisoformat(text)
    return text


def xlsx_bytes(rows, *, title: str = "Sheet1") -> bytes:
    """Rows of CSV text cells written as an xlsx (openpyxl write-only) with :func:`excel_value`.
    A cell that would read as a formula is written as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for row in rows:
        cells = []
        for text in row:
            value = excel_value(text) if isinstance(text, str) else text
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                value = cell
            cells.append(value)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- generic files ------------------------------------------------------------------------------

MEMBER_HEADERS = ("会员编号", "手机号", "姓名", "性别", "生日", "邮箱", "地址", "注册时间", "备注")
PRODUCT_HEADERS = ("商家编码", "商品名称", "售价", "成本价", "分类", "可退货")
ORDER_LINE_HEADERS = tuple(
    "订单编号,手机号,会员编号,付款时间,商家编码,商品名称,数量,单价,实付金额,运费,退货数量".split(",")
)
COUPON_HEADERS = ("券码", "手机号")


def _member(seed: int, i: int) -> tuple:
    rng = random.Random(seed * 3_000_017 + i * 13 + 7)
    place = PLACES[rng.randrange(len(PLACES) - 3)]  # mainland addresses
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    birthday = date(1960, 1, 1) + timedelta(days=rng.randrange(16_000))
    registered = datetime(2024, 1, 1, 9) + timedelta(minutes=rng.randrange(900_000))
    return (
        f"M{seed % 1000:03d}{i:06d}",
        _mobile(i, seed),
        name,
        rng.choice(("男", "女", "女", "")),
        birthday.isoformat() if i % 4 else f"{birthday.year}/{birthday.month}/{birthday.day}",
        f"user{i}@example.com" if i % 3 == 0 else "",
        f"{place[0]} {rng.choice(place[1])}{rng.randrange(1, 300)}号",
        registered.strftime("%Y-%m-%d %H:%M:%S"),
        "",
    )


def generic_files(kind: str, n: int, *, seed: int, products: int = 50, members: int = 100) -> bytes:
    """A generic import file (UTF-8 with a BOM) of ``n`` records of ``kind`` (members, products,
    orders — ``n`` orders of 1–3 lines —, coupons). Orders and coupons reference the first
    ``products`` products' SKUs and the first ``members`` members' mobiles of the same seed."""
    buf = io.StringIO()
    w = csv.writer(buf)
    if kind == "members":
        w.writerow(MEMBER_HEADERS)
        w.writerows(_member(seed, i) for i in range(n))
    elif kind == "products":
        w.writerow(PRODUCT_HEADERS)
        for i in range(n):
            sku, title, price, _ = _product(seed, i)
            w.writerow((sku, title, _yuan(price), _yuan(price * 55 // 100), "", "是" if i % 5 else "否"))
    elif kind == "orders":
        rng = random.Random(seed * 4_000_037 + 3)
        w.writerow(ORDER_LINE_HEADERS)
        base = datetime(2026, 1, 1, 8)
        for k in range(n):
            m = rng.randrange(members)
            mobile = _mobile(m, seed)
            ref = f"M{seed % 1000:03d}{m:06d}"
            at = (base + timedelta(minutes=k * 37 + rng.randrange(30))).strftime("%Y-%m-%d %H:%M:%S")
            postage = rng.choice((0, 0, 600, 1000))
            picked = rng.sample(range(products), min(products, rng.choice((1, 1, 2, 3))))
            for j, p in enumerate(picked):
                sku, title, price, _ = _product(seed, p)
                qty = rng.choice((1, 1, 1, 2, 3))
                paid = price * qty - (price * qty // 10 if rng.random() < 0.2 else 0)
                back = rng.randrange(1, qty + 1) if rng.random() < 0.05 else 0
                w.writerow(
                    (
                        f"G{seed % 1000:03d}{k:07d}",
                        mobile,
                        ref,
                        at,
                        sku,
                        title,
                        qty,
                        _yuan(price),
                        _yuan(paid),
                        _yuan(postage) if j == 0 else "",
                        back or "",
                    )
                )
    elif kind == "coupons":
        rng = random.Random(seed * 5_000_011 + 9)
        w.writerow(COUPON_HEADERS)
        alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
        for i in range(n):
            code = f"LK{i:05d}" + "".join(rng.choice(alphabet) for _ in range(6))
            w.writerow((code, _mobile(rng.randrange(members), seed) if i % 2 else ""))
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return buf.getvalue().encode("utf-8-sig")


def write_files(out: Path, n_orders: int, *, seed: int = 7, encoding: str = "gb18030") -> list[Path]:
    """Write taobao_orders.csv and taobao_items.csv (``n_orders`` orders) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    orders, items = taobao_files(n_orders, seed=seed, encoding=encoding)
    paths = [out / "taobao_orders.csv", out / "taobao_items.csv"]
    paths[0].write_bytes(orders)
    paths[1].write_bytes(items or b"")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m laoke.imports.generator")
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--encoding", default="gb18030", choices=("gb18030", "gbk", "utf-8-sig"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in write_files(args.out, args.orders, seed=args.seed, encoding=args.encoding):
        print(f"{path} {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
