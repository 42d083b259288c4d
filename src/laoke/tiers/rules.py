"""Entry rules as strategy classes in a registry (ARCHITECTURE rule 9).

A rule reads one figure of the owner's ``Figures`` and compares it with the level's threshold;
``apply()`` returns a ``RuleResult`` (met, figure, threshold) that the history and the API can
show. Figures are gathered once per evaluation (``figures_for``): lifetime totals from
``laoke.stats`` for a programme that never downgrades, the rolling 12-calendar-month window of
the monthly buckets for one that reviews (so an upgrade and the review that may undo it measure
the same thing), and the points balance from the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from laoke.ledger.models import Account
from laoke.members.models import GroupAccount, Member
from laoke.stats.selectors import group_stats, member_stats, window_totals

from .models import DowngradePolicy, RuleKind, TierLevel, TierProgramme


@dataclass(frozen=True)
class Figures:
    spend_fen: int = 0
    recharge_fen: int = 0
    orders: int = 0
    points: int = 0


@dataclass(frozen=True)
class RuleResult:
    met: bool
    figure: int | None
    threshold: int


class EntryRule:
    kind: ClassVar[str]
    attribute: ClassVar[str | None] = None

    def figure(self, figures: Figures) -> int | None:
        return getattr(figures, self.attribute) if self.attribute else None

    def apply(self, level: TierLevel, figures: Figures) -> RuleResult:
        value = self.figure(figures)
        return RuleResult(value is not None and value >= level.threshold, value, level.threshold)


class CumulativeSpend(EntryRule):
    kind = RuleKind.CUMULATIVE_SPEND
    attribute = "spend_fen"


class CumulativeRecharge(EntryRule):
    kind = RuleKind.CUMULATIVE_RECHARGE
    attribute = "recharge_fen"


class PointsBalance(EntryRule):
    kind = RuleKind.POINTS_BALANCE
    attribute = "points"


class OrderCount(EntryRule):
    kind = RuleKind.ORDER_COUNT
    attribute = "orders"


class ManualGrant(EntryRule):
    """Never met by figures: the level is reached only by ``tier_grant``."""

    kind = RuleKind.MANUAL

    def apply(self, level: TierLevel, figures: Figures) -> RuleResult:
        return RuleResult(False, None, level.threshold)


REGISTRY: dict[str, EntryRule] = {
    rule.kind: rule()
    for rule in (CumulativeSpend, CumulativeRecharge, PointsBalance, OrderCount, ManualGrant)
}


def rule_for(level: TierLevel) -> EntryRule:
    return REGISTRY[level.rule_kind]


def uses_window(programme: TierProgramme) -> bool:
    return programme.downgrade_policy != DowngradePolicy.NEVER


def figures_for(
    *,
    programme: TierProgramme,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    today: date,
    months: int = 13,
    levels: list[TierLevel] | None = None,
) -> Figures:
    """The owner's figures for ``programme``; with ``levels`` given, the points balance is read only
    if one of them is a points rule (one query saved on every evaluation of the usual programme)."""
    owner = {"member": member} if member is not None else {"group_account": group_account}
    points = 0
    if levels is None or any(lv.rule_kind == RuleKind.POINTS_BALANCE for lv in levels):
        points = (
            Account.objects.filter(kind=Account.Kind.POINTS, **owner)
            .values_list("balance", flat=True)
            .first()
            or 0
        )
    if uses_window(programme):
        w = window_totals(**owner, today=today, months=months)
        return Figures(w.spend_fen, w.recharge_fen, w.orders, points)
    s = member_stats(member) if member is not None else group_stats(group_account)
    return Figures(s.spend_total_fen, s.recharge_total_fen, s.order_count, points)


def best_level(levels: list[TierLevel], figures: Figures) -> TierLevel | None:
    """The highest-ranked level whose rule the figures meet (levels in any order)."""
    met = [lv for lv in levels if rule_for(lv).apply(lv, figures).met]
    return max(met, key=lambda lv: lv.rank) if met else None
