"""Shipping rules (包邮, SPEC 7): a rule set holds a postage table per courier and region group,
the provinces of each non-ordinary region group, and rules by member kind, order amount,
courier and region. One rule set is active at a time (partial unique index).

See ``quote.py`` for how a quote is computed and docs/decisions/0015-shipping.md for why.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Courier(models.TextChoices):
    NORMAL = "normal", _("normal courier")
    SF = "sf", _("SF Express")
    EMS = "ems", _("EMS")


class RegionGroup(models.TextChoices):
    ORDINARY = "ordinary", _("ordinary region")
    REMOTE = "remote", _("remote region")
    HMT = "hmt", _("Hong Kong, Macao, Taiwan")
    OVERSEAS = "overseas", _("overseas")


class MemberKind(models.TextChoices):
    OLD = "old", _("old customer")
    NEW = "new", _("new customer")
    NON_MEMBER = "non_member", _("non-member")


class RuleMember(models.TextChoices):
    """Who a rule is for: a member kind, anyone, the holder of a free-shipping card, or a member
    whose tier level includes free shipping (tiers' ``TierLevel.free_shipping``)."""

    ANY = "any", _("anyone")
    OLD = "old", _("old customer")
    NEW = "new", _("new customer")
    NON_MEMBER = "non_member", _("non-member")
    CARD = "card", _("free-shipping card holder")
    TIER = "tier", _("member of a free-shipping tier level")


class RuleRegion(models.TextChoices):
    ANY = "any", _("any region")
    ORDINARY = "ordinary", _("ordinary region")
    REMOTE = "remote", _("remote region")
    HMT = "hmt", _("Hong Kong, Macao, Taiwan")
    OVERSEAS = "overseas", _("overseas")


class Outcome(models.TextChoices):
    """What a rule charges. The base is the normal courier's postage; a premium courier (SF/EMS)
    always adds the difference (its postage minus the normal courier's), except ``free_any``."""

    FREE_NORMAL = "free_normal", _("free with the normal courier (SF/EMS pay the difference)")
    FREE_ANY = "free_any", _("free with any courier")
    REDUCE = "reduce", _("postage minus an amount")
    FLAT = "flat", _("a flat amount")


class ShippingRuleSet(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("active"), default=False)
    # An old customer (老客户) has at least this many earlier orders (member statistics) …
    old_customer_min_orders = models.PositiveIntegerField(_("orders that make an old customer"), default=1)
    # … within this many calendar months (shop time); empty = ever.
    old_customer_window_months = models.PositiveSmallIntegerField(
        _("window of those orders (months, empty = ever)"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("shipping rule set")
        verbose_name_plural = _("shipping rule sets")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="shippingruleset_one_active"
            ),
            models.CheckConstraint(
                condition=Q(old_customer_min_orders__gte=1), name="shippingruleset_min_orders_positive"
            ),
            models.CheckConstraint(
                condition=Q(old_customer_window_months__isnull=True)
                | Q(old_customer_window_months__gte=1, old_customer_window_months__lte=120),
                name="shippingruleset_window_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PostageRate(models.Model):
    """Base postage of a courier to a region group (the list price before any rule)."""

    rule_set = models.ForeignKey(
        ShippingRuleSet, on_delete=models.CASCADE, related_name="rates", verbose_name=_("rule set")
    )
    courier = models.CharField(_("courier"), max_length=12, choices=Courier.choices)
    region_group = models.CharField(_("region group"), max_length=12, choices=RegionGroup.choices)
    postage_fen = models.PositiveIntegerField(_("postage (fen)"))

    class Meta:
        verbose_name = _("postage rate")
        verbose_name_plural = _("postage table")
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "courier", "region_group"], name="postagerate_uniq"),
            models.CheckConstraint(condition=Q(courier__in=Courier.values), name="postagerate_courier_valid"),
            models.CheckConstraint(
                condition=Q(region_group__in=RegionGroup.values), name="postagerate_region_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier}/{self.region_group}: {self.postage_fen}"


class RegionAssignment(models.Model):
    """A mainland province (or 香港/澳门/台湾) placed in a region group; unlisted provinces are
    ordinary. Overseas is not a province: it is any destination country other than CN."""

    rule_set = models.ForeignKey(
        ShippingRuleSet, on_delete=models.CASCADE, related_name="regions", verbose_name=_("rule set")
    )
    province = models.CharField(_("province"), max_length=20)
    region_group = models.CharField(_("region group"), max_length=12, choices=RegionGroup.choices)

    class Meta:
        verbose_name = _("region assignment")
        verbose_name_plural = _("region assignments")
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "province"], name="regionassignment_uniq"),
            models.CheckConstraint(
                condition=Q(region_group__in=[RegionGroup.REMOTE, RegionGroup.HMT]),
                name="regionassignment_group_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province}: {self.region_group}"


class ShippingRule(models.Model):
    """One rule: for whom (member kind or card), where (region), from which order amount, and
    what it charges. Every matching rule is priced; the cheapest wins (ties: lowest rank), so
    the order of rules never changes a result, only the explanation's order."""

    rule_set = models.ForeignKey(
        ShippingRuleSet, on_delete=models.CASCADE, related_name="rules", verbose_name=_("rule set")
    )
    rank = models.PositiveSmallIntegerField(pgettext_lazy("shipping rule", "rank"))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=60)
    member = models.CharField(_("for"), max_length=12, choices=RuleMember.choices)
    region = models.CharField(_("region"), max_length=12, choices=RuleRegion.choices)
    min_subtotal_fen = models.PositiveIntegerField(_("minimum order amount (fen)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    amount_fen = models.PositiveIntegerField(_("amount (fen)"), default=0)
    # 新客户: 包邮或者赠送小方巾 — this free shipping is the alternative to the threshold gift.
    gift_alternative = models.BooleanField(_("alternative to the threshold gift"), default=False)

    class Meta:
        verbose_name = _("shipping rule")
        verbose_name_plural = _("shipping rules")
        ordering = ["rule_set", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "rank"], name="shippingrule_rank_uniq"),
            models.UniqueConstraint(fields=["rule_set", "code"], name="shippingrule_code_uniq"),
            models.CheckConstraint(
                condition=Q(member__in=RuleMember.values), name="shippingrule_member_valid"
            ),
            models.CheckConstraint(
                condition=Q(region__in=RuleRegion.values), name="shippingrule_region_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="shippingrule_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[Outcome.REDUCE, Outcome.FLAT]) | Q(amount_fen=0),
                name="shippingrule_amount_only_for_reduce_flat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.name} ({self.code})"
