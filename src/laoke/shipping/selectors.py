"""Reads of shipping rules: rule sets, the active tariff, a member's kind."""

from __future__ import annotations

from laoke.core import clock
from laoke.stats.selectors import member_stats, window_totals
from laoke.tiers.selectors import current_level

from .error_codes import SHIPPING_NO_ACTIVE_RULE_SET
from .models import MemberKind, ShippingRuleSet
from .quote import RuleSpec, Tariff


def rule_set_list():
    return ShippingRuleSet.objects.prefetch_related("rules", "rates", "regions").order_by("pk")


def active_rule_set() -> ShippingRuleSet | None:
    return ShippingRuleSet.objects.filter(is_active=True).first()


def tariff_of(rule_set: ShippingRuleSet) -> Tariff:
    return Tariff(
        code=rule_set.code,
        rates={(r.courier, r.region_group): r.postage_fen for r in rule_set.rates.all()},
        regions={r.province: r.region_group for r in rule_set.regions.all()},
        rules=tuple(
            RuleSpec(
                rank=r.rank,
                code=r.code,
                name=r.name,
                member=r.member,
                region=r.region,
                min_subtotal_fen=r.min_subtotal_fen,
                outcome=r.outcome,
                amount_fen=r.amount_fen,
                gift_alternative=r.gift_alternative,
            )
            for r in sorted(rule_set.rules.all(), key=lambda r: r.rank)
        ),
        old_customer_min_orders=rule_set.old_customer_min_orders,
        old_customer_window_months=rule_set.old_customer_window_months,
    )


def active_tariff() -> Tariff:
    """The active rule set as a tariff (4 queries); SHIPPING_NO_ACTIVE_RULE_SET without one."""
    from laoke.core.errors import DomainError

    rule_set = active_rule_set()
    if rule_set is None:
        raise DomainError(SHIPPING_NO_ACTIVE_RULE_SET)
    return tariff_of(rule_set)


def member_kind_of(*, member, tariff: Tariff) -> str:
    """Old customer (老客户): at least ``old_customer_min_orders`` orders in the member's
    statistics — ever, or within the last ``old_customer_window_months`` calendar months (shop
    time). A member with fewer is a new customer; no member is a non-member. Which orders count
    is what the orders app books into ``stats`` (completed orders); call this before the order
    being settled is booked."""
    if member is None:
        return MemberKind.NON_MEMBER
    if tariff.old_customer_window_months is None:
        orders = member_stats(member).order_count
    else:
        orders = window_totals(
            member=member, today=clock.today(), months=tariff.old_customer_window_months
        ).orders
    return MemberKind.OLD if orders >= tariff.old_customer_min_orders else MemberKind.NEW


def tier_free_shipping_of(*, member) -> bool:
    """Whether the level that prices ``member`` (own or group's, tiers.current_level) includes
    free shipping; no member, no level → False."""
    if member is None:
        return False
    level = current_level(member=member)
    return bool(level and level.free_shipping)
