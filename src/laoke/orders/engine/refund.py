"""Refunds reverse the settlement split exactly.

Every amount recorded on a line (each benefit's discount, points used and their fen, wallet fen)
is returned in proportion to the quantity refunded, rounded down on the *cumulative* quantity:
``back(q) = amount × (done + q) // quantity − amount × done // quantity``. Successive partial
refunds therefore telescope, and the refund that completes a line returns the rest of it — so
refunding every line returns exactly what was taken, whatever the order of partial refunds. The
postage pseudo-line (its shipping discount and wallet part) comes back with the refund that
completes the whole order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

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


def _line_part(ln: LineResult, done: int, q: int) -> LineRefund:
    qty = ln.quantity

    def back(amount: int) -> int:
        return amount * (done + q) // qty - amount * done // qty

    discounts = {code: back(fen) for code, fen in ln.discounts.items()}
    gross = back(ln.gross_fen)
    return LineRefund(
        ref=ln.ref,
        quantity=q if ln.ref != SHIPPING_REF else 0,
        gross_fen=gross,
        net_fen=gross - sum(discounts.values()),
        discounts={c: f for c, f in discounts.items() if f},
        points_used=back(ln.points_used),
        points_fen=back(ln.points_fen),
        wallet_fen=back(ln.wallet_fen),
    )
