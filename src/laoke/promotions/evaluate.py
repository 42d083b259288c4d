"""What a coupon is worth on given cart lines: a pure function the settlement engine calls.

``evaluate(template_or_coupon, lines)`` reads only the template's fields and the lines it is
given (no database, no clock): the engine passes the line amounts *after* whatever it applied
before, and the threshold is tested on that eligible subtotal. Percentages are basis points off,
rounded half-up per line; a cap or a fixed amount is split over the eligible lines by largest
remainder (so a refund can reverse it per line); a discount never exceeds the eligible subtotal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from laoke.core.money import apply_bp, fen_to_yuan, split_largest_remainder

from .models import CouponKind, CouponTemplate


@dataclass(frozen=True)
class Line:
    sku: str
    amount_fen: int  # the line's amount as the engine has it now (unit price × quantity − earlier discounts)
    quantity: int = 1
    eligible: bool = True  # False for lines no coupon may touch (e.g. member special sales)


@dataclass
class Evaluation:
    applicable: bool
    amount_fen: int = 0
    line_discounts: list[int] = field(default_factory=list)  # aligned with the lines given
    free_shipping: bool = False
    gift_id: int | None = None
    eligible_subtotal_fen: int = 0
    explanation: dict[str, str] = field(default_factory=dict)  # {"zh-hans": …, "en": …}


def _y(fen: int) -> str:
    return f"{fen_to_yuan(fen)}"


def _explain(zh: str, en: str) -> dict[str, str]:
    return {"zh-hans": zh, "en": en}


def evaluate(subject, lines: Sequence[Line]) -> Evaluation:
    tpl: CouponTemplate = getattr(subject, "template", subject)
    if tpl.kind == CouponKind.COMBO:
        skus = set(tpl.product_skus or [])
        mask = [ln.eligible and ln.sku in skus for ln in lines]
    else:
        mask = [ln.eligible for ln in lines]
    eligible_amounts = [ln.amount_fen if m else 0 for ln, m in zip(lines, mask, strict=True)]
    subtotal = sum(eligible_amounts)
    zero = [0] * len(lines)
    if tpl.kind == CouponKind.COMBO and subtotal == 0:
        return Evaluation(
            False,
            line_discounts=zero,
            explanation=_explain("购物车中没有该券指定的商品", "No line holds a product this voucher names"),
        )
    if subtotal < tpl.threshold_fen or subtotal == 0:
        short = tpl.threshold_fen - subtotal
        return Evaluation(
            False,
            line_discounts=zero,
            eligible_subtotal_fen=subtotal,
            explanation=_explain(
                f"可用商品金额 ¥{_y(subtotal)}，未满 ¥{_y(tpl.threshold_fen)}，还差 ¥{_y(max(short, 0))}",
                f"Eligible amount ¥{_y(subtotal)} is under the ¥{_y(tpl.threshold_fen)} threshold "
                f"(¥{_y(max(short, 0))} short)",
            ),
        )
    if tpl.kind == CouponKind.FREE_SHIPPING:
        return Evaluation(
            True,
            line_discounts=zero,
            free_shipping=True,
            eligible_subtotal_fen=subtotal,
            explanation=_explain("包邮卡：本单免运费", "Free-shipping card: no shipping fee on this order"),
        )
    if tpl.kind == CouponKind.GIFT:
        name = tpl.gift.name if tpl.gift_id else ""
        return Evaluation(
            True,
            line_discounts=zero,
            gift_id=tpl.gift_id,
            eligible_subtotal_fen=subtotal,
            explanation=_explain(f"赠品：{name}", f"Gift: {name}"),
        )
    if tpl.kind == CouponKind.PERCENT:
        per_line = [apply_bp(a, tpl.rate_off_bp) for a in eligible_amounts]
        total = sum(per_line)
        pct = f"{tpl.rate_off_bp / 100:g}%"
        zh = f"满 ¥{_y(tpl.threshold_fen)} 减 {pct}：可用金额 ¥{_y(subtotal)}，优惠 ¥{_y(total)}"
        en = f"{pct} off over ¥{_y(tpl.threshold_fen)}: ¥{_y(total)} off ¥{_y(subtotal)}"
        if tpl.cap_fen is not None and total > tpl.cap_fen:
            total = tpl.cap_fen
            per_line = split_largest_remainder(total, eligible_amounts)
            zh += f"，封顶 ¥{_y(total)}"
            en += f", capped at ¥{_y(total)}"
        return Evaluation(True, total, per_line, eligible_subtotal_fen=subtotal, explanation=_explain(zh, en))
    # FIXED and COMBO: an amount off, never more than the eligible subtotal.
    total = min(tpl.amount_off_fen, subtotal)
    per_line = split_largest_remainder(total, eligible_amounts)
    if tpl.kind == CouponKind.COMBO:
        zh = f"组合抵价券：指定商品 ¥{_y(subtotal)}，抵 ¥{_y(total)}"
        en = f"Combination voucher: ¥{_y(total)} off ¥{_y(subtotal)} of named products"
    else:
        zh = f"满 ¥{_y(tpl.threshold_fen)} 减 ¥{_y(tpl.amount_off_fen)}：可用金额 ¥{_y(subtotal)}，优惠 ¥{_y(total)}"
        en = f"¥{_y(tpl.amount_off_fen)} off over ¥{_y(tpl.threshold_fen)}: ¥{_y(total)} off ¥{_y(subtotal)}"
    if total < tpl.amount_off_fen:
        zh += "（不超过可用金额）"
        en += " (limited to the eligible amount)"
    return Evaluation(True, total, per_line, eligible_subtotal_fen=subtotal, explanation=_explain(zh, en))
