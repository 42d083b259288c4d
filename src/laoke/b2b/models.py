"""B2B customers and the sales pipeline (SPEC 14, seeds 000 and 002; decision 0036).

- ``BigCustomer`` (大客户, level A–D) links a group/corporate account or a member; has an owner
  (销售代表) and a branch. ``FollowUp`` rows are its follow-up sheet (大客户跟进表).
- ``Opportunity`` (项目) walks the six stages of ``presets.STAGES``; every move is a
  ``StageChange`` row; the 立项 report fields live on it; ``checklist`` holds the ticked key nodes
  per stage. Leaving 立项 / 招投标 / 商务谈判 needs an approved ``Approval`` (project, bid, contract).
  It can be closed out at any stage (won / lost / abandoned, with reason and summary).
- ``Contract`` (from the approved contract request) with its ``Installment`` collection schedule;
  ``OverdueNotice`` is the owner's notice of an overdue installment (one per installment).
- ``ChargeAccount`` (签单客户) with immutable ``ChargeEntry`` rows (charges and settlements);
  the database holds ``0 ≤ outstanding ≤ credit limit``.
- ``SurveyTemplate`` / ``SurveyResponse``: the conference-event survey (会务活动调查表).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from laoke.core.models import Store
from laoke.members.models import GroupAccount, Member

from .presets import CLOSE_REASONS, FOLLOW_UP_METHODS, LEVELS, STAGES

USER = settings.AUTH_USER_MODEL

Level = models.TextChoices("Level", [(lv.key, lv.key) for lv in LEVELS])
Stage = models.TextChoices("Stage", [(s.key.upper(), (s.key, s.name)) for s in STAGES])


class BigCustomer(models.Model):
    name = models.CharField(_("name"), max_length=120)
    level = models.CharField(_("level"), max_length=1, choices=Level.choices)
    group_account = models.ForeignKey(
        GroupAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("group account"),
    )
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    branch = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    industry = models.CharField(_("customer type"), max_length=60, blank=True)
    contact_name = models.CharField(_("contact"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("big customer")
        verbose_name_plural = _("big customers")
        ordering = ["level", "name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=[lv.key for lv in LEVELS]), name="b2b_cust_level"),
            models.CheckConstraint(condition=~Q(name=""), name="b2b_cust_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.level})"


class Opportunity(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        ABANDONED = "abandoned", _("Abandoned")

    customer = models.ForeignKey(
        BigCustomer, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("customer")
    )
    number = models.CharField(_("project number"), max_length=20, unique=True, null=True, blank=True)
    name = models.CharField(_("project name"), max_length=200)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default="development")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    customer_lead = models.CharField(_("customer lead"), max_length=60, blank=True)
    expected_amount_fen = models.BigIntegerField(_("expected contract amount (fen)"), default=0)
    estimated_margin_bp = models.IntegerField(_("estimated gross margin (bp)"), null=True, blank=True)
    sales_budget_fen = models.BigIntegerField(_("sales expense budget (fen)"), default=0)
    category = models.CharField(_("category"), max_length=60, blank=True)
    expected_sign_on = models.DateField(_("expected signing date"), null=True, blank=True)
    next_action = models.CharField(_("next action"), max_length=200, blank=True)
    next_action_on = models.DateField(_("next action date"), null=True, blank=True)
    checklist = models.JSONField(_("key nodes done"), default=dict, blank=True)
    close_reason = models.CharField(
        _("close reason"), max_length=32, blank=True, choices=[(k, label) for k, _o, label in CLOSE_REASONS]
    )
    close_summary = models.TextField(_("close summary"), blank=True, max_length=4000)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-pk"]
        permissions = [
            ("approve_project", _("Can approve project initiation (立项)")),
            ("approve_bid", _("Can approve bid prices")),
            ("approve_contract", _("Can approve contracts")),
            ("close_opportunity", _("Can close out opportunities")),
        ]
        indexes = [models.Index(fields=["status", "stage"], name="b2b_opp_status_stage")]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=[s.key for s in STAGES]), name="b2b_opp_stage"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "won", "lost", "abandoned"]), name="b2b_opp_status"
            ),
            models.CheckConstraint(condition=Q(expected_amount_fen__gte=0), name="b2b_opp_amount"),
            models.CheckConstraint(condition=Q(sales_budget_fen__gte=0), name="b2b_opp_budget"),
            models.CheckConstraint(
                condition=Q(estimated_margin_bp__isnull=True)
                | Q(estimated_margin_bp__gte=-10000, estimated_margin_bp__lte=10000),
                name="b2b_opp_margin",
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True) & Q(close_reason=""))
                | (~Q(status="open") & Q(closed_at__isnull=False) & ~Q(close_reason="")),
                name="b2b_opp_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or self.pk} {self.name}"


class StageChange(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=16, blank=True)
    to_stage = models.CharField(max_length=16)
    status = models.CharField(max_length=16, default="open")
    at = models.DateTimeField()
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class Approval(models.Model):
    class Kind(models.TextChoices):
        PROJECT = "project", _("Project initiation (立项)")
        BID = "bid", _("Bid price")
        CONTRACT = "contract", _("Contract")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="approvals")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    amount_fen = models.BigIntegerField(_("amount (fen)"), default=0)
    margin_bp = models.IntegerField(_("gross margin (bp)"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    requested_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    requester_roles = models.JSONField(default=list, blank=True)
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["requested_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["project", "bid", "contract"]), name="b2b_appr_kind"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "approved", "rejected"]), name="b2b_appr_state"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="b2b_appr_amount"),
            models.UniqueConstraint(
                fields=["opportunity", "kind"], condition=Q(state="pending"), name="b2b_appr_one_pending"
            ),
            models.UniqueConstraint(
                fields=["opportunity", "kind"], condition=Q(state="approved"), name="b2b_appr_one_approved"
            ),
        ]


class Contract(models.Model):
    opportunity = models.OneToOneField(Opportunity, on_delete=models.PROTECT, related_name="contract")
    number = models.CharField(_("contract number"), max_length=30, unique=True)
    amount_fen = models.BigIntegerField(_("contract amount (fen)"))
    approval = models.OneToOneField(Approval, on_delete=models.PROTECT, related_name="+")
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="b2b_contract_amount")]

    def __str__(self) -> str:
        return self.number


class Installment(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="installments")
    seq = models.PositiveSmallIntegerField()
    due_on = models.DateField(_("due on"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    collected_fen = models.BigIntegerField(_("collected (fen)"), default=0)
    collected_on = models.DateField(_("collected on"), null=True, blank=True)
    overdue_since = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["contract", "seq"]
        indexes = [models.Index(fields=["due_on"], name="b2b_inst_due")]
        constraints = [
            models.UniqueConstraint(fields=["contract", "seq"], name="b2b_inst_seq"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="b2b_inst_amount"),
            models.CheckConstraint(
                condition=Q(collected_fen__gte=0) & Q(collected_fen__lte=F("amount_fen")),
                name="b2b_inst_collected",
            ),
        ]


class Collection(models.Model):
    """One receipt against an installment (immutable)."""

    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="collections")
    amount_fen = models.BigIntegerField()
    on = models.DateField()
    at = models.DateTimeField()
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="b2b_coll_amount")]


class OverdueNotice(models.Model):
    """The owner's notice that an installment is overdue (created once by ``b2b_tick``)."""

    installment = models.OneToOneField(Installment, on_delete=models.CASCADE, related_name="notice")
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]


class FollowUp(models.Model):
    customer = models.ForeignKey(
        BigCustomer, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("customer")
    )
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups"
    )
    on = models.DateField(_("date"))
    contact_person = models.CharField(_("contact person"), max_length=60)
    method = models.CharField(_("method"), max_length=16, choices=FOLLOW_UP_METHODS)
    content = models.TextField(_("content"), max_length=2000)
    result = models.CharField(_("result"), max_length=500, blank=True)
    next_step = models.CharField(_("next step"), max_length=500, blank=True)
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=[k for k, _label in FOLLOW_UP_METHODS]), name="b2b_fu_method"
            )
        ]


class ChargeAccount(models.Model):
    """A hotel charge-account customer (签单客户): charges up to a credit limit, settled later."""

    name = models.CharField(_("name"), max_length=120)
    group_account = models.ForeignKey(
        GroupAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    credit_limit_fen = models.BigIntegerField(_("credit limit (fen)"))
    outstanding_fen = models.BigIntegerField(_("outstanding (fen)"), default=0)
    signers = models.JSONField(_("signers allowed"), default=list, blank=True)
    discount_bp = models.IntegerField(_("agreed discount (bp)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("charge account")
        verbose_name_plural = _("charge accounts")
        ordering = ["name", "pk"]
        permissions = [("charge_chargeaccount", _("Can record charges and settlements on charge accounts"))]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit_fen__gte=0), name="b2b_charge_limit"),
            models.CheckConstraint(
                condition=Q(outstanding_fen__gte=0) & Q(outstanding_fen__lte=F("credit_limit_fen")),
                name="b2b_charge_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(discount_bp__gte=0, discount_bp__lte=10000), name="b2b_charge_discount"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChargeEntry(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge (签单)")
        SETTLEMENT = "settlement", _("Settlement (结账)")

    account = models.ForeignKey(ChargeAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_fen = models.BigIntegerField()
    outstanding_after = models.BigIntegerField()
    signer = models.CharField(max_length=60, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="b2b_entry_amount"),
            models.CheckConstraint(condition=Q(kind__in=["charge", "settlement"]), name="b2b_entry_kind"),
        ]


class SurveyTemplate(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    questions = models.JSONField(_("questions"), default=list)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")

    def __str__(self) -> str:
        return self.name


class SurveyResponse(models.Model):
    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="responses")
    event_name = models.CharField(_("event"), max_length=200)
    event_on = models.DateField(_("event date"))
    customer = models.ForeignKey(
        BigCustomer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    charge_account = models.ForeignKey(
        ChargeAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    respondent = models.CharField(_("respondent"), max_length=60, blank=True)
    answers = models.JSONField(_("answers"), default=dict)
    created_at = models.DateTimeField()
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-event_on", "-pk"]
