"""Refunds reverse the settlement split exactly.

A line's gross amount (unit price × quantity) is made of parts: each benefit's discount, the
points' fen, the wallet fen and the cash. Refunding units returns a share of every part, decided
unit by unit: the next unit's price is split over the parts still unreturned by largest remainder
in proportion to what remains of each (``core.money.split_largest_remainder``). So each unit
returns exactly its price, no part ever returns more than it holds (the cash back is never
negative), and the unit that completes a line returns what is left of every part. Because the
split depends only on how many units were refunded before, successive partial refunds add up to
exactly what was taken, whatever their sizes. Points used come back as
``points × done // quantity`` cumulatively (they telescope the same way).

The postage pseudo-line (its shipping discount and wallet part) comes back with the refund that
completes the whole order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from laoke.core.money import split_largest_remainder

from .inputs import SHIPPING_REF
from .results import LineResult, SettlementResult


@dataclass
class LineRefund:
    ref: str
    quantity: int
    gross_fen: int
    net_fen: int
    discounts: dict[str, int] = field(default_factory=dict)
    points_used: int = 0
    points_fen: int = 0
    wallet_fen: int = 0

    @property
    def cash_fen(self) -> int:
        return self.net_fen - self.points_fen - self.wallet_fen


@dataclass
class RefundSplit:
    lines: list[LineRefund]
    shipping_included: bool

    def _sum(self, attr: str) -> int:
        return sum(getattr(ln, attr) for ln in self.lines)

    @property
    def benefits(self) -> dict[str, int]:
        """Benefit code → fen of that benefit going back (coupon budget, tier discount …)."""
        out: dict[str, int] = defaultdict(int)
        for ln in self.lines:
            for code, fen in ln.discounts.items():
                out[code] += fen
        return {c: f for c, f in out.items() if f}

    @property
    def net_fen(self) -> int:
        return self._sum("net_fen")

    @property
    def points_used(self) -> int:
        return self._sum("points_used")

    @property
    def points_fen(self) -> int:
        return self._sum("points_fen")

    @property
    def wallet_fen(self) -> int:
        return self._sum("wallet_fen")

    @property
    def cash_fen(self) -> int:
        return self._sum("cash_fen")


def refund_split(
    result: SettlementResult, quantities: Mapping[str, int], already: Mapping[str, int] | None = None
) -> RefundSplit:
    """What to give back when ``quantities`` (line ref → units) are refunded, given the units
    ``already`` refunded before. Raises ValueError for an unknown line or too many units."""
    already = dict(already or {})
    by_ref = {ln.ref: ln for ln in result.lines}
    for ref, q in quantities.items():
        if ref not in by_ref:
            raise ValueError(f"unknown line {ref!r}")
        if q < 0 or already.get(ref, 0) + q > by_ref[ref].quantity:
            raise ValueError(f"line {ref!r}: cannot refund {q} more of {by_ref[ref].quantity}")
    for ref, q in already.items():
        if ref not in by_ref or not 0 <= q <= by_ref[ref].quantity:
            raise ValueError(f"line {ref!r}: bad refunded quantity {q}")
    out = [_line_part(by_ref[ref], already.get(ref, 0), q) for ref, q in sorted(quantities.items()) if q > 0]
    was_complete = all(already.get(r, 0) == ln.quantity for r, ln in by_ref.items())
    complete = all(already.get(r, 0) + quantities.get(r, 0) == ln.quantity for r, ln in by_ref.items())
    ship = complete and not was_complete
    if ship:
        out.append(_line_part(result.shipping, 0, 1))
    return RefundSplit(lines=out, shipping_included=ship)


def _returned(ln: LineResult, units: int) -> list[int]:
    """Cumulative amount of each part returned after ``units`` units were refunded."""
    codes = sorted(ln.discounts)
    parts = [ln.discounts[c] for c in codes] + [ln.points_fen, ln.wallet_fen, ln.cash_fen]
    unit = ln.unit_price_fen
    back = [0] * len(parts)
    for j in range(units):
        left = [p - b for p, b in zip(parts, back, strict=True)]
        if j == ln.quantity - 1:
            step = left
        else:
            step = split_largest_remainder(unit, left) if unit else [0] * len(parts)
        back = [b + s for b, s in zip(back, step, strict=True)]
    return back


def _line_part(ln: LineResult, done: int, q: int) -> LineRefund:
    codes = sorted(ln.discounts)
    before, after = _returned(ln, done), _returned(ln, done + q)
    part = [a - b for a, b in zip(after, before, strict=True)]
    discounts = dict(zip(codes, part[: len(codes)], strict=True))
    points_fen, wallet_fen, cash_fen = part[len(codes) :]
    qty = ln.quantity
    return LineRefund(
        ref=ln.ref,
        quantity=q if ln.ref != SHIPPING_REF else 0,
        gross_fen=sum(part),
        net_fen=points_fen + wallet_fen + cash_fen,
        discounts={c: f for c, f in discounts.items() if f},
        points_used=ln.points_used * (done + q) // qty - ln.points_used * done // qty,
        points_fen=points_fen,
        wallet_fen=wallet_fen,
    )
