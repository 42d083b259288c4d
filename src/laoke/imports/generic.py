"""Generic member, order, product and coupon-code files with a column mapping (fields.py).

Each parser validates every row and emits records for the good ones; keys that already exist in
Laoke are not problems — they are counted as "already present" by the check and skipped by the
apply, which is what makes a re-import change nothing.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

from laoke.catalog.models import Category
from laoke.core.clock import today
from laoke.core.errors import DomainError, RowError
from laoke.core.models import Store
from laoke.core.tabular import ROW_HEADER_MISSING, Cells, Table
from laoke.members.validation import (
    check_birthday,
    normalize_email,
    normalize_mobile,
    parse_addresses_lenient,
)
from laoke.orders.importing import LineIn, OrderIn, RefundIn
from laoke.orders.models import OrderStatus
from laoke.promotions.services import IMPORT_CODE_RE

from . import error_codes as E
from .buyers import Buyer
from .fields import FIELDS
from .parsed import CouponRec, MemberRec, OrderRec, Parsed, ProductRec
from .taobao import NUMBER

REF_SOURCE = "import"
GENDERS = {"": "", "m": "M", "f": "F", "男": "M", "女": "F", "male": "M", "female": "F"}
TRUE = {"1", "y", "yes", "true", "是", "可", "可以"}
FALSE = {"0", "n", "no", "false", "否", "不可", "不"}


def _index(
    table: Table, kind: str, mapping: dict[str, str], parsed: Parsed
) -> tuple[dict[str, int], Cells] | None:
    """Column positions of the mapped fields; a required field the file lacks (its mapped header,
    or with no mapping its usual header) is a ROW_HEADER_MISSING of row 1."""
    fields = FIELDS[kind]
    index, errors = table.index(mapping, set())
    for f in fields:
        if f.required and f.name not in index:
            shown = mapping.get(f.name) or next((a for a in f.aliases if not a.isascii()), f.name)
            errors.append(RowError(table.name, 1, shown, "", ROW_HEADER_MISSING))
    parsed.errors.extend(table.problems)
    parsed.errors.extend(errors)
    if errors:
        return None
    return index, Cells(table.name, parsed.errors, headers=mapping)


def _mobile(cells: Cells, row: int, c: dict, fld: str) -> tuple[str | None, bool]:
    value = c.get(fld, "")
    if not value:
        return None, True
    try:
        return normalize_mobile(value), True
    except DomainError:
        cells.error(row, fld, value, E.ROW_MOBILE)
        return None, False


def _stores(table: Table, index: dict[str, int]) -> dict[str, int]:
    if "store" not in index:
        return {}
    codes = {cells[index["store"]] for _r, cells in table.rows if len(cells) > index["store"]}
    return dict(Store.objects.filter(code__in=codes).values_list("code", "pk"))


def parse_members(table: Table, mapping: dict[str, str]) -> Parsed:
    parsed = Parsed(kind="members", total_rows=len(table.rows))
    got = _index(table, "members", mapping, parsed)
    if got is None:
        return parsed
    index, cells = got
    stores = _stores(table, index)
    records = list(table.records(index))
    addresses = parse_addresses_lenient([c.get("address", "") for _r, c in records])
    seen: dict[tuple, int] = {}
    for (row, c), address in zip(records, addresses, strict=True):
        before = len(parsed.errors)
        mobile, _ok = _mobile(cells, row, c, "mobile")
        ref = cells.text(row, c, "external_id", 128)
        name = cells.text(row, c, "name", 60)
        gender = GENDERS.get(unicodedata.normalize("NFKC", c.get("gender", "")).strip().lower())
        if gender is None:
            cells.error(row, "gender", c.get("gender", ""), E.ROW_GENDER)
        birthday = cells.day(row, c, "birthday")
        if birthday is not None:
            try:
                check_birthday(birthday, today=today())
            except DomainError:
                cells.error(row, "birthday", c.get("birthday", ""), E.ROW_BIRTHDAY)
        email = None
        if c.get("email"):
            try:
                email = normalize_email(c["email"])
            except DomainError:
                cells.error(row, "email", c["email"], E.ROW_EMAIL)
        if c.get("address") and address is None:
            cells.error(row, "address", c["address"], E.ROW_ADDRESS)
        registered_at = cells.when(row, c, "registered_at")
        store = c.get("store", "")
        if store and store not in stores:
            cells.error(row, "store", store, E.ROW_STORE_UNKNOWN, value=store)
        notes = cells.text(row, c, "notes", 2000)
        if not mobile and not ref and len(parsed.errors) == before and not c.get("mobile"):
            cells.error(row, "mobile", "", E.ROW_IDENTITY)
        key = ("m", mobile) if mobile else ("r", ref)
        if len(parsed.errors) == before and key in seen:
            cells.error(
                row, "mobile" if mobile else "external_id", mobile or ref, E.ROW_DUPLICATE, other=seen[key]
            )
        if len(parsed.errors) > before:
            continue
        seen[key] = row
        extra = {"gender": gender, "birthday": birthday, "email": email, "notes": notes}
        if store:
            extra["home_store_id"] = stores[store]
        parsed.members.append(
            MemberRec(
                row,
                Buyer(
                    mobile=mobile,
                    ref=ref or None,
                    name=name,
                    address=c.get("address", ""),
                    at=registered_at,
                    extra=extra,
                ),
            )
        )
    return parsed


def parse_orders(
    table: Table, mapping: dict[str, str], *, products: dict[str, tuple[int, int | None]]
) -> Parsed:
    """One row per order line; the rows of one order share its number, buyer, time and postage."""
    parsed = Parsed(kind="orders", total_rows=len(table.rows))
    got = _index(table, "orders", mapping, parsed)
    if got is None:
        return parsed
    index, cells = got
    stores = _stores(table, index)
    groups: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for row, c in table.records(index):
        groups[c.get("number", "")].append((row, c))
    for number, rows in groups.items():
        before = len(parsed.errors)
        first_row, first = rows[0]
        if not NUMBER.match(number):
            for row, _c in rows:
                cells.error(row, "number", number, E.ROW_ORDER_NUMBER)
            continue
        for fld in ("member_mobile", "member_ref", "paid_at", "store", "channel"):
            for row, c in rows[1:]:
                if c.get(fld, "") and c.get(fld, "") != first.get(fld, ""):
                    cells.error(
                        row,
                        fld,
                        c.get(fld, ""),
                        E.ROW_ORDER_MISMATCH,
                        column=cells.headers.get(fld, fld),
                        other=first_row,
                    )
        mobile, _ok = _mobile(cells, first_row, first, "member_mobile")
        ref = cells.text(first_row, first, "member_ref", 128)
        paid_at = cells.when(first_row, first, "paid_at", required=True)
        store = first.get("store", "")
        if store and store not in stores:
            cells.error(first_row, "store", store, E.ROW_STORE_UNKNOWN, value=store)
        channel = cells.text(first_row, first, "channel", 16) or "import"
        postages: list[int] = []
        lines: list[LineIn] = []
        refund_lines: list[tuple[str, int, int]] = []
        for i, (row, c) in enumerate(rows, start=1):
            sku = cells.text(row, c, "sku", 64, required=True)
            title = cells.text(row, c, "title", 200)
            qty = cells.integer(row, c, "quantity", lo=1, hi=1_000_000, required=True)
            unit = cells.fen(row, c, "unit_price", required=True)
            paid = cells.fen(row, c, "paid")
            fee = cells.fen(row, c, "postage")
            if fee:
                postages.append(fee)
            back = cells.integer(row, c, "refunded_quantity", lo=0, hi=1_000_000) or 0
            if qty is None or unit is None:
                continue
            net = unit * qty if paid is None else paid
            if net > unit * qty:
                cells.error(row, "paid", c.get("paid", ""), E.ROW_PAID_ABOVE_LIST)
                continue
            if back > qty:
                cells.error(row, "refunded_quantity", c.get("refunded_quantity", ""), E.ROW_REFUNDED_QUANTITY)
                continue
            pid, cat = products.get(sku, (None, None))
            ln = LineIn(str(i), sku, title or sku, unit, qty, net, pid, cat)
            lines.append(ln)
            if back:
                refund_lines.append((ln.ref, back, net * back // qty if back < qty else net))
        if len(parsed.errors) > before:
            continue
        # Postage is an order's: on its first row, or repeated on every row (one value), or split
        # over the rows (different values, added up).
        postage = postages[0] if len(set(postages)) == 1 else sum(postages)
        refund = None
        if refund_lines:
            goods = sum(n for _r, _q, n in refund_lines)
            everything = sum(q for _r, q, _n in refund_lines) == sum(ln.quantity for ln in lines)
            refund = RefundIn(
                goods, postage if everything else 0, everything, paid_at, refund_lines, "import"
            )
        parsed.orders.append(
            OrderRec(
                order=OrderIn(
                    number=number,
                    paid_at=paid_at,
                    created_at=paid_at,
                    lines=lines,
                    store_id=stores.get(store),
                    channel=channel,
                    status=OrderStatus.COMPLETED,
                    postage_gross_fen=postage,
                    postage_net_fen=postage,
                    refund=refund,
                ),
                buyer=Buyer(mobile=mobile, ref=ref or None, at=paid_at),
                first_row=first_row,
            )
        )
    return parsed


def parse_products(table: Table, mapping: dict[str, str]) -> Parsed:
    parsed = Parsed(kind="products", total_rows=len(table.rows))
    got = _index(table, "products", mapping, parsed)
    if got is None:
        return parsed
    index, cells = got
    categories = dict(Category.objects.values_list("code", "pk"))
    seen: dict[str, int] = {}
    for row, c in table.records(index):
        before = len(parsed.errors)
        sku = cells.text(row, c, "sku", 64, required=True)
        title = cells.text(row, c, "title", 200, required=True)
        price = cells.fen(row, c, "price", required=True)
        cost = cells.fen(row, c, "cost")
        category = c.get("category", "")
        if category and category not in categories:
            cells.error(row, "category", category, E.ROW_CATEGORY_UNKNOWN, value=category)
        returnable = _boolean(cells, row, c, "returnable", default=True)
        if len(parsed.errors) == before and sku in seen:
            cells.error(row, "sku", sku, E.ROW_DUPLICATE, other=seen[sku])
        if len(parsed.errors) > before:
            continue
        seen[sku] = row
        parsed.products.append(ProductRec(row, sku, title, price, cost, categories.get(category), returnable))
    return parsed


def _boolean(cells: Cells, row: int, c: dict, fld: str, *, default: bool) -> bool:
    value = unicodedata.normalize("NFKC", c.get(fld, "")).strip().lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    cells.error(row, fld, c.get(fld, ""), E.ROW_BOOLEAN)
    return default


def parse_coupons(table: Table, mapping: dict[str, str]) -> Parsed:
    from laoke.members.models import Member

    parsed = Parsed(kind="coupons", total_rows=len(table.rows))
    got = _index(table, "coupons", mapping, parsed)
    if got is None:
        return parsed
    index, cells = got
    records = list(table.records(index))
    rows: list[tuple[int, str, str | None]] = []
    seen: dict[str, int] = {}
    for row, c in records:
        before = len(parsed.errors)
        code = unicodedata.normalize("NFKC", c.get("code", "")).strip().upper()
        if not IMPORT_CODE_RE.match(code):
            cells.error(row, "code", c.get("code", ""), E.ROW_COUPON_CODE)
        elif code in seen:
            cells.error(row, "code", code, E.ROW_DUPLICATE, other=seen[code])
        mobile, _ok = _mobile(cells, row, c, "mobile")
        if len(parsed.errors) > before:
            continue
        seen[code] = row
        rows.append((row, code, mobile))
    members = dict(
        Member.objects.filter(mobile__in={m for _r, _c, m in rows if m}).values_list("mobile", "pk")
    )
    for row, code, mobile in rows:
        if mobile and mobile not in members:
            cells.error(row, "mobile", mobile, E.ROW_MEMBER_UNKNOWN)
            continue
        parsed.coupons.append(CouponRec(row, code, mobile, members.get(mobile) if mobile else None))
    return parsed
