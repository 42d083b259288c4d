"""What a check makes of a file: the records it can import and every problem it found.

Parsers emit a record only when everything it needs is valid; each problem is a ``RowError``
(file, row, column, value, reason). "All or nothing" refuses the file while there is any problem;
"import the valid rows" imports the records (an order with one bad line is not a record)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from laoke.core.errors import RowError
from laoke.orders.importing import OrderIn

from .buyers import Buyer


@dataclass
class OrderRec:
    order: OrderIn  # member_id is filled when the buyer is resolved
    buyer: Buyer
    first_row: int


@dataclass
class MemberRec:
    row: int
    buyer: Buyer


@dataclass
class ProductRec:
    row: int
    sku: str
    title: str
    price_fen: int
    cost_fen: int | None
    category_id: int | None
    returnable: bool


@dataclass
class CouponRec:
    row: int
    code: str
    mobile: str | None
    member_id: int | None = None


@dataclass
class Parsed:
    kind: str
    total_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    orders: list[OrderRec] = field(default_factory=list)
    members: list[MemberRec] = field(default_factory=list)
    products: list[ProductRec] = field(default_factory=list)
    coupons: list[CouponRec] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason → rows left out on purpose

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: (e.file, e.row, e.column))

    @property
    def bad_rows(self) -> int:
        return len({(e.file, e.row) for e in self.errors})
