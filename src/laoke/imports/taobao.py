"""The Taobao/Tmall seller-centre order report (订单报表), alone or with its item report (宝贝报表).

Column meanings and the rules for money, refunds, statuses and buyers are in
docs/decisions/0029-imports.md. Only paid orders are imported; an unpaid or closed-before-payment
order is skipped and counted. Every problem is reported by file, row and column.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from laoke.core.errors import DomainError
from laoke.core.money import split_largest_remainder
from laoke.core.tabular import Cells, Table
from laoke.members.validation import normalize_mobile
from laoke.orders.importing import LineIn, OrderIn, RefundIn
from laoke.orders.models import OrderStatus

from . import error_codes as E
from .buyers import Buyer
from .parsed import OrderRec, Parsed

SOURCE = "taobao"

ORDER_FIELDS: dict[str, tuple[str, ...]] = {
    "number": ("订单编号", "订单号"),
    "buyer": ("买家会员名", "买家昵称"),
    "pay_ref": ("支付单号",),
    "goods": ("买家应付货款",),
    "postage": ("买家应付邮费",),
    "paid": ("买家实际支付金额",),
    "status": ("订单状态",),
    "receiver": ("收货人姓名",),
    "address": ("收货地址",),
    "phone": ("联系电话",),
    "mobile": ("联系手机",),
    "created_at": ("订单创建时间",),
    "paid_at": ("订单付款时间",),
    "titles": ("宝贝标题",),
    "quantity": ("宝贝总数量",),
    "shop": ("店铺名称",),
    "close_reason": ("订单关闭原因",),
    "refund": ("退款金额",),
}
ORDER_REQUIRED = {"number", "paid", "status", "paid_at"}
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "number": ("主订单编号", "订单编号"),
    "title": ("标题", "宝贝标题"),
    "price": ("价格", "单价"),
    "quantity": ("购买数量",),
    "sku": ("商家编码", "外部系统编号"),
    "refund_status": ("退款状态",),
}
ITEM_REQUIRED = {"number", "price", "quantity"}

NUMBER = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
UNPAID = "unpaid"
CLOSED = "closed"


def _status(text: str) -> str | None:
    t = unicodedata.normalize("NFKC", text).replace(" ", "")
    if "交易成功" in t:
        return OrderStatus.COMPLETED
    if "交易关闭" in t:
        return CLOSED
    if "等待买家付款" in t:
        return UNPAID
    if "卖家已发货" in t or "等待买家确认" in t or "部分发货" in t:
        return OrderStatus.SHIPPED
    if "买家已付款" in t or "等待卖家发货" in t:
        return OrderStatus.PAID
    return None


def _masked(value: str) -> bool:
    return "*" in value


def mapping_of(table: Table, fields: dict[str, tuple[str, ...]]) -> dict[str, str]:
    present = set(table.headers)
    out = {}
    for f, aliases in fields.items():
        for a in aliases:
            if a in present:
                out[f] = a
                break
        else:
            out[f] = aliases[0]
    return out


def _mobile(*values: str) -> str | None:
    for v in values:
        if not v or _masked(v):
            continue
        try:
            m = normalize_mobile(v)
        except DomainError:
            continue
        if m:
            return m
    return None


def _items(items: Table, parsed: Parsed) -> dict[str, list[tuple[int, dict]]]:
    mapping = mapping_of(items, ITEM_FIELDS)
    index, errors = items.index(mapping, ITEM_REQUIRED)
    parsed.errors.extend(errors)
    out: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    if errors:
        return out
    cells = Cells(items.name, parsed.errors, headers=mapping)
    for row, c in items.records(index):
        number = c.get("number", "")
        price = cells.fen(row, c, "price", required=True)
        qty = cells.integer(row, c, "quantity", lo=1, hi=1_000_000, required=True)
        if not NUMBER.match(number):
            cells.error(row, "number", number, E.ROW_ORDER_NUMBER)
            continue
        if price is None or qty is None:
            out[number].append((row, {}))  # a broken item breaks its order
            continue
        refunded = "退款成功" in c.get("refund_status", "")
        out[number].append(
            (
                row,
                {
                    "title": c.get("title", ""),
                    "price": price,
                    "qty": qty,
                    "sku": c.get("sku", ""),
                    "refunded": refunded,
                },
            )
        )
    return out


def parse(orders: Table, items: Table | None, *, products: dict[str, tuple[int, int | None]]) -> Parsed:
    """Records for the paid orders of the report; ``products`` maps a SKU (商家编码) to (product id,
    category id) so lines of known products count in category statistics."""
    parsed = Parsed(kind="taobao", total_rows=len(orders.rows) + (len(items.rows) if items else 0))
    parsed.errors.extend(orders.problems)
    mapping = mapping_of(orders, ORDER_FIELDS)
    index, errors = orders.index(mapping, ORDER_REQUIRED)
    parsed.errors.extend(errors)
    item_rows: dict[str, list[tuple[int, dict]]] = {}
    if items is not None:
        parsed.errors.extend(items.problems)
        item_rows = _items(items, parsed)
    if errors:
        return parsed
    cells = Cells(orders.name, parsed.errors, headers=mapping)
    seen: dict[str, int] = {}
    for row, c in orders.records(index):
        before = len(parsed.errors)
        number = c["number"]
        if not NUMBER.match(number):
            cells.error(row, "number", number, E.ROW_ORDER_NUMBER)
            continue
        if number in seen:
            cells.error(row, "number", number, E.ROW_DUPLICATE, other=seen[number])
            continue
        seen[number] = row
        status = _status(c.get("status", ""))
        if status is None:
            cells.error(row, "status", c.get("status", ""), E.ROW_ORDER_STATUS)
        paid_at = cells.when(row, c, "paid_at")
        created_at = cells.when(row, c, "created_at") or paid_at
        paid = cells.fen(row, c, "paid", required=paid_at is not None)
        postage = cells.fen(row, c, "postage") or 0
        goods_payable = cells.fen(row, c, "goods")
        refund = cells.fen(row, c, "refund") or 0
        qty_total = cells.integer(row, c, "quantity", lo=0, hi=1_000_000) or 0
        lines_raw = item_rows.pop(number, None)
        if len(parsed.errors) > before or (lines_raw and any(not d for _r, d in lines_raw)):
            continue
        if paid_at is None or status == UNPAID:
            parsed.skipped["unpaid"] += 1
            continue
        if refund > paid:
            cells.error(row, "refund", c.get("refund", ""), E.ROW_REFUND_TOO_BIG)
            continue
        if status == CLOSED and not refund:
            refund = paid  # closed after payment: Taobao closes a paid order only by refunding it all
        postage_net = min(postage, paid)
        goods_net = paid - postage_net
        lines = _lines(lines_raw, c, goods_net, goods_payable, qty_total, products)
        parsed.orders.append(
            OrderRec(
                order=OrderIn(
                    number=number,
                    paid_at=paid_at,
                    created_at=created_at,
                    lines=lines,
                    channel=SOURCE,
                    status=OrderStatus.COMPLETED if status == CLOSED else status,
                    postage_gross_fen=max(postage, postage_net),
                    postage_net_fen=postage_net,
                    ship_to=c.get("address", ""),
                    payment_ref=c.get("pay_ref", ""),
                    note=c.get("shop", ""),
                    refund=_refund(lines, lines_raw, refund, goods_net, postage_net, status, paid_at, c),
                ),
                buyer=Buyer(
                    mobile=_mobile(c.get("mobile", ""), c.get("phone", "")),
                    ref=None if _masked(c.get("buyer", "")) or not c.get("buyer") else c["buyer"][:128],
                    name=c.get("receiver", "") if not _masked(c.get("receiver", "")) else "",
                    address=c.get("address", ""),
                    at=created_at,
                ),
                first_row=row,
            )
        )
    for number, rows in item_rows.items():  # items of orders the report does not have
        for r, _d in rows[:1]:
            parsed.errors.append(_orphan(items, r, number))
    return parsed


def _orphan(items: Table, row: int, number: str):
    from laoke.core.errors import RowError

    return RowError(items.name, row, "主订单编号", number, E.ROW_ITEMS_ORPHAN, (("value", number),))


def _lines(
    lines_raw, c: dict, goods_net: int, goods_payable: int | None, qty_total: int, products
) -> list[LineIn]:
    if lines_raw:
        gross = [d["price"] * d["qty"] for _r, d in lines_raw]
        # Paid above the list (a seller's price change after the order): the paid amount is the list.
        nets = split_largest_remainder(goods_net, gross) if sum(gross) else [0] * len(gross)
        out = []
        for i, ((_r, d), net) in enumerate(zip(lines_raw, nets, strict=True), start=1):
            unit = d["price"]
            if net > unit * d["qty"]:
                unit = -(-net // d["qty"])
            pid, cat = products.get(d["sku"], (None, None))
            out.append(LineIn(str(i), d["sku"], d["title"], unit, d["qty"], net, pid, cat))
        return out
    qty = max(qty_total, 1)
    gross = max(goods_payable or 0, goods_net)
    unit, rest = divmod(gross, qty)
    title = c.get("titles", "")
    parts = [(qty - rest, unit), (rest, unit + 1)] if rest else [(qty, unit)]
    weights = [q * u for q, u in parts]
    nets = split_largest_remainder(goods_net, weights) if sum(weights) else [0] * len(parts)
    return [
        LineIn(str(i), "", title, u, q, n)
        for i, ((q, u), n) in enumerate(zip(parts, nets, strict=True), start=1)
    ]


def _refund(
    lines, lines_raw, refund: int, goods_net: int, postage: int, status, paid_at, c
) -> RefundIn | None:
    if refund <= 0:
        return None
    goods_back = min(refund, goods_net)
    postage_back = refund - goods_back
    completes = refund >= goods_net + postage or status == CLOSED
    refund_lines = []
    if lines_raw:
        flagged = [ln for ln, (_r, d) in zip(lines, lines_raw, strict=True) if d["refunded"]]
        if flagged:
            total = sum(ln.net_fen for ln in flagged)
            shares = (
                [ln.net_fen for ln in flagged]
                if goods_back >= total
                else split_largest_remainder(goods_back, [ln.net_fen for ln in flagged])
            )
            refund_lines = [(ln.ref, ln.quantity, s) for ln, s in zip(flagged, shares, strict=True)]
    if not refund_lines and completes:
        refund_lines = [(ln.ref, ln.quantity, ln.net_fen) for ln in lines]
    return RefundIn(
        goods_net_fen=goods_back,
        postage_fen=min(postage_back, postage),
        completes_order=completes,
        at=paid_at,
        lines=refund_lines,
        reason=c.get("close_reason", "")[:255] or "taobao",
    )
