"""Earn rules as strategy classes in a registry (ARCHITECTURE rule 9) and the pure quote.

How a line's points are computed (docs/decisions/0013-points.md):

1. **Exclusion** — a member special-sale line (会员特价) earns nothing; no other rule is looked at.
   A matching rule with multiplier 0 is an exclusion too (e.g. "no points on tobacco").
2. **Base** — ``points_per_yuan`` per full yuan paid, rounded down (programme setting: down or
   half-up) per line: 19.99元 at 1 point/元 → 19 points.
3. **Multipliers** — tier (the member's level, from ``laoke.tiers``), category (the rule's category
   or any sub-category), member day (a weekday or a day of the month, shop time), campaign (the
   order's campaign code). Within one kind the strongest matching rule wins (two overlapping
   category rules do not stack); across kinds the *extra* parts **add**:
   ``total = 10000 + Σ (best_bp_of_kind − 10000)``. Tier 1.5× with member day 2× is 2.5×, not 3×:
   stacked promotions stay predictable and bounded, and the order of rules never matters.
4. ``points = half_up(base × total_bp / 10000)`` per line.

Every line comes back with what applied and why each other rule did not.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from django.utils.translation import gettext as _

from laoke.catalog.models import Category
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.money import BP_ONE, format_yuan, half_up_div
from laoke.members.models import Member

from .error_codes import POINTS_LINE_INVALID
from .models import EarnRule, PointsProgramme


@dataclass(frozen=True)
class EarnLine:
    """One order line as settlement sees it."""

    ref: str
    paid_fen: int
    product_id: int | None = None
    category_id: int | None = None
    special_sale: bool = False


@dataclass
class LineResult:
    ref: str
    paid_fen: int
    base: int = 0
    multiplier_bp: int = BP_ONE
    points: int = 0
    applied: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def text(self) -> str:
        """One line a cashier can read out: how this line's points were computed."""
        yuan = format_yuan(self.paid_fen)
        if self.multiplier_bp == 0 or not self.applied:
            why = "; ".join(s["why"] for s in self.skipped[:1]) or (
                self.applied[0]["why"] if self.applied else ""
            )
            return _("%(ref)s: %(yuan)s, no points (%(why)s)") % {"ref": self.ref, "yuan": yuan, "why": why}
        parts = ", ".join(f"{_times(a['bp'])} {a['why']}" for a in self.applied if a["rule"] != "base")
        if not parts:
            return _("%(ref)s: %(yuan)s → %(points)s point(s) (%(why)s)") % {
                "ref": self.ref,
                "yuan": yuan,
                "points": self.points,
                "why": self.applied[0]["why"],
            }
        return _("%(ref)s: %(yuan)s → %(base)s base point(s) × %(mult)s%(parts)s = %(points)s") % {
            "ref": self.ref,
            "yuan": yuan,
            "base": self.base,
            "mult": _times(self.multiplier_bp),
            "parts": f" ({parts})" if parts else "",
            "points": self.points,
        }

    def as_dict(self) -> dict:
        return {
            "text": self.text(),
            "ref": self.ref,
            "paid_fen": self.paid_fen,
            "base": self.base,
            "multiplier_bp": self.multiplier_bp,
            "points": self.points,
            "applied": self.applied,
            "skipped": self.skipped,
        }


@dataclass
class EarnQuote:
    lines: list[LineResult]
    tier_code: str = ""

    @property
    def points(self) -> int:
        return sum(r.points for r in self.lines)

    def as_list(self) -> list[dict]:
        return [r.as_dict() for r in self.lines]

    def text(self) -> str:
        return "\n".join([*(r.text() for r in self.lines), _("Total: %(n)s point(s)") % {"n": self.points}])


def _times(bp: int) -> str:
    """15000 → '1.5×', 20000 → '2×'."""
    whole, frac = divmod(bp, BP_ONE)
    return f"{whole}.{str(frac).rjust(4, '0').rstrip('0')}×" if frac else f"{whole}×"


@dataclass
class Context:
    programme: PointsProgramme
    at: datetime
    campaign: str
    tier_bp: int
    tier_code: str
    category_paths: dict[int, str]

    @property
    def local(self) -> datetime:
        return clock.to_local(self.at)


class Strategy(ABC):
    """A rule type. ``matches`` says whether a rule applies to a line (and why not);
    ``apply`` returns the multiplier in basis points."""

    kind: ClassVar[str]

    @abstractmethod
    def matches(self, rule: EarnRule, line: EarnLine, ctx: Context) -> tuple[bool, str]:
        """Whether ``rule`` applies to ``line``, and the reason shown either way."""

    def apply(self, rule: EarnRule, line: EarnLine, ctx: Context) -> int:
        return rule.multiplier_bp


REGISTRY: dict[str, Strategy] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    REGISTRY[cls.kind] = cls()
    return cls


@register
class CategoryMultiplier(Strategy):
    kind = EarnRule.Kind.CATEGORY

    def matches(self, rule, line, ctx):
        path = ctx.category_paths.get(line.category_id) if line.category_id else None
        rule_path = ctx.category_paths.get(rule.category_id, "")
        if path and rule_path and path.startswith(rule_path):
            return True, _("line is in category %(c)s") % {"c": rule.category_id}
        return False, _("line is not in category %(c)s") % {"c": rule.category_id}


@register
class MemberDayMultiplier(Strategy):
    kind = EarnRule.Kind.MEMBER_DAY

    def matches(self, rule, line, ctx):
        local = ctx.local
        if rule.weekday and local.isoweekday() == rule.weekday:
            return True, _("member day: weekday %(d)s") % {"d": rule.weekday}
        if rule.day_of_month and local.day == rule.day_of_month:
            return True, _("member day: day %(d)s of the month") % {"d": rule.day_of_month}
        return False, _("%(date)s is not the member day") % {"date": local.date().isoformat()}


@register
class CampaignMultiplier(Strategy):
    kind = EarnRule.Kind.CAMPAIGN

    def matches(self, rule, line, ctx):
        if ctx.campaign and ctx.campaign == rule.campaign_code:
            return True, _("campaign %(c)s") % {"c": rule.campaign_code}
        return False, _("the order is not from campaign %(c)s") % {"c": rule.campaign_code}


def base_points(paid_fen: int, programme: PointsProgramme) -> int:
    raw = paid_fen * programme.points_per_yuan
    if programme.rounding == PointsProgramme.Rounding.HALF_UP:
        return half_up_div(raw, 100)
    return raw // 100


def tier_multiplier(member: Member | None) -> tuple[int, str]:
    """(multiplier in bp, level code) of the member's current tier level; 1× without one."""
    if member is None:
        return BP_ONE, ""
    try:
        from laoke.tiers.selectors import current_level
    except ImportError:  # the tiers app is not there yet
        return BP_ONE, ""
    level = current_level(member=member)
    if level is None:
        return BP_ONE, ""
    return int(level.points_multiplier_bp), str(level.code)


def check_lines(lines: list[EarnLine]) -> None:
    seen = set()
    for line in lines:
        if not isinstance(line.ref, str) or not line.ref or len(line.ref) > 64:
            raise DomainError(POINTS_LINE_INVALID, field="lines", ref=str(line.ref)[:64], why="ref")
        if line.ref in seen:
            raise DomainError(POINTS_LINE_INVALID, field="lines", ref=line.ref, why="duplicate ref")
        seen.add(line.ref)
        if isinstance(line.paid_fen, bool) or not isinstance(line.paid_fen, int) or line.paid_fen < 0:
            raise DomainError(POINTS_LINE_INVALID, field="lines", ref=line.ref, why="paid_fen")
        if line.paid_fen > 10**12:
            raise DomainError(POINTS_LINE_INVALID, field="lines", ref=line.ref, why="paid_fen")


def quote(
    *,
    programme: PointsProgramme,
    lines: list[EarnLine],
    member: Member | None = None,
    at: datetime | None = None,
    campaign: str = "",
    rules: list[EarnRule] | None = None,
    tier: tuple[int, str] | None = None,
) -> EarnQuote:
    """Points a purchase would earn, line by line, with the reasons. Reads rules and categories,
    writes nothing."""
    check_lines(lines)
    at = at or clock.now()
    if rules is None:
        rules = list(programme.rules.filter(is_active=True).order_by("pk"))
    rules = [
        r
        for r in rules
        if r.is_active
        and (r.valid_from is None or r.valid_from <= at)
        and (r.valid_until is None or at < r.valid_until)
    ]
    tier_bp, tier_code = tier if tier is not None else tier_multiplier(member)
    cat_ids = {line.category_id for line in lines if line.category_id} | {
        r.category_id for r in rules if r.category_id
    }
    paths = dict(Category.objects.filter(pk__in=cat_ids).values_list("pk", "path")) if cat_ids else {}
    ctx = Context(programme, at, campaign or "", tier_bp, tier_code, paths)
    results = []
    for line in lines:
        res = LineResult(ref=line.ref, paid_fen=line.paid_fen)
        results.append(res)
        if line.special_sale:
            res.skipped.append({"rule": "special_sale", "why": _("member special sale: earns no points")})
            for rule in rules:
                res.skipped.append({"rule": rule.kind, "name": rule.name, "why": _("line is excluded")})
            res.multiplier_bp = 0
            continue
        res.base = base_points(line.paid_fen, programme)
        res.applied.append(
            {
                "rule": "base",
                "bp": BP_ONE,
                "why": _("%(n)s point(s) per yuan") % {"n": programme.points_per_yuan},
            }
        )
        extras: dict[str, tuple[int, EarnRule | None]] = {}
        if tier_bp != BP_ONE:
            extras["tier"] = (tier_bp, None)
            res.applied.append(
                {"rule": "tier", "bp": tier_bp, "why": _("tier level %(c)s") % {"c": tier_code}}
            )
        excluded_by = None
        matched: list[tuple[EarnRule, str]] = []
        for rule in rules:
            ok, why = REGISTRY[rule.kind].matches(rule, line, ctx)
            if not ok:
                res.skipped.append({"rule": rule.kind, "name": rule.name, "why": why})
                continue
            bp = REGISTRY[rule.kind].apply(rule, line, ctx)
            if bp == 0:
                excluded_by = (rule, why)
            matched.append((rule, why))
            best = extras.get(rule.kind)
            if best is None or bp > best[0]:
                extras[rule.kind] = (bp, rule)
        if excluded_by is not None:
            rule, why = excluded_by
            res.applied = [{"rule": rule.kind, "name": rule.name, "bp": 0, "why": why}]
            res.multiplier_bp = 0
            continue
        for rule, why in matched:
            best_bp, best_rule = extras[rule.kind]
            if best_rule is rule:
                res.applied.append({"rule": rule.kind, "name": rule.name, "bp": best_bp, "why": why})
            else:
                res.skipped.append(
                    {
                        "rule": rule.kind,
                        "name": rule.name,
                        "why": _("a stronger %(k)s rule applied (%(bp)s bp)")
                        % {"k": rule.kind, "bp": best_bp},
                    }
                )
        total = BP_ONE + sum(bp - BP_ONE for bp, _r in extras.values())
        res.multiplier_bp = max(total, 0)
        res.points = half_up_div(res.base * res.multiplier_bp, BP_ONE)
    return EarnQuote(lines=results, tier_code=tier_code)


def spendable_fen(lines: list[EarnLine]) -> int:
    """What of an order may be paid with points: special-sale lines may not (SPEC 3)."""
    check_lines(lines)
    return sum(line.paid_fen for line in lines if not line.special_sale)
