"""What the engine returns: per line and per stage, what applied, how much, and why not."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_noop

from laoke.core.money import format_yuan

# Structured reasons: a stable code, its parameters, and a text translated when it is read (msgids
# marked for makemessages; the lead translates them into zh-hans in the .po files).
REASON_TEXTS = {
    "applied": gettext_noop("applied"),
    "threshold_not_met": gettext_noop("needs %(threshold)s on eligible goods, has %(base)s"),
    "not_eligible": gettext_noop("not eligible"),
    "capped": gettext_noop("capped at %(cap)s"),
    "capped_by_subtotal": gettext_noop("capped at the eligible amount %(cap)s"),
    "group_purchase": gettext_noop("group purchase: no member benefits"),
    "not_member": gettext_noop("members only"),
    "special_sale": gettext_noop("special-sale line: excluded"),
    "not_stackable": gettext_noop("cannot be combined; %(chosen)s gives more"),
    "gift_not_in_cart": gettext_noop("the gift was not added to the cart"),
    "no_price": gettext_noop("no such price for this line"),
    "not_lower": gettext_noop("not lower than the current price"),
    "no_postage": gettext_noop("no postage to reduce"),
    "not_asked": gettext_noop("not asked"),
    "points_capped": gettext_noop("points limited to %(cap)s of eligible goods"),
    "wallet_capped": gettext_noop("wallet limited to %(cap)s"),
}


@dataclass(frozen=True)
class Reason:
    code: str
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, code: str, **params) -> Reason:
        if code not in REASON_TEXTS:
            raise KeyError(code)
        return cls(code, tuple(sorted(params.items())))

    @property
    def text(self) -> str:
        shown = {
            k: format_yuan(v) if k in _MONEY_PARAMS and isinstance(v, int) else v for k, v in self.params
        }
        return (
            gettext(str(REASON_TEXTS[self.code])) % shown if shown else gettext(str(REASON_TEXTS[self.code]))
        )

    def as_dict(self) -> dict:
        return {"code": self.code, "params": dict(self.params), "text": self.text}


_MONEY_PARAMS = frozenset({"threshold", "base", "cap"})


@dataclass
class BenefitOutcome:
    """One benefit (or built-in price stage) in one stage: its amount, split per line ref."""

    code: str
    stage: str
    kind: str
    amount_fen: int = 0
    allocations: dict[str, int] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)
    granted: int = 0  # gifts: units granted (also for grants outside the cart)

    @property
    def applied(self) -> bool:
        return self.amount_fen > 0 or self.granted > 0

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "stage": self.stage,
            "kind": self.kind,
            "applied": self.applied,
            "amount_fen": self.amount_fen,
            "granted": self.granted,
            "allocations": dict(self.allocations),
            "reasons": [r.as_dict() for r in self.reasons],
        }


@dataclass
class StageResult:
    stage: str
    input_fen: int
    discount_fen: int = 0
    outcomes: list[BenefitOutcome] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "stage": self.stage,
            "input_fen": self.input_fen,
            "discount_fen": self.discount_fen,
            "outcomes": [o.as_dict() for o in self.outcomes],
        }


@dataclass
class LineResult:
    ref: str
    quantity: int
    unit_price_fen: int
    gross_fen: int
    net_fen: int = 0
    product_id: int | None = None
    category_id: int | None = None
    special_sale: bool = False
    earns_points: bool = False
    points_payable: bool = False
    discounts: dict[str, int] = field(default_factory=dict)  # benefit code → fen taken on this line
    stage_inputs: dict[str, int] = field(default_factory=dict)
    points_used: int = 0
    points_fen: int = 0
    wallet_fen: int = 0
    reasons: list[tuple[str, Reason]] = field(default_factory=list)  # (stage, why not)

    @property
    def cash_fen(self) -> int:
        return self.net_fen - self.points_fen - self.wallet_fen

    def text(self) -> str:
        """One line a cashier can read out: 'a × 2: ¥100.00 − tier ¥5.00 − c10 ¥9.50 = ¥85.50'."""
        off = "".join(f" − {code} {format_yuan(fen)}" for code, fen in self.discounts.items())
        out = gettext("%(ref)s × %(qty)s: %(gross)s%(off)s = %(net)s") % {
            "ref": self.ref,
            "qty": self.quantity,
            "gross": format_yuan(self.gross_fen),
            "off": off,
            "net": format_yuan(self.net_fen),
        }
        why = "; ".join(f"{stage}: {r.text}" for stage, r in self.reasons)
        return f"{out} ({why})" if why else out

    def as_dict(self) -> dict:
        return {
            "text": self.text(),
            "ref": self.ref,
            "quantity": self.quantity,
            "unit_price_fen": self.unit_price_fen,
            "gross_fen": self.gross_fen,
            "net_fen": self.net_fen,
            "special_sale": self.special_sale,
            "earns_points": self.earns_points,
            "discounts": dict(self.discounts),
            "stage_inputs": dict(self.stage_inputs),
            "points_used": self.points_used,
            "points_fen": self.points_fen,
            "wallet_fen": self.wallet_fen,
            "cash_fen": self.cash_fen,
            "reasons": [{"stage": s, **r.as_dict()} for s, r in self.reasons],
        }


@dataclass
class SettlementResult:
    lines: list[LineResult]
    shipping: LineResult  # the postage as a pseudo-line (ref SHIPPING_REF)
    stages: list[StageResult]
    group_purchase: bool = False
    is_member: bool = False
    points_multiplier_bp: int = 10_000

    @property
    def goods_gross_fen(self) -> int:
        return sum(ln.gross_fen for ln in self.lines)

    @property
    def goods_net_fen(self) -> int:
        return sum(ln.net_fen for ln in self.lines)

    @property
    def total_fen(self) -> int:
        """What the order costs after every discount (goods + postage), before payment split."""
        return self.goods_net_fen + self.shipping.net_fen

    @property
    def points_used(self) -> int:
        return sum(ln.points_used for ln in self.all_lines)

    @property
    def points_fen(self) -> int:
        return sum(ln.points_fen for ln in self.all_lines)

    @property
    def wallet_fen(self) -> int:
        return sum(ln.wallet_fen for ln in self.all_lines)

    @property
    def cash_fen(self) -> int:
        return self.total_fen - self.points_fen - self.wallet_fen

    @property
    def all_lines(self) -> list[LineResult]:
        return [*self.lines, self.shipping]

    def stage(self, stage: str) -> StageResult:
        return next(s for s in self.stages if s.stage == stage)

    def outcome(self, code: str) -> BenefitOutcome:
        return next(o for s in self.stages for o in s.outcomes if o.code == code)

    def benefit_totals(self) -> dict[str, int]:
        """Benefit code → fen taken off the order (what a full refund gives back)."""
        out: dict[str, int] = defaultdict(int)
        for ln in self.all_lines:
            for code, fen in ln.discounts.items():
                out[code] += fen
        return dict(out)

    def earn_lines(self) -> list[dict]:
        """The lines the points app quotes (``points.rules.EarnLine`` fields): none for a group
        purchase or a non-member; special-sale lines are flagged so they earn nothing."""
        if self.group_purchase or not self.is_member:
            return []
        return [
            {
                "ref": ln.ref,
                "paid_fen": ln.net_fen - ln.points_fen,
                "product_id": ln.product_id,
                "category_id": ln.category_id,
                "special_sale": not ln.earns_points,
            }
            for ln in self.lines
        ]

    def text(self) -> str:
        """The quote (试算) as a cashier reads it: every line, postage, payments, what is due."""
        rows = [ln.text() for ln in self.lines]
        if self.shipping.gross_fen:
            rows.append(
                gettext("postage: %(gross)s → %(net)s")
                % {"gross": format_yuan(self.shipping.gross_fen), "net": format_yuan(self.shipping.net_fen)}
            )
        rows.append(
            gettext("total %(total)s; points %(points)s (%(pfen)s), wallet %(wallet)s, to pay %(cash)s")
            % {
                "total": format_yuan(self.total_fen),
                "points": self.points_used,
                "pfen": format_yuan(self.points_fen),
                "wallet": format_yuan(self.wallet_fen),
                "cash": format_yuan(self.cash_fen),
            }
        )
        return "\n".join(rows)

    def as_dict(self) -> dict:
        return {
            "text": self.text(),
            "lines": [ln.as_dict() for ln in self.lines],
            "shipping": self.shipping.as_dict(),
            "stages": [s.as_dict() for s in self.stages],
            "goods_gross_fen": self.goods_gross_fen,
            "goods_net_fen": self.goods_net_fen,
            "total_fen": self.total_fen,
            "points_used": self.points_used,
            "points_fen": self.points_fen,
            "wallet_fen": self.wallet_fen,
            "cash_fen": self.cash_fen,
        }
