"""Holiday gift campaigns (seed 000: mid-autumn mooncakes) and draw games (seed 002: the
supermarket's pre-purchase lottery). See docs/decisions/0035-holidays.md."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from laoke.catalog.models import GiftItem
from laoke.members.models import Member
from laoke.promotions.models import Coupon, CouponTemplate


class Holiday(models.TextChoices):
    MID_AUTUMN = "mid_autumn", _("Mid-Autumn Festival")
    NATIONAL_DAY = "national_day", _("National Day")
    SPRING_FESTIVAL = "spring_festival", _("Spring Festival")


class RecipientType(models.TextChoices):
    OLD_CUSTOMER = "old_customer", _("Old customer")
    DEALER = "dealer", _("Dealer")
    KEY_PROSPECT = "key_prospect", _("Key prospect")
    WALK_IN = "walk_in", _("Walk-in visitor")


class GiftCampaign(models.Model):
    """节日送礼: who may receive a gift (types with quotas), the gift levels and their prices, the
    card, and the courier's deadline and delivery window. The gift itself is a surprise."""

    name = models.CharField(_("name"), max_length=100)
    holiday = models.CharField(_("holiday"), max_length=20, choices=Holiday.choices)
    year = models.PositiveIntegerField(_("year"))
    card_unit_price_fen = models.PositiveBigIntegerField(_("card unit price (fen)"), default=0)
    card_message = models.CharField(_("card message"), max_length=300)
    courier_deadline = models.DateField(_("list to the courier by"))
    delivery_from = models.DateField(_("delivery from"))
    delivery_until = models.DateTimeField(_("delivered at the latest by"))
    walkin_from = models.DateField(_("walk-in visits from"), null=True, blank=True)
    walkin_until = models.DateField(_("walk-in visits until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("gift campaign")
        verbose_name_plural = _("gift campaigns")
        permissions = [("export_giftcampaign", "Can export the courier list of a gift campaign")]
        constraints = [
            models.CheckConstraint(
                name="holidays_campaign_window", condition=Q(delivery_from__gt=F("courier_deadline"))
            ),
        ]

    def __str__(self):
        return self.name


class GiftLevel(models.Model):
    campaign = models.ForeignKey(GiftCampaign, on_delete=models.CASCADE, related_name="levels")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=40)
    unit_price_fen = models.PositiveBigIntegerField(_("unit price (fen)"))

    class Meta:
        verbose_name = _("gift level")
        verbose_name_plural = _("gift levels")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="holidays_level_code"),
            models.CheckConstraint(name="holidays_level_price", condition=Q(unit_price_fen__gt=0)),
        ]

    def __str__(self):
        return self.name


class RecipientQuota(models.Model):
    campaign = models.ForeignKey(GiftCampaign, on_delete=models.CASCADE, related_name="quotas")
    recipient_type = models.CharField(_("recipient type"), max_length=20, choices=RecipientType.choices)
    quota = models.PositiveIntegerField(_("quota (gifts)"))
    persons_per_gift = models.PositiveIntegerField(_("persons per gift"), default=1)

    class Meta:
        verbose_name = _("recipient quota")
        verbose_name_plural = _("recipient quotas")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "recipient_type"], name="holidays_quota_type"),
            models.CheckConstraint(name="holidays_quota_persons", condition=Q(persons_per_gift__gt=0)),
        ]


class ApplicationState(models.TextChoices):
    PENDING = "pending", _("In review")
    REVIEWED = "reviewed", _("Reviewed, awaiting final approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class GiftApplication(models.Model):
    """中秋节送礼申请表: filed by a service assistant or a sales rep, reviewed by the service manager
    and the sales manager (both), approved by the planning department (企划部)."""

    campaign = models.ForeignKey(GiftCampaign, on_delete=models.PROTECT, related_name="applications")
    recipient_type = models.CharField(_("recipient type"), max_length=20, choices=RecipientType.choices)
    name = models.CharField(_("recipient name"), max_length=100)
    company = models.CharField(_("company"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300)
    phone = models.CharField(_("phone"), max_length=30)
    decision_power = models.BooleanField(_("has decision power (决策权)"))
    level = models.ForeignKey(GiftLevel, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    visited_on = models.DateField(_("visited on (walk-ins)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=ApplicationState.choices, default=ApplicationState.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requester_roles = models.JSONField(_("requester's roles"), default=list)
    created_at = models.DateTimeField(_("filed at"))
    service_review_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    service_review_at = models.DateTimeField(_("service manager reviewed at"), null=True, blank=True)
    sales_review_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sales_review_at = models.DateTimeField(_("sales manager reviewed at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reject_step = models.CharField(_("rejected at step"), max_length=20, blank=True)
    reject_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("gift application")
        verbose_name_plural = _("gift applications")
        permissions = [
            ("review_service_giftapplication", "Can review gift applications as the service manager"),
            ("review_sales_giftapplication", "Can review gift applications as the sales manager"),
            ("approve_giftapplication", "Can finally approve gift applications (planning department)"),
        ]
        indexes = [models.Index(fields=["campaign", "state", "recipient_type"], name="holidays_app_state")]
        constraints = [
            models.CheckConstraint(
                name="holidays_app_reviewed",
                condition=~Q(state__in=["reviewed", "approved"])
                | Q(service_review_at__isnull=False, sales_review_at__isnull=False),
            ),
            models.CheckConstraint(
                name="holidays_app_reason", condition=~Q(state="rejected") | ~Q(reject_reason="")
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_recipient_type_display()})"


class DrawKind(models.TextChoices):
    PRE_PURCHASE = "pre_purchase", _("Pre-purchase draw (free)")
    RECEIPT = "receipt", _("Receipt draw (everyone wins)")


class DrawGame(models.Model):
    """抽奖: prize tiers with set probabilities in basis points (the rest is "no prize")."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=DrawKind.choices)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at (exclusive)"))
    daily_limit = models.PositiveIntegerField(_("draws per member per day"), default=1)
    entry_limit = models.PositiveIntegerField(_("draws per member in all"), null=True, blank=True)
    min_receipt_fen = models.PositiveBigIntegerField(_("receipt at least (fen)"), default=0)
    no_prize_label = models.CharField(_("no-prize message"), max_length=100, default="购物愉快，下次再来！")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("draw game")
        verbose_name_plural = _("draw games")
        permissions = [("apply_holiday_promotions", "Can create the holiday promotion presets")]
        constraints = [
            models.CheckConstraint(name="holidays_draw_window", condition=Q(ends_at__gt=F("starts_at"))),
            models.CheckConstraint(name="holidays_draw_daily", condition=Q(daily_limit__gt=0)),
        ]

    def __str__(self):
        return self.name


class DrawPrize(models.Model):
    game = models.ForeignKey(DrawGame, on_delete=models.CASCADE, related_name="prizes")
    name = models.CharField(_("name"), max_length=100)
    probability_bp = models.PositiveIntegerField(_("probability (basis points)"))
    stock = models.PositiveIntegerField(_("stock"))
    awarded = models.PositiveIntegerField(_("awarded"), default=0)
    coupon_template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    gift_item = models.ForeignKey(GiftItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("draw prize")
        verbose_name_plural = _("draw prizes")
        ordering = ["pk"]
        constraints = [
            # The stock is guarded in the database: no concurrency can award more than it.
            models.CheckConstraint(name="holidays_prize_stock", condition=Q(awarded__lte=F("stock"))),
            models.CheckConstraint(
                name="holidays_prize_bp", condition=Q(probability_bp__gt=0, probability_bp__lte=10_000)
            ),
            models.CheckConstraint(
                name="holidays_prize_one_kind",
                condition=Q(coupon_template__isnull=True) | Q(gift_item__isnull=True),
            ),
        ]

    def __str__(self):
        return self.name


class DrawEntry(models.Model):
    game = models.ForeignKey(DrawGame, on_delete=models.PROTECT, related_name="entries")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("business day"))
    day_seq = models.PositiveIntegerField(_("draw number of the day"))
    seq = models.PositiveIntegerField(_("draw number in the game"))
    prize = models.ForeignKey(DrawPrize, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    receipt_ref = models.CharField(_("receipt"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("draw entry")
        verbose_name_plural = _("draw entries")
        # The per-member limits hold under concurrency: two draws taking the same number collide.
        constraints = [
            models.UniqueConstraint(fields=["game", "member", "day", "day_seq"], name="holidays_entry_day"),
            models.UniqueConstraint(fields=["game", "member", "seq"], name="holidays_entry_seq"),
            models.UniqueConstraint(
                fields=["game", "receipt_ref"], condition=~Q(receipt_ref=""), name="holidays_entry_receipt"
            ),
        ]
