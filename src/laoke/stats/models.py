"""Running member statistics: the figures tiers, segments and reports read without scanning orders.

One row per member (and per group account), kept in the same transaction as the event that
changes it by guarded ``F()`` updates — never read-modify-save. Issue 4 (settlement) adds the
order-derived figures of SPEC section 8; the value core needs spend, recharge and order count for
tier entry rules; settlement (issue 4) adds what a member saved (``discount_total_fen``: every
benefit of every order, net of refunds) and what they buy (``MemberCategoryStats``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.catalog.models import Category
from laoke.members.models import GroupAccount, Member


class _Totals(models.Model):
    spend_total_fen = models.BigIntegerField(_("cumulative spend (fen)"), default=0)
    recharge_total_fen = models.BigIntegerField(_("cumulative recharge (fen)"), default=0)
    order_count = models.IntegerField(_("orders"), default=0)
    discount_total_fen = models.BigIntegerField(_("cumulative discount (fen)"), default=0)
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)
    last_recharge_at = models.DateTimeField(_("last recharge"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        abstract = True

    @classmethod
    def non_negative(cls, prefix: str) -> list[models.CheckConstraint]:
        return [
            models.CheckConstraint(
                condition=Q(spend_total_fen__gte=0)
                & Q(recharge_total_fen__gte=0)
                & Q(order_count__gte=0)
                & Q(discount_total_fen__gte=0),
                name=f"{prefix}_non_negative",
            )
        ]


class MemberStats(_Totals):
    member = models.OneToOneField(
        Member, on_delete=models.CASCADE, primary_key=True, related_name="stats", verbose_name=_("member")
    )
    # Model scores (segments read them; the analytics issue computes them): NULL until computed.
    rfm_r = models.SmallIntegerField(_("RFM recency score"), null=True, blank=True)
    rfm_f = models.SmallIntegerField(_("RFM frequency score"), null=True, blank=True)
    rfm_m = models.SmallIntegerField(_("RFM monetary score"), null=True, blank=True)
    rfm_segment = models.CharField(_("RFM segment"), max_length=32, null=True, blank=True)
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)
    expected_purchases_90d = models.FloatField(_("expected purchases in 90 days"), null=True, blank=True)
    clv_fen = models.BigIntegerField(_("predicted CLV (fen)"), null=True, blank=True)
    scores_at = models.DateTimeField(_("scores computed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member statistics")
        verbose_name_plural = _("member statistics")
        constraints = [
            *_Totals.non_negative("memberstats"),
            models.CheckConstraint(
                condition=(Q(rfm_r__isnull=True) | Q(rfm_r__gte=1, rfm_r__lte=5))
                & (Q(rfm_f__isnull=True) | Q(rfm_f__gte=1, rfm_f__lte=5))
                & (Q(rfm_m__isnull=True) | Q(rfm_m__gte=1, rfm_m__lte=5)),
                name="memberstats_rfm_1_5",
            ),
            models.CheckConstraint(
                condition=Q(p_alive__isnull=True) | Q(p_alive__gte=0, p_alive__lte=1),
                name="memberstats_p_alive_0_1",
            ),
            models.CheckConstraint(
                condition=Q(expected_purchases_90d__isnull=True) | Q(expected_purchases_90d__gte=0),
                name="memberstats_expected_purchases_non_negative",
            ),
        ]


class GroupStats(_Totals):
    group_account = models.OneToOneField(
        GroupAccount,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="stats",
        verbose_name=_("group account"),
    )

    class Meta:
        verbose_name = _("group statistics")
        verbose_name_plural = _("group statistics")
        constraints = _Totals.non_negative("groupstats")


class _Month(models.Model):
    """One calendar month (shop time) of a member's figures, for windows such as "the last 12
    months" (tier downgrade policies) without scanning orders. ``month`` is the first day of the
    month. A month's net may be negative: a refund in March of a February order is booked in March
    (the running totals above stay non-negative)."""

    month = models.DateField(_("month"))
    spend_fen = models.BigIntegerField(_("spend (fen)"), default=0)
    recharge_fen = models.BigIntegerField(_("recharge (fen)"), default=0)
    orders = models.IntegerField(_("orders"), default=0)

    class Meta:
        abstract = True


class MemberMonthStats(_Month):
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="month_stats", verbose_name=_("member")
    )

    class Meta:
        verbose_name = _("member monthly statistics")
        verbose_name_plural = _("member monthly statistics")
        constraints = [
            models.UniqueConstraint(fields=["member", "month"], name="membermonthstats_uniq"),
            models.CheckConstraint(condition=Q(month__day=1), name="membermonthstats_first_day"),
        ]


class GroupMonthStats(_Month):
    group_account = models.ForeignKey(
        GroupAccount, on_delete=models.CASCADE, related_name="month_stats", verbose_name=_("group account")
    )

    class Meta:
        verbose_name = _("group monthly statistics")
        verbose_name_plural = _("group monthly statistics")
        constraints = [
            models.UniqueConstraint(fields=["group_account", "month"], name="groupmonthstats_uniq"),
            models.CheckConstraint(condition=Q(month__day=1), name="groupmonthstats_first_day"),
        ]


class MemberCategoryStats(models.Model):
    """What a member bought in one category (the line's own category, not its ancestors): net
    spend and units after refunds, and when they last bought there."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="category_stats", verbose_name=_("member")
    )
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="+", verbose_name=_("category")
    )
    spend_fen = models.BigIntegerField(_("spend (fen)"), default=0)
    quantity = models.IntegerField(_("quantity"), default=0)
    last_bought_at = models.DateTimeField(_("last bought"), null=True, blank=True)

    class Meta:
        verbose_name = _("member category statistics")
        verbose_name_plural = _("member category statistics")
        constraints = [
            models.UniqueConstraint(fields=["member", "category"], name="membercategorystats_uniq"),
            models.CheckConstraint(
                condition=Q(spend_fen__gte=0) & Q(quantity__gte=0), name="membercategorystats_non_negative"
            ),
        ]
