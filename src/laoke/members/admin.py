"""Console pages for the member archive (django-unfold).

Writes go through the services: each form's clean() runs the services' own checks (a DomainError
becomes a form error on its field) and save_model calls the service, so an admin edit is
validated and audited like an API one. Value-like rows (membership cards) are read-only.

PII is never rendered raw to a user without ``members.view_pii``: list columns are masked, and
the change forms replace PII inputs with masked read-only values. For a user with the
permission, each rendering of a change form with unmasked PII writes a 'pii.view' audit row. The
member list honours the object rule (service agents see no members of group accounts) and links
each member to the console's 360° page.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import FormAdmin, ReadOnlyAdmin, ServiceForm
from laoke.core.errors import DomainError
from laoke.core.money import MoneyFormatError, format_yuan, yuan_to_fen

from . import services
from .accounts import clean_corporate_data, clean_group_data
from .models import (
    Agreement,
    AttributeDefinition,
    CardPolicy,
    CorporateAccount,
    GroupAccount,
    Member,
    MembershipCard,
    Tag,
)
from .privacy import pii_view_record
from .selectors import can_see_pii, can_see_sensitive_tags, member_visible_queryset
from .validation import mask_address, mask_mobile, mask_phone, mobile_national, normalize_mobile

PII_FIELDS = ("mobile", "email", "id_number", "address_raw")


# --- members --------------------------------------------------------------------------------------


class MemberForm(ServiceForm):
    address_raw = forms.CharField(label=_("address"), required=False, max_length=255)
    aliases = {"address": "address_raw"}

    class Meta:
        model = Member
        fields = [
            "name",
            "mobile",
            "email",
            "gender",
            "birthday",
            "id_number",
            "address_raw",
            "source",
            "home_store",
            "group_account",
            "exclude_personalised",
            "notes",
        ]

    def check(self, data):
        payload = _member_payload(data, [k for k in self.fields if k in data])
        values = services.clean_member_data(payload)
        services.check_unique_contact(values, exclude_id=self.instance.pk)


def _member_payload(data: dict, keys) -> dict:
    payload = {k: data.get(k) for k in keys if k in MemberForm.Meta.fields}
    if "address_raw" in payload:
        payload["address"] = payload.pop("address_raw") or None
    for key in ("mobile", "email"):
        if key in payload:
            payload[key] = payload[key] or None
    for key in ("name", "id_number", "notes", "gender"):
        if key in payload and payload[key] is None:
            payload[key] = ""
    return payload


@admin.register(Member)
class MemberAdmin(FormAdmin):
    form = MemberForm
    list_display = (
        "code",
        "name",
        "masked_mobile",
        "province",
        "city",
        "lifecycle",
        "group_account",
        "is_permanent",
        "registered_at",
        "open_360",
    )
    list_filter = ("lifecycle", "status", "source", "is_permanent", "home_store", "gender")
    search_fields = ("code", "name")
    search_help_text = _("Member number, name or mobile (any format)")
    list_per_page = 50
    date_hierarchy = "registered_at"
    ordering = ("-id",)

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return mask_mobile(obj.mobile)  # lists are masked for everyone: unmasking is per member

    @admin.display(description=_("address"))
    def masked_address(self, obj):
        return mask_address(obj.province, obj.city, obj.address_detail)

    @admin.display(description="360")
    def open_360(self, obj):
        return format_html(
            '<a class="text-primary-600 underline" href="{}">{}</a>',
            reverse("member_360", args=[obj.pk]),
            _("360° view"),
        )

    def get_queryset(self, request):
        return member_visible_queryset(request.user).select_related("group_account", "home_store")

    def get_search_results(self, request, queryset, search_term):
        queryset, dup = super().get_search_results(request, queryset, search_term)
        try:
            mobile = normalize_mobile(search_term)
        except DomainError:
            mobile = None
        if mobile:  # exact lookup on the unique index, in any accepted format
            queryset |= self.get_queryset(request).filter(mobile=mobile)
        return queryset, dup

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group_account" and not request.user.has_perm("members.see_group_members"):
            kwargs["queryset"] = GroupAccount.objects.none()  # the object rule also on input
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        fields = list(MemberForm.Meta.fields)
        if obj is not None and not can_see_pii(request.user):
            fields = [f for f in fields if f not in PII_FIELDS] + ["masked_mobile", "masked_address"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not can_see_pii(request.user):
            return ("masked_mobile", "masked_address")
        return ()

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and can_see_pii(request.user):
            obj.mobile = mobile_national(obj.mobile) or None  # shown as typed at the desk
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200 and can_see_pii(request.user):
            member = self.get_queryset(request).filter(pk=object_id).first()
            if member is not None:  # the form showed this member's PII unmasked
                pii_view_record(viewer=request.user, member=member, where="admin")
        return response

    def save_model(self, request, obj, form, change):
        keys = form.changed_data if change else list(form.cleaned_data)
        data = _member_payload(form.cleaned_data, keys)
        if change:
            saved = self.call(request, services.member_update, member_id=obj.pk, data=data)
        else:
            saved = self.call(request, services.member_create, **data)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


# --- group accounts and the corporate archive -----------------------------------------------------


class GroupAccountForm(ServiceForm):
    class Meta:
        model = GroupAccount
        fields = ["name", "kind", "contact_name", "contact_mobile", "manager", "home_store"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "manager" in self.fields:
            self.fields["manager"].queryset = get_user_model().objects.filter(is_staff=True, is_active=True)

    def check(self, data):
        clean_group_data(
            {
                k: data.get(k) or ("" if k in ("contact_name", "contact_mobile") else None)
                for k in self.fields
            },
            creating=self.instance.pk is None,
        )


@admin.register(GroupAccount)
class GroupAccountAdmin(FormAdmin):
    form = GroupAccountForm
    list_display = ("name", "kind", "contact_name", "masked_contact_mobile", "manager", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "contact_name")

    @admin.display(description=_("contact mobile"))
    def masked_contact_mobile(self, obj):
        return mask_mobile(obj.contact_mobile)

    def get_fields(self, request, obj=None):
        fields = list(GroupAccountForm.Meta.fields)
        if obj is not None and not can_see_pii(request.user):
            fields[fields.index("contact_mobile")] = "masked_contact_mobile"
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ("masked_contact_mobile",) if obj is not None and not can_see_pii(request.user) else ()

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        data = {k: cd.get(k) for k in (form.changed_data if change else form.fields)}
        for key in ("contact_name", "contact_mobile"):
            if key in data:
                data[key] = data[key] or ""
        if change:
            saved = self.call(request, services.group_account_update, group_id=obj.pk, data=data)
        else:
            saved = self.call(request, services.group_account_create, **data)
        obj.pk = saved.pk


class CorporateAccountForm(ServiceForm):
    annual_spend_yuan = forms.DecimalField(
        label=_("annual spend (yuan)"), min_value=Decimal(0), max_digits=14, decimal_places=2, initial=0
    )

    class Meta:
        model = CorporateAccount
        fields = [
            "unit_name",
            "klass",
            "contact_name",
            "position",
            "phone",
            "address",
            "agreed_discount_bp",
            "group_account",
        ]
        help_texts = {"agreed_discount_bp": _("10000 = list price; 9000 = 10% off (九折)")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["annual_spend_yuan"].initial = Decimal(self.instance.annual_spend_fen) / 100

    def service_data(self, keys) -> dict:
        cd = self.cleaned_data
        data = {k: cd.get(k) for k in keys if k in CorporateAccountForm.Meta.fields}
        for key in ("contact_name", "position", "phone", "address"):
            if key in data:
                data[key] = data[key] or ""
        if "annual_spend_yuan" in keys:
            try:
                data["annual_spend_fen"] = yuan_to_fen(cd["annual_spend_yuan"])
            except (MoneyFormatError, TypeError) as exc:
                raise ValidationError({"annual_spend_yuan": str(exc)}) from exc
        return data

    def check(self, data):
        clean_corporate_data(self.service_data(list(self.fields)))


@admin.register(CorporateAccount)
class CorporateAccountAdmin(FormAdmin):
    form = CorporateAccountForm
    list_display = (
        "unit_name",
        "klass",
        "contact_name",
        "position",
        "masked_phone",
        "annual_spend_yuan",
        "agreed_discount_bp",
    )
    list_filter = ("klass",)
    search_fields = ("unit_name", "contact_name")

    @admin.display(description=_("annual spend (yuan)"))
    def annual_spend_yuan(self, obj):
        return format_yuan(obj.annual_spend_fen)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description=_("address"))
    def masked_corporate_address(self, obj):
        return f"{obj.address[:6]}****" if obj.address else ""

    def get_fields(self, request, obj=None):
        fields = ["unit_name", "klass", "contact_name", "position", "phone", "address"]
        fields += ["annual_spend_yuan", "agreed_discount_bp", "group_account"]
        if obj is not None and not can_see_pii(request.user):
            fields[fields.index("phone")] = "masked_phone"
            fields[fields.index("address")] = "masked_corporate_address"
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not can_see_pii(request.user):
            return ("masked_phone", "masked_corporate_address")
        return ()

    def save_model(self, request, obj, form, change):
        keys = form.changed_data if change else list(form.fields)
        data = form.service_data(keys)
        if change:
            saved = self.call(request, services.corporate_account_update, corporate_id=obj.pk, data=data)
        else:
            saved = self.call(request, services.corporate_account_create, data=data)
        obj.pk = saved.pk


# --- tags and custom attributes (created through the services; names are not edited) -------------


def _check_sensitive_permission(form, sensitive: bool, field: str) -> None:
    if sensitive and not form.user.has_perm("members.tag_member_sensitive"):
        raise ValidationError({field: _("You may not manage sensitive tags.")})


class TagForm(ServiceForm):
    class Meta:
        model = Tag
        fields = ["name", "kind"]

    def check(self, data):
        _check_sensitive_permission(self, data.get("kind") == Tag.Kind.SENSITIVE, "kind")


@admin.register(Tag)
class TagAdmin(FormAdmin):
    form = TagForm
    list_display = ("name", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not can_see_sensitive_tags(request.user):
            qs = qs.exclude(kind=Tag.Kind.SENSITIVE)
        return qs

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        obj.pk = self.call(request, services.tag_create, name=cd["name"], kind=cd["kind"]).pk


class AttributeDefinitionForm(ServiceForm):
    choices_text = forms.CharField(
        label=_("choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For a choice attribute: one choice per line."),
    )
    aliases = {"choices": "choices_text"}

    class Meta:
        model = AttributeDefinition
        fields = ["key", "label", "type", "is_sensitive"]

    def choices(self) -> list[str]:
        text = self.cleaned_data.get("choices_text") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def check(self, data):
        _check_sensitive_permission(self, bool(data.get("is_sensitive")), "is_sensitive")
        if data.get("type") == AttributeDefinition.Type.CHOICE and not self.choices():
            raise ValidationError({"choices_text": _("A choice attribute needs its choices.")})


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(FormAdmin):
    form = AttributeDefinitionForm
    list_display = ("key", "label", "type", "choices", "is_sensitive", "created_at")
    list_filter = ("type", "is_sensitive")

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        obj.pk = self.call(
            request,
            services.attribute_definition_create,
            key=cd["key"],
            label=cd["label"],
            type=cd["type"],
            choices=form.choices(),
            is_sensitive=cd["is_sensitive"],
        ).pk


# --- card policies and agreements -----------------------------------------------------------------


def _yuan_field(label, *, required=True):
    return forms.DecimalField(
        label=label, required=required, min_value=Decimal(0), max_digits=9, decimal_places=2
    )


class CardPolicyForm(ServiceForm):
    fee_yuan = _yuan_field(_("card fee (yuan)"))
    waiver_threshold_yuan = _yuan_field(_("fee waived from a single purchase of (yuan)"), required=False)
    replacement_fee_yuan = _yuan_field(_("replacement fee (yuan)"))
    activate = forms.BooleanField(
        label=_("in use"),
        required=False,
        help_text=_("New cards follow the active policy; activating this one retires the other."),
    )

    class Meta:
        model = CardPolicy
        fields = ["name", "validity_days", "group_fee_bp", "free_with_first_purchase"]
        help_texts = {"validity_days": _("0 = cards never expire; the seed presets use 730 (two years).")}

    def policy_kwargs(self) -> dict:
        cd = self.cleaned_data
        threshold = cd.get("waiver_threshold_yuan")
        return {
            "name": cd["name"],
            "validity_days": cd["validity_days"],
            "fee_fen": yuan_to_fen(cd["fee_yuan"]),
            "group_fee_bp": cd["group_fee_bp"],
            "waiver_threshold_fen": None if threshold is None else yuan_to_fen(threshold),
            "free_with_first_purchase": cd["free_with_first_purchase"],
            "replacement_fee_fen": yuan_to_fen(cd["replacement_fee_yuan"]),
            "activate": cd["activate"],
        }


@admin.register(CardPolicy)
class CardPolicyAdmin(FormAdmin):
    """Policies are added, not edited (cards issued under one keep its terms); switch with the
    'activate' action."""

    form = CardPolicyForm
    list_display = (
        "name",
        "is_active",
        "validity_days",
        "fee",
        "group_fee_bp",
        "waiver_threshold",
        "free_with_first_purchase",
        "replacement_fee",
    )
    actions = ["activate"]

    @admin.display(description=_("card fee"))
    def fee(self, obj):
        return format_yuan(obj.fee_fen)

    @admin.display(description=_("waiver threshold"))
    def waiver_threshold(self, obj):
        return "—" if obj.waiver_threshold_fen is None else format_yuan(obj.waiver_threshold_fen)

    @admin.display(description=_("replacement fee"))
    def replacement_fee(self, obj):
        return format_yuan(obj.replacement_fee_fen)

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        # A saved policy is shown read-only: its columns, not the add form's (whose 'activate'
        # field would resolve to the action of that name).
        return list(self.list_display) if obj is not None else super().get_fields(request, obj)

    def get_actions(self, request):
        return super(FormAdmin, self).get_actions(request)

    def has_activate_permission(self, request):
        return request.user.has_perm("members.add_cardpolicy")

    @admin.action(description=_("Make the selected policy the active one"), permissions=["activate"])
    def activate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one policy."))
            return
        policy = self.call(request, services.card_policy_activate, policy_id=queryset.get().pk)
        messages.success(request, _("%(name)s is now the active policy.") % {"name": policy.name})

    def save_model(self, request, obj, form, change):
        obj.pk = self.call(request, services.card_policy_create, **form.policy_kwargs()).pk


class AgreementForm(ServiceForm):
    publish = forms.BooleanField(
        label=_("publish now"),
        required=False,
        help_text=_("A published version can be accepted by members and is never changed again."),
    )

    class Meta:
        model = Agreement
        fields = ["version", "title", "body"]


@admin.register(Agreement)
class AgreementAdmin(FormAdmin):
    form = AgreementForm
    list_display = ("version", "title", "published_at", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return ("version",) if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.published_at is not None:
            return False  # a published text is frozen
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        version = obj.version if change else cd["version"]
        fn = services.agreement_publish if cd.get("publish") else services.agreement_draft_save
        obj.pk = self.call(request, fn, version=version, title=cd["title"], body=cd["body"]).pk


# --- membership cards (value: read-only) ----------------------------------------------------------


@admin.register(MembershipCard)
class MembershipCardAdmin(ReadOnlyAdmin):
    list_display = ("number", "member", "state", "issued_at", "valid_until", "fee", "fee_note")
    list_filter = ("state",)
    search_fields = ("number", "member__code")
    fields = (
        "number",
        "member",
        "state",
        "issued_at",
        "valid_until",
        "fee",
        "fee_note",
        "issued_at_store",
        "replaces",
        "voided_at",
        "void_reason",
    )
    readonly_fields = fields

    @admin.display(description=_("fee paid"))
    def fee(self, obj):
        return format_yuan(obj.fee_fen)

    def get_queryset(self, request):
        visible = member_visible_queryset(request.user, include_inactive=True)
        return super().get_queryset(request).filter(member__in=visible).select_related("member")
