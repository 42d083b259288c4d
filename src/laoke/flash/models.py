"""Old-customer flash zone (老客户专享区, SPEC 6, seed 001 item 1).

- ``FlashZone``: the zone's settings, one row (pk 1, by a CHECK). Preset: 2 items a day, 10 units
  each (20 on a ``Holiday``), the price drops by ``step_bp`` of the list price every full hour from
  the daily opening time down to the item's floor, 1 unit per member, runs of 10 days, old
  customers only (``old_customer_min_orders`` paid orders in ``stats``, ever or within a window).
- ``FlashItem``: a product in a slot for one run of ``rotation_days`` days. Published items must
  have a floor price (CHECK); an item published without dates is queued and starts when its
  slot's current run ends (``flash_tick``).
- ``FlashDay``: one item's stock for one business day; ``sold`` only moves by guarded UPDATEs and
  ``0 <= sold <= units`` is a CHECK.
- ``FlashClaim``: a member's purchase of an item-day on an order; a partial unique index allows
  one active (``claimed``) claim per member and item-day.
"""

from __future__ import annotations

from datetime import time

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from laoke.catalog.models import Product
from laoke.members.models import Member

ZONE_PK = 1


class FlashZone(models.Model):
    items_per_day = models.PositiveSmallIntegerField(_("items per day"), default=2)
    units_per_day = models.PositiveIntegerField(_("units per item and day"), default=10)
    units_per_day_holiday = models.PositiveIntegerField(_("units per item on a holiday"), default=20)
    step_bp = models.PositiveIntegerField(
        _("price drop per hour (basis points of the list price)"), default=1_000
    )
    opening_time = models.TimeField(_("daily opening time (shop time)"), default=time(10, 0))
    rotation_days = models.PositiveSmallIntegerField(_("days an item stays in the zone"), default=10)
    per_member_limit = models.PositiveSmallIntegerField(_("units per member and item-day"), default=1)
    old_customers_only = models.BooleanField(_("old customers only"), default=True)
    # An old customer (老客户) has at least this many paid orders in the member statistics …
    old_customer_min_orders = models.PositiveIntegerField(_("orders that make an old customer"), default=1)
    # … within this many calendar months (shop time); empty = ever.
    old_customer_window_months = models.PositiveSmallIntegerField(
        _("window of those orders (months, empty = ever)"), null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("flash zone settings")
        verbose_name_plural = _("flash zone settings")
        constraints = [
            models.CheckConstraint(name="flash_zone_singleton", condition=Q(pk=ZONE_PK)),
            models.CheckConstraint(
                name="flash_zone_positive",
                condition=Q(items_per_day__gte=1)
                & Q(units_per_day__gte=1)
                & Q(units_per_day_holiday__gte=1)
                & Q(rotation_days__gte=1)
                & Q(per_member_limit__gte=1)
                & Q(old_customer_min_orders__gte=1),
            ),
            models.CheckConstraint(name="flash_zone_step", condition=Q(step_bp__gte=1, step_bp__lte=10_000)),
            models.CheckConstraint(
                name="flash_zone_window",
                condition=Q(old_customer_window_months__isnull=True)
                | Q(old_customer_window_months__gte=1, old_customer_window_months__lte=120),
            ),
        ]

    def __str__(self) -> str:
        return str(_("flash zone settings"))


class Holiday(models.Model):
    """A public holiday (a day off): the zone offers ``units_per_day_holiday`` units that day."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=40)
    official = models.BooleanField(
        _("official schedule"),
        default=True,
        help_text=_("Unticked: an estimate (statutory days) until the State Council publishes the year."),
    )

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class FlashItemStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    ENDED = "ended", _("run ended")
    RETIRED = "retired", _("retired")


class FlashItem(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="flash_items", verbose_name=_("product")
    )
    list_price_fen = models.PositiveBigIntegerField(_("list price when added (fen)"))
    floor_fen = models.PositiveBigIntegerField(_("floor price (fen)"), null=True, blank=True)
    slot = models.PositiveSmallIntegerField(_("slot"), default=1)
    run_start = models.DateField(_("first day"), null=True, blank=True)
    run_end = models.DateField(_("end of the run (exclusive)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FlashItemStatus.choices, default=FlashItemStatus.DRAFT
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("flash item")
        verbose_name_plural = _("flash items")
        indexes = [
            models.Index(fields=["status", "run_start", "run_end"], name="flash_item_run_idx"),
            models.Index(fields=["product", "status"], name="flash_item_product_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="flash_item_floor",
                condition=Q(floor_fen__isnull=True) | Q(floor_fen__gte=1, floor_fen__lte=F("list_price_fen")),
            ),
            models.CheckConstraint(
                name="flash_item_published_has_floor",
                condition=~Q(status="published") | Q(floor_fen__isnull=False),
            ),
            models.CheckConstraint(
                name="flash_item_run",
                condition=Q(run_start__isnull=True, run_end__isnull=True)
                | Q(run_start__isnull=False, run_end__gt=F("run_start")),
            ),
            models.CheckConstraint(name="flash_item_slot", condition=Q(slot__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.product} #{self.slot}"


class FlashDay(models.Model):
    """One item's stock on one business day (shop time)."""

    item = models.ForeignKey(FlashItem, on_delete=models.PROTECT, related_name="days", verbose_name=_("item"))
    day = models.DateField(_("business date"))
    units = models.PositiveIntegerField(_("units"))
    sold = models.IntegerField(_("sold"), default=0)
    opens_at = models.DateTimeField(_("opens at"))
    ends_at = models.DateTimeField(_("ends at"))
    is_holiday = models.BooleanField(_("holiday"), default=False)

    class Meta:
        verbose_name = _("flash day")
        verbose_name_plural = _("flash days")
        constraints = [
            models.UniqueConstraint(fields=["item", "day"], name="flash_day_item_day_uniq"),
            models.CheckConstraint(
                name="flash_day_sold_range", condition=Q(sold__gte=0, sold__lte=F("units"))
            ),
            models.CheckConstraint(name="flash_day_units", condition=Q(units__gte=1)),
            models.CheckConstraint(name="flash_day_window", condition=Q(ends_at__gt=F("opens_at"))),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.day}"


class ClaimState(models.TextChoices):
    CLAIMED = "claimed", pgettext_lazy("flash claim", "claimed")
    RELEASED = "released", pgettext_lazy("flash claim", "released")


class FlashClaim(models.Model):
    item = models.ForeignKey(FlashItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    day = models.ForeignKey(FlashDay, on_delete=models.PROTECT, related_name="claims", verbose_name=_("day"))
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="flash_claims", verbose_name=_("member")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price_fen = models.PositiveBigIntegerField(_("unit price (fen)"))
    order_ref = models.CharField(_("order"), max_length=64)
    state = models.CharField(
        _("state"), max_length=10, choices=ClaimState.choices, default=ClaimState.CLAIMED
    )
    claimed_at = models.DateTimeField(_("claimed at"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    restocked = models.BooleanField(_("units returned to the day's stock"), default=False)

    class Meta:
        verbose_name = _("flash claim")
        verbose_name_plural = _("flash claims")
        indexes = [models.Index(fields=["order_ref"], name="flash_claim_order_idx")]
        constraints = [
            # The per-member limit's guard: one active claim per member and item-day.
            models.UniqueConstraint(
                fields=["day", "member"], condition=Q(state="claimed"), name="flash_claim_one_active"
            ),
            models.CheckConstraint(name="flash_claim_quantity", condition=Q(quantity__gte=1)),
            models.CheckConstraint(name="flash_claim_order", condition=Q(order_ref__gt="")),
            models.CheckConstraint(
                name="flash_claim_state",
                condition=Q(state="claimed", released_at__isnull=True, restocked=False)
                | Q(state="released", released_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_ref} {self.member_id} ×{self.quantity}"
