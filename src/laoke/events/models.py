"""Member events: lotteries (with an auditable draw, see draw.py), appreciation events (答谢会) and
member forums (座谈会)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from laoke.catalog.models import GiftItem, Store
from laoke.members.models import Member
from laoke.promotions.models import Coupon, CouponTemplate

# Presets (SPEC 13, seed 002): member-day lottery for members holding ≥ 5,000 points; RSVP due two
# days before an appreciation event.
MEMBER_DAY_MIN_POINTS = 5_000
RSVP_DAYS_BEFORE = 2


class Event(models.Model):
    class Kind(models.TextChoices):
        APPRECIATION = "appreciation", _("Appreciation event")
        FORUM = "forum", _("Member forum")

    class ListState(models.TextChoices):
        DRAFT = "draft", _("Being compiled")
        SUBMITTED = "submitted", _("Submitted for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.APPRECIATION)
    starts_at = models.DateTimeField(_("starts at"))
    venue_store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("venue store")
    )
    rsvp_deadline = models.DateTimeField(_("RSVP deadline"))
    voucher_template = models.ForeignKey(
        CouponTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("gift voucher handed out at sign-in"),
    )
    promotion = models.CharField(_("on-site promotion"), max_length=200, blank=True)
    list_state = models.CharField(
        _("invitee list"), max_length=12, choices=ListState.choices, default=ListState.DRAFT
    )
    list_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    list_requester_roles = models.JSONField(default=list, blank=True)
    list_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    list_decided_at = models.DateTimeField(null=True, blank=True)
    list_note = models.CharField(_("decision note"), max_length=200, blank=True)
    review = models.TextField(_("post-event review"), blank=True, max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        permissions = [
            ("approve_invitees", _("Approve event invitee lists")),
            ("propose_invitee", _("Propose event invitees")),
            ("signin_invitee", _("Sign guests in at events")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rsvp_deadline__lte=models.F("starts_at")), name="event_rsvp_before"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Lottery(models.Model):
    class Kind(models.TextChoices):
        MEMBER_DAY = "member_day", _("Member-day lottery")
        CARD_NUMBER = "card_number", _("Card-number lottery")
        EVENT = "event", _("Event lottery")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for entries")
        CLOSED = "closed", _("Entries closed")
        COMMITTED = "committed", _("Seed committed")
        DRAWN = "drawn", _("Drawn")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    event = models.OneToOneField(
        Event,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lottery",
        verbose_name=_("event"),
    )
    store = models.ForeignKey(
        Store,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("store giving out gift prizes"),
    )
    min_points = models.PositiveIntegerField(_("minimum points balance at entry close"), default=0)
    entry_opens_at = models.DateTimeField(_("entries open"))
    entry_closes_at = models.DateTimeField(_("entries close"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    entrant_count = models.PositiveIntegerField(_("entrants"), default=0)
    entrants_digest = models.CharField(_("entrant list digest (SHA-256)"), max_length=64, blank=True)
    prizes_digest = models.CharField(_("prize list digest (SHA-256)"), max_length=64, blank=True)
    seed_hash = models.CharField(_("seed commitment SHA-256(seed)"), max_length=64, blank=True)
    # Secret until the draw: never shown or exported before state == drawn.
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("lottery")
        verbose_name_plural = _("lotteries")
        permissions = [("draw_lottery", _("Commit, draw and verify lotteries"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(entry_closes_at__gt=models.F("entry_opens_at")), name="lottery_window"
            ),
            models.CheckConstraint(
                condition=~Q(state="drawn") | ~Q(seed=""),
                name="lottery_drawn_has_seed",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["committed", "drawn"]) | ~Q(seed_hash=""),
                name="lottery_committed_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Prize(models.Model):
    class Kind(models.TextChoices):
        ONSITE = "onsite", _("Handed out on site")
        GIFT = "gift", _("Gift item from stock")
        COUPON = "coupon", _("Coupon")
        POINTS = "points", _("Points")

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="prizes")
    tier = models.PositiveSmallIntegerField(_("tier (1 = top prize)"))
    name = models.CharField(_("name"), max_length=100)
    stock = models.PositiveIntegerField(_("stock"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.ONSITE)
    gift = models.ForeignKey(GiftItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    coupon_template = models.ForeignKey(
        CouponTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    points = models.PositiveIntegerField(_("points"), default=0)

    class Meta:
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")
        ordering = ["tier", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=1), name="prize_stock_positive"),
            models.CheckConstraint(condition=Q(tier__gte=1), name="prize_tier_positive"),
            models.CheckConstraint(
                condition=Q(kind="onsite")
                | Q(kind="gift", gift__isnull=False)
                | Q(kind="coupon", coupon_template__isnull=False)
                | Q(kind="points", points__gte=1),
                name="prize_kind_has_what",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Entry(models.Model):
    class Source(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible at entry close")
        CARD = "card", _("Membership card")
        SIGN_IN = "sign_in", _("Event sign-in")

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="entries")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    ticket = models.CharField(_("ticket"), max_length=40)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("lottery entry")
        verbose_name_plural = _("lottery entries")
        constraints = [
            models.UniqueConstraint(fields=["lottery", "ticket"], name="entry_ticket_unique"),
            models.UniqueConstraint(fields=["lottery", "member"], name="entry_member_unique"),
        ]


class Win(models.Model):
    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="wins")
    slot = models.PositiveIntegerField(_("slot"))
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+")
    prize = models.ForeignKey(Prize, on_delete=models.PROTECT, related_name="wins")
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    award_key = models.CharField(_("award key"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("win")
        verbose_name_plural = _("wins")
        ordering = ["slot"]
        constraints = [
            models.UniqueConstraint(fields=["lottery", "slot"], name="win_slot_unique"),
            models.UniqueConstraint(fields=["lottery", "entry"], name="win_entry_unique"),
        ]


class Invitee(models.Model):
    class Rsvp(models.TextChoices):
        PENDING = "pending", _("No answer yet")
        YES = "yes", _("Coming")
        NO = "no", _("Not coming")
        MAYBE = "maybe", _("Maybe")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitees")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    department = models.CharField(_("department"), max_length=40)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The pre-event funnel (seed 002): phone interview → favourable ones visited → invitation letter
    # → phone confirmation a few days before.
    interviewed_at = models.DateTimeField(_("phone interview"), null=True, blank=True)
    favourable = models.BooleanField(_("favourable"), null=True, blank=True)
    visited_at = models.DateTimeField(_("visited"), null=True, blank=True)
    letter_at = models.DateTimeField(_("invitation letter sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed by phone"), null=True, blank=True)
    rsvp = models.CharField(_("RSVP"), max_length=8, choices=Rsvp.choices, default=Rsvp.PENDING)
    party_size = models.PositiveSmallIntegerField(_("party size"), default=1)
    rsvp_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    signed_in_at = models.DateTimeField(_("signed in at"), null=True, blank=True)
    business_card = models.CharField(_("business card"), max_length=200, blank=True)
    voucher = models.OneToOneField(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("invitee")
        verbose_name_plural = _("invitees")
        constraints = [
            models.UniqueConstraint(fields=["event", "member"], name="invitee_once"),
            models.CheckConstraint(
                condition=Q(party_size__gte=1) & Q(party_size__lte=20), name="invitee_party"
            ),
        ]


class BudgetLine(models.Model):
    class Category(models.TextChoices):
        CATERING = "catering", _("Catering")
        GIFTS = "gifts", _("Gifts")
        PROGRAMME = "programme", _("Programme")
        MISC = "misc", _("Miscellaneous")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="budget_lines")
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    planned_fen = models.BigIntegerField(_("planned (fen)"), default=0)
    actual_fen = models.BigIntegerField(_("actual (fen)"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.UniqueConstraint(fields=["event", "category"], name="budget_line_once"),
            models.CheckConstraint(
                condition=Q(planned_fen__gte=0, actual_fen__gte=0), name="budget_line_positive"
            ),
        ]


class ProgrammeItem(models.Model):
    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Sign-in")
        SHOW = "show", _("Show")
        TALK = "talk", _("Expert talk")
        LOTTERY = "lottery", _("Lottery")
        PROMOTION = "promotion", _("On-site promotion")
        GIFTS = "gifts", _("Gifts")
        FORUM = "forum", _("Forum discussion")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="programme")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    minutes = models.PositiveSmallIntegerField(_("minutes"), default=15)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["event", "position"], name="programme_position_once")]


class StaffTarget(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="targets")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sales_target_fen = models.BigIntegerField(_("sales target (fen)"))
    # [[achievement in basis points, reward fen], …]: the highest threshold reached pays.
    reward_rules = models.JSONField(_("reward rules"), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="staff_target_once"),
            models.CheckConstraint(condition=Q(sales_target_fen__gt=0), name="staff_target_positive"),
        ]


class DeptTask(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tasks")
    department = models.CharField(_("department"), max_length=40)
    title = models.CharField(_("task"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]


class Suggestion(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="suggestions")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("suggestion"), max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
