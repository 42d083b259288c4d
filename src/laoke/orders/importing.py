"""Writing historical orders in bulk (imports): orders, lines, refunds and refund lines as plain
tuples, a chunk at a time, inside the caller's transaction.

An imported order was priced elsewhere (Taobao, a till, a spreadsheet): it arrives with its lines'
list and paid amounts, its postage and, when some of it was given back, one refund. Nothing of
value moves here — no points, wallet, coupons — and statistics and tiers are rebuilt afterwards
for the members touched (``orders.rebuild`` and ``tiers.replay``), by the same rules settlement
applies one order at a time. Every order carries the job id (``Order.import_job``); an order
number that exists already is skipped, so running a chunk twice writes nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from laoke.core.bulk import JsonText, insert_rows, model_rows, values_in

from .models import Order, OrderLine, OrderStatus, PaymentMethod, Refund, RefundLine

PLATFORM_DISCOUNT = "platform"  # the discounts key of a line priced elsewhere


@dataclass
class LineIn:
    ref: str
    sku: str
    title: str
    unit_price_fen: int
    quantity: int
    net_fen: int
    product_id: int | None = None
    category_id: int | None = None

    @property
    def gross_fen(self) -> int:
        return self.unit_price_fen * self.quantity


@dataclass
class RefundIn:
    goods_net_fen: int
    postage_fen: int
    completes_order: bool
    at: datetime
    lines: list[tuple[str, int, int]] = field(default_factory=list)  # (line ref, quantity, net fen)
    reason: str = ""


@dataclass
class OrderIn:
    number: str
    paid_at: datetime
    lines: list[LineIn]
    member_id: int | None = None
    store_id: int | None = None
    channel: str = "import"
    status: str = OrderStatus.COMPLETED
    created_at: datetime | None = None
    postage_gross_fen: int = 0
    postage_net_fen: int = 0
    ship_to: str = ""
    ship_country: str = ""
    ship_province: str = ""
    payment_ref: str = ""
    note: str = ""
    refund: RefundIn | None = None

    @property
    def goods_gross_fen(self) -> int:
        return sum(ln.gross_fen for ln in self.lines)

    @property
    def goods_net_fen(self) -> int:
        return sum(ln.net_fen for ln in self.lines)


def _order_values(o: OrderIn, job_id: str) -> dict:
    total = o.goods_net_fen + o.postage_net_fen
    refunded = o.refund.goods_net_fen + o.refund.postage_fen if o.refund else 0
    status = o.status
    if o.refund is not None:
        status = OrderStatus.REFUNDED if o.refund.completes_order else OrderStatus.PARTIALLY_REFUNDED
    done = o.status == OrderStatus.COMPLETED
    return {
        "number": o.number,
        "member_id": o.member_id,
        "store_id": o.store_id,
        "channel": o.channel[:16],
        "status": status,
        "ship_to": o.ship_to[:255],
        "ship_country": o.ship_country[:2],
        "ship_province": o.ship_province[:30],
        "goods_gross_fen": o.goods_gross_fen,
        "goods_net_fen": o.goods_net_fen,
        "postage_gross_fen": o.postage_gross_fen,
        "postage_net_fen": o.postage_net_fen,
        "total_fen": total,
        "cash_fen": total,
        "payment_method": PaymentMethod.ONLINE if total else PaymentMethod.NONE,
        "payment_ref": o.payment_ref[:64],
        "refunded_fen": refunded,
        "explanation": JsonText(json.dumps({"imported": job_id})),
        "note": o.note[:255],
        "import_job": job_id,
        "paid_at": o.paid_at,
        "shipped_at": o.paid_at if o.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED) else None,
        "delivered_at": o.paid_at if done else None,
        "completed_at": o.paid_at if done else None,
        "created_at": o.created_at or o.paid_at,
    }


def _discounts(fen: int):
    """``{"platform": fen}`` as JSON text (written for every line: serialised by hand, not json)."""
    return JsonText(f'{{"{PLATFORM_DISCOUNT}": {int(fen)}}}') if fen else {}


def _line_values(order_id: int, ln: LineIn, refunded: int) -> dict:
    discount = ln.gross_fen - ln.net_fen
    return {
        "order_id": order_id,
        "ref": ln.ref,
        "product_id": ln.product_id,
        "sku": ln.sku[:64],
        "title": ln.title[:200],
        "category_id": ln.category_id,
        "unit_price_fen": ln.unit_price_fen,
        "quantity": ln.quantity,
        "gross_fen": ln.gross_fen,
        "net_fen": ln.net_fen,
        "discounts": _discounts(discount),
        "refunded_quantity": refunded,
    }


def _refunded_quantities(o: OrderIn) -> dict[str, int]:
    out: dict[str, int] = {}
    for ref, quantity, _net in o.refund.lines if o.refund else ():
        out[ref] = out.get(ref, 0) + quantity
    return out


def _orders_insert(orders: list[OrderIn], *, job_id: str) -> list[str]:
    """Insert the orders whose numbers are new (with their lines and refund); returns the numbers
    written. Needs the caller's transaction (one chunk)."""
    if not connection.in_atomic_block:
        raise RuntimeError("_orders_insert needs the caller's transaction")
    if not orders:
        return []
    taken = {n for (n,) in values_in(Order, "number", [o.number for o in orders], ["number"])}
    fresh = [o for o in orders if o.number not in taken]
    if not fresh:
        return []
    columns, rows = model_rows(Order, [_order_values(o, job_id) for o in fresh])
    insert_rows(Order._meta.db_table, columns, rows)
    ids = {
        number: pk
        for number, pk, job in values_in(
            Order, "number", [o.number for o in fresh], ["number", "id", "import_job"]
        )
        if job == job_id
    }
    mine = [o for o in fresh if o.number in ids]  # a number taken concurrently by another writer
    if not mine:
        return []
    values = []
    for o in mine:
        back = _refunded_quantities(o)
        values.extend(_line_values(ids[o.number], ln, back.get(ln.ref, 0)) for ln in o.lines)
    columns, rows = model_rows(OrderLine, values)
    insert_rows(OrderLine._meta.db_table, columns, rows)
    refunded = [o for o in mine if o.refund is not None]
    if refunded:
        _refunds_insert(refunded, ids)
    return [o.number for o in mine]


def _refunds_insert(orders: list[OrderIn], ids: dict[str, int]) -> None:
    values = []
    for o in orders:
        r = o.refund
        values.append(
            {
                "order_id": ids[o.number],
                "key": f"import:{o.number}",
                "kind": Refund.Kind.REFUND,
                "reason": r.reason[:255],
                "completes_order": r.completes_order,
                "goods_net_fen": r.goods_net_fen,
                "postage_fen": r.postage_fen,
                "cash_fen": r.goods_net_fen + r.postage_fen,
                "discounts": {},
                "created_at": r.at,
            }
        )
    columns, rows = model_rows(Refund, values)
    insert_rows(Refund._meta.db_table, columns, rows)
    with_lines = [o for o in orders if o.refund.lines]
    if not with_lines:
        return
    refund_ids = dict(
        values_in(Refund, "key", [f"import:{o.number}" for o in with_lines], ["order_id", "id"])
    )
    line_ids = {
        (order_id, ref): (pk, gross, net)
        for order_id, ref, pk, gross, net in values_in(
            OrderLine,
            "order_id",
            [ids[o.number] for o in with_lines],
            ["order_id", "ref", "id", "gross_fen", "net_fen"],
        )
    }
    values = []
    for o in with_lines:
        order_id = ids[o.number]
        for ref, quantity, net in o.refund.lines:
            pk, gross, line_net = line_ids[(order_id, ref)]
            discount = gross - line_net
            # The discount given back with the refunded part of the line, as a settled refund does.
            back = discount * net // line_net if line_net else 0
            values.append(
                {
                    "refund_id": refund_ids[order_id],
                    "line_id": pk,
                    "quantity": quantity,
                    "net_fen": net,
                    "discounts": _discounts(back),
                }
            )
    if values:
        columns, rows = model_rows(RefundLine, values)
        insert_rows(RefundLine._meta.db_table, columns, rows)
