"""Money is integer fen (分); rates are integer basis points (1 bp = 0.01%).

Nothing here uses floats. Rounding is half-up to the fen (ARCHITECTURE rule 9); order-level
amounts are split over lines by the largest-remainder method so the parts always add up.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext

BP_ONE = 10_000  # 100% in basis points


class MoneyFormatError(ValueError):
    pass


def yuan_to_fen(value: str | int | Decimal) -> int:
    """'12.34' → 1234. Rejects more than two decimals and non-numbers (no silent rounding)."""
    if isinstance(value, float):
        raise MoneyFormatError("floats are not accepted for money; pass a string or Decimal")
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise MoneyFormatError(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise MoneyFormatError(f"not an amount: {value!r}")
    fen = d * 100
    if fen != fen.to_integral_value():
        raise MoneyFormatError(f"more than two decimals: {value!r}")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_yuan(fen: int) -> str:
    """1234 → '¥12.34'."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{fen_to_yuan(abs(fen))}"


def rate_label(bp: int) -> str:
    """A price rate as a shop says it: 9500 → '95折' ('95% of the list price' in English),
    9250 → '92.5折', 10000 → no discount."""
    if bp >= BP_ONE:
        return gettext("no discount")
    pct = (Decimal(bp) / 100).normalize()
    return gettext("%(pct)s%% of the list price") % {"pct": f"{pct:f}"}


def half_up_div(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero, exact for any ints."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def apply_bp(amount_fen: int, rate_bp: int) -> int:
    """amount × rate, rounded half-up to the fen. apply_bp(1999, 9500) == 1899 (95折)."""
    return half_up_div(amount_fen * rate_bp, BP_ONE)


def split_largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` fen in proportion to ``weights`` so that the parts sum to ``total``.

    Each part gets the floor of its exact share; the fen left over go one each to the parts with
    the largest remainders (ties to the earlier part), so the split is deterministic and a refund
    can reverse it exactly.
    """
    if total < 0:
        raise ValueError("total must be >= 0")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be >= 0")
    wsum = sum(weights)
    if wsum == 0:
        if total == 0:
            return [0] * len(weights)
        raise ValueError("cannot split a positive total over zero weights")
    parts = []
    remainders = []
    for i, w in enumerate(weights):
        q, r = divmod(total * w, wsum)
        parts.append(q)
        remainders.append((-r, i))
    left = total - sum(parts)
    for _, i in sorted(remainders)[:left]:
        parts[i] += 1
    return parts
