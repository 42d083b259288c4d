"""Analytics data that is not derived from the shop's own tables.

- ``ExternalContact`` / ``ExternalOrder``: an externally run campaign (SPEC 11: "import a contact
  list with arm labels and the orders, and get the same report"). The campaign itself is a
  ``campaigns.Campaign`` of source *external*, so ``laoke campaign report ID`` is one command for
  both kinds. External orders are evidence for the evaluation only: they are not shop orders, move
  no value and touch no statistics.
- ``PageView``: imported page-view / event rows for the traffic analysis.
- ``ClvFit``: each CLV model fit (parameters by name, log-likelihood, data size, time taken).
- ``ProductRole``: the role of a SKU or a bundle (搭配套装), computed or set by hand.
- ``EventForecast``: the event forecast calculator's inputs and, after the event, the actuals.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.campaigns.models import Campaign
from laoke.catalog.models import Product
from laoke.members.models import Member
from laoke.promotions.models import Bundle


class ExternalCampaign(models.Model):
    """How an external campaign was imported: the evaluation window and the files."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="external")
    window_days = models.PositiveSmallIntegerField(_("evaluation window (days)"), default=30)
    contacts_file = models.CharField(_("contacts file"), max_length=255)
    orders_file = models.CharField(_("orders file"), max_length=255)
    contacts = models.PositiveIntegerField(_("contacts"))
    orders = models.PositiveIntegerField(_("orders"))
    members_created = models.PositiveIntegerField(_("members created"))
    job_id = models.CharField(_("import job"), max_length=64)
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("external campaign import")
        verbose_name_plural = _("external campaign imports")
        constraints = [
            models.CheckConstraint(condition=Q(window_days__gt=0), name="extcampaign_window_positive")
        ]


class ExternalContact(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="external_contacts")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    arm = models.CharField(_("arm"), max_length=40)  # "control" is the holdout; anything else is treated
    contacted_at = models.DateTimeField(_("contacted at"))
    row = models.PositiveIntegerField(_("row in the file"))

    class Meta:
        verbose_name = _("external campaign contact")
        verbose_name_plural = _("external campaign contacts")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member"], name="extcontact_member_once"),
        ]
        indexes = [models.Index(fields=["campaign", "arm"], name="extcontact_arm_idx")]


class ExternalOrder(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="external_orders")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    ordered_at = models.DateTimeField(_("ordered at"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    row = models.PositiveIntegerField(_("row in the file"))

    class Meta:
        verbose_name = _("external campaign order")
        verbose_name_plural = _("external campaign orders")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="extorder_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["campaign", "member"], name="extorder_member_idx")]


class PageView(models.Model):
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    member_ref = models.CharField(_("member reference"), max_length=128, blank=True)
    session = models.CharField(_("session"), max_length=128)
    ts = models.DateTimeField(_("time"))
    page = models.CharField(_("page"), max_length=500)
    referrer = models.CharField(_("referrer"), max_length=500, blank=True)
    job_id = models.CharField(_("import job"), max_length=64)

    class Meta:
        verbose_name = _("page view")
        verbose_name_plural = _("page views")
        constraints = [
            models.UniqueConstraint(fields=["session", "ts", "page"], name="pageview_once"),
        ]
        indexes = [
            models.Index(fields=["ts"], name="pageview_ts_idx"),
            models.Index(fields=["job_id"], name="pageview_job_idx"),
        ]


class ClvModel(models.TextChoices):
    BGNBD = "bgnbd", "BG/NBD"
    PARETO = "pareto", "Pareto/NBD"
    GAMMA_GAMMA = "gamma_gamma", "Gamma-Gamma"


class ClvFit(models.Model):
    model = models.CharField(_("model"), max_length=12, choices=ClvModel.choices)
    params = models.JSONField(_("parameters"))
    log_likelihood = models.FloatField(_("log-likelihood"))
    customers = models.PositiveIntegerField(_("customers"))
    calibration_end = models.DateTimeField(_("calibration period ends"))
    time_unit_days = models.PositiveSmallIntegerField(_("time unit (days)"), default=7)
    seconds = models.FloatField(_("fit time (s)"))
    source = models.CharField(_("data"), max_length=200)
    fitted_at = models.DateTimeField(_("fitted at"))

    class Meta:
        verbose_name = _("CLV model fit")
        verbose_name_plural = _("CLV model fits")
        indexes = [models.Index(fields=["model", "-fitted_at"], name="clvfit_latest_idx")]


class Role(models.TextChoices):
    TRAFFIC = "traffic", _("traffic driver (引流)")
    PROFIT = "profit", _("profit item (利润)")
    MARGINAL = "marginal", _("marginal item (边缘)")
    POTENTIAL = "potential", _("potential item (潜力)")
    REGULAR = "regular", _("regular")


class ProductRole(models.Model):
    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    bundle = models.OneToOneField(
        Bundle, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("bundle")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    manual = models.BooleanField(_("set by hand"), default=False)
    discount_cap_bp = models.PositiveIntegerField(_("discount cap (basis points)"), null=True, blank=True)
    metrics = models.JSONField(_("measures"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("product role")
        verbose_name_plural = _("product roles")
        constraints = [
            models.CheckConstraint(
                name="productrole_product_xor_bundle",
                condition=Q(product__isnull=False, bundle__isnull=True)
                | Q(product__isnull=True, bundle__isnull=False),
            ),
            models.CheckConstraint(
                name="productrole_cap_range",
                condition=Q(discount_cap_bp__isnull=True) | Q(discount_cap_bp__lte=10000),
            ),
        ]


class EventForecast(models.Model):
    """S2: reachable population × income share × area share × brand share × response rate →
    visitors → households (÷ household size) → orders × average order value → revenue."""

    name = models.CharField(_("event"), max_length=120)
    event_date = models.DateField(_("event date"))
    reachable = models.PositiveIntegerField(_("reachable population"))
    income_share_bp = models.PositiveIntegerField(_("income share (basis points)"))
    area_share_bp = models.PositiveIntegerField(_("area share (basis points)"))
    brand_share_bp = models.PositiveIntegerField(_("brand share (basis points)"))
    response_bp = models.PositiveIntegerField(_("response rate (basis points)"))
    household_size_x100 = models.PositiveIntegerField(_("people per household (×100)"), default=300)
    aov_fen = models.PositiveBigIntegerField(_("average order value (fen)"))
    actual_visitors = models.PositiveIntegerField(_("actual visitors"), null=True, blank=True)
    actual_orders = models.PositiveIntegerField(_("actual orders"), null=True, blank=True)
    actual_revenue_fen = models.PositiveBigIntegerField(_("actual revenue (fen)"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("event forecast")
        verbose_name_plural = _("event forecasts")
        constraints = [
            models.CheckConstraint(
                name="forecast_shares_at_most_whole",
                condition=Q(income_share_bp__lte=10000)
                & Q(area_share_bp__lte=10000)
                & Q(brand_share_bp__lte=10000)
                & Q(response_bp__lte=10000),
            ),
            models.CheckConstraint(
                name="forecast_household_positive", condition=Q(household_size_x100__gt=0)
            ),
        ]
