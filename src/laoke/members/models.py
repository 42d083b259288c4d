"""Member archive (客户档案): members, their external identities, group accounts, custom
attributes, tags, consent, agreements, membership cards, corporate archive, merges.

Members are not Django users. ``mobile`` is E.164 (+8613812345678), nullable and unique when
present; platform imports without a phone are identified by ``MemberRef(source, external_id)``.
"""

from __future__ import annotations

import functools
import operator

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from laoke.core.models import Store


class GroupAccount(models.Model):
    """A 集体 account (company, family) with its own tier programme; served by a 客服经理."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        FAMILY = "family", _("Family")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    contact_name = models.CharField(_("contact"), max_length=60, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=20, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("service manager"),
    )
    home_store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("home store")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("group account")
        verbose_name_plural = _("group accounts")

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    class Gender(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    class Source(models.TextChoices):
        STORE = "store", _("Store")
        TAOBAO = "taobao", _("Taobao/Tmall")
        ONLINE = "online", _("Online shop")
        EVENT = "event", _("Event")
        REFERRAL = "referral", _("Referral")
        IMPORT = "import", _("Import")
        API = "api", _("API")

    class Lifecycle(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        RECHARGED = "recharged", _("Recharged")
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")
        LAPSED = "lapsed", _("Lapsed")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        MERGED = "merged", _("Merged into another member")
        ANONYMISED = "anonymised", _("Anonymised (PIPL deletion)")

    code = models.CharField(_("member number"), max_length=20, unique=True)
    mobile = models.CharField(_("mobile"), max_length=20, null=True, blank=True, unique=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True, default="")
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    email = models.EmailField(_("email"), max_length=254, null=True, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    address_raw = models.CharField(_("address"), max_length=255, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address_detail = models.CharField(_("street address"), max_length=255, blank=True)
    adcode = models.CharField(_("area code"), max_length=6, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.STORE)
    home_store = models.ForeignKey(
        Store,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("store"),
    )
    group_account = models.ForeignKey(
        GroupAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("group account"),
    )
    registered_at = models.DateTimeField(_("registered at"), db_index=True)
    lifecycle = models.CharField(
        _("lifecycle"), max_length=16, choices=Lifecycle.choices, default=Lifecycle.REGISTERED, db_index=True
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    exclude_personalised = models.BooleanField(
        _("exclude from personalised marketing"),
        default=False,
        help_text=_("PIPL art. 24: segments and campaigns leave this member out."),
    )
    is_permanent = models.BooleanField(_("permanent member"), default=False)
    permanent_since = models.DateTimeField(_("permanent since"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        permissions = [
            ("view_pii", _("See unmasked mobile, address and ID number")),
            ("view_sensitive_tag", _("See sensitive tags (PIPL art. 28)")),
            ("tag_member", _("Tag members")),
            ("tag_member_sensitive", _("Give members sensitive tags")),
            ("set_attribute", _("Set custom attribute values")),
            ("merge_member", _("Merge duplicate members")),
            ("export_member_pi", _("Export a member's personal information")),
            ("forget_member", _("Anonymise a member (PIPL deletion)")),
            ("manage_consent", _("Change consent and unsubscribe")),
            ("issue_membershipcard", _("Issue and replace membership cards")),
            ("see_group_members", _("See members of group accounts")),
        ]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["group_account", "id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="member_merged_has_target",
            ),
            models.CheckConstraint(condition=~Q(mobile=""), name="member_mobile_null_not_empty"),
            models.CheckConstraint(condition=~Q(email=""), name="member_email_null_not_empty"),
            # An email belongs to one member, whatever its letter case (NULLs do not collide).
            models.UniqueConstraint(Lower("email"), name="member_email_ci_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.code}"


class MemberRef(models.Model):
    """An external identity: a Taobao buyer name, a POS id, an import's member_ref."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="refs", verbose_name=_("member")
    )
    source = models.CharField(_("source"), max_length=32)
    external_id = models.CharField(_("external id"), max_length=128)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="memberref_source_ext_uniq")
        ]


class AttributeDefinition(models.Model):
    """《自定义属性》: a typed field an operator defines for the shop."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        INTEGER = "integer", _("Integer")
        DECIMAL = "decimal", _("Decimal")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes/no")
        CHOICE = "choice", _("Choice")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_sensitive = models.BooleanField(_("sensitive"), default=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("custom attribute")
        verbose_name_plural = _("custom attributes")

    def __str__(self) -> str:
        return self.label


_VALUE_COLUMNS = ("value_text", "value_int", "value_decimal", "value_date", "value_bool")


class AttributeValue(models.Model):
    """One typed value per member and attribute; exactly one value column is used per type, so
    segments can compare values in SQL."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="attribute_values", verbose_name=_("member")
    )
    definition = models.ForeignKey(
        AttributeDefinition, on_delete=models.CASCADE, related_name="values", verbose_name=_("definition")
    )
    value_text = models.CharField(max_length=500, null=True, blank=True)
    value_int = models.BigIntegerField(null=True, blank=True)
    value_decimal = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    value_bool = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "definition"], name="attrvalue_member_def_uniq"),
            models.CheckConstraint(  # exactly one typed column holds the value (a cleared value is deleted)
                condition=functools.reduce(
                    operator.or_,
                    [
                        Q(**{f"{col}__isnull": col != set_col for col in _VALUE_COLUMNS})
                        for set_col in _VALUE_COLUMNS
                    ],
                ),
                name="attrvalue_exactly_one_column",
            ),
        ]


class Tag(models.Model):
    class Kind(models.TextChoices):
        GENERAL = "general", _("General")
        BEHAVIOUR = "behaviour", _("Behaviour")
        PSYCHOGRAPHIC = "psychographic", _("Psychographic")
        SENSITIVE = "sensitive", _("Sensitive (PIPL art. 28)")

    name = models.CharField(_("name"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GENERAL)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name

    @property
    def is_sensitive(self) -> bool:
        return self.kind == self.Kind.SENSITIVE


class MemberTag(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="member_tags", verbose_name=_("member")
    )
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="member_tags", verbose_name=_("tag"))
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("added by"),
    )
    source = models.CharField(max_length=32, default="operator")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "tag"], name="membertag_uniq")]


class Channel(models.TextChoices):
    """Contact channels with their own consent. ``sensitive_pi`` is not a channel but the
    separate consent PIPL art. 29 asks for before sensitive tags are recorded."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    DIRECT_MAIL = "direct_mail", _("Direct mail")
    APP_PUSH = "app_push", _("App push")
    SENSITIVE_PI = "sensitive_pi", _("Sensitive personal information")


class Consent(models.Model):
    """Current consent per member and channel; the full history is in ConsentEvent."""

    class State(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn / unsubscribed")

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="consents", verbose_name=_("member")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    changed_at = models.DateTimeField(_("changed at"))
    source = models.CharField(_("source"), max_length=64)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["member", "channel"], name="consent_member_channel_uniq")
        ]


class ConsentEvent(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="consent_events", verbose_name=_("member")
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    state = models.CharField(max_length=16, choices=Consent.State.choices)
    at = models.DateTimeField()
    source = models.CharField(max_length=64)
    note = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )

    class Meta:
        ordering = ["-at", "-id"]


class LifecycleEvent(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="lifecycle_events", verbose_name=_("member")
    )
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    at = models.DateTimeField()
    reason = models.CharField(max_length=255, blank=True)


class Agreement(models.Model):
    """会员协议 with versions; a member's acceptance of a version is recorded."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("member agreement")
        verbose_name_plural = _("member agreements")

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class AgreementAcceptance(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="agreement_acceptances", verbose_name=_("member")
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("agreement")
    )
    accepted_at = models.DateTimeField()
    channel = models.CharField(max_length=32, default="store")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "agreement"], name="agreement_acceptance_uniq")
        ]


class CardPolicy(models.Model):
    """Membership card rules (S2/S3 presets): validity, fee, waiver threshold, replacement fee."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("in use"), default=False)
    validity_days = models.PositiveIntegerField(_("validity (days)"), default=730)
    fee_fen = models.PositiveIntegerField(_("card fee (fen)"), default=500)
    group_fee_bp = models.PositiveIntegerField(
        _("group fee rate (basis points)"),
        default=10_000,
        help_text=_("10000 = full fee; 8000 = groups pay eight tenths"),
    )
    waiver_threshold_fen = models.PositiveIntegerField(
        _("fee waived from a single purchase of (fen)"), null=True, blank=True
    )
    free_with_first_purchase = models.BooleanField(_("free with the first-purchase receipt"), default=False)
    replacement_fee_fen = models.PositiveIntegerField(_("replacement fee (fen)"), default=200)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("membership card policy")
        verbose_name_plural = _("membership card policies")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="cardpolicy_one_active"
            ),
            models.CheckConstraint(
                condition=Q(group_fee_bp__lte=10_000), name="cardpolicy_group_fee_bp_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipCard(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        VOID = "void", _("Void")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="membership_cards", verbose_name=_("member")
    )
    number = models.CharField(_("card number"), max_length=32, unique=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.ACTIVE)
    issued_at = models.DateTimeField(_("issued at"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    fee_fen = models.PositiveIntegerField(_("fee paid (fen)"), default=0)
    fee_note = models.CharField(_("fee note"), max_length=100, blank=True)
    issued_at_store = models.ForeignKey(
        Store,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued at store"),
    )
    replaces = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("membership card")
        verbose_name_plural = _("membership cards")
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(state="active"), name="membershipcard_one_active_per_member"
            ),
            models.CheckConstraint(
                condition=Q(state="active", voided_at__isnull=True)
                | Q(state="void", voided_at__isnull=False),
                name="membershipcard_void_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class CorporateAccount(models.Model):
    """Corporate archive (hotel, B2B): 单位 with contact, annual spend and agreed discount."""

    class Klass(models.TextChoices):
        KEY = "key", _("Key customer (重点客户)")
        CONFERENCE = "conference", _("Conference customer (会议客户)")
        POTENTIAL = "potential", _("Potential customer (潜在客户)")

    unit_name = models.CharField(_("unit"), max_length=200)
    contact_name = models.CharField(_("contact"), max_length=60, blank=True)
    position = models.CharField(_("position"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    annual_spend_fen = models.BigIntegerField(_("annual spend (fen)"), default=0)
    agreed_discount_bp = models.PositiveIntegerField(_("agreed price rate (basis points)"), default=10_000)
    klass = models.CharField(_("class"), max_length=16, choices=Klass.choices, default=Klass.POTENTIAL)
    group_account = models.OneToOneField(
        GroupAccount,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="corporate",
        verbose_name=_("group account"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("corporate customer")
        verbose_name_plural = _("corporate archive")
        constraints = [
            models.CheckConstraint(
                condition=Q(agreed_discount_bp__lte=10_000), name="corporate_discount_bp_range"
            ),
            models.CheckConstraint(condition=Q(annual_spend_fen__gte=0), name="corporate_spend_nonneg"),
        ]

    def __str__(self) -> str:
        return self.unit_name


class MergeRecord(models.Model):
    """A merge of duplicates: ``source`` now points to ``target``; what moved is kept."""

    source = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("source"))
    target = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="merges_received", verbose_name=_("target")
    )
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    source_snapshot = models.JSONField()
    moved = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="merge_not_self"),
        ]
