"""Console pages for the member archive (django-unfold).

Writes go through the services: the admin forms validate with the same normalisers and
save_model calls member_create/member_update, so an admin edit is audited like an API one.
PII is never rendered raw to a user without ``members.view_pii``: list columns are masked and
the change form shows masked read-only values instead of the inputs.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import ReadOnlyAdmin, ServiceAdmin
from laoke.core.errors import DomainError

from . import services
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
from .selectors import can_see_pii, member_visible_queryset
from .validation import mask_address, mask_mobile, mobile_national

PII_FIELDS = ("mobile", "email", "id_number", "address_raw")


class MemberForm(forms.ModelForm):
    address_raw = forms.CharField(label=_("address"), required=False, max_length=255)

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

    def clean(self):
        data = super().clean()
        payload = {k: v for k, v in data.items() if k in self.fields and k != "address_raw"}
        if "address_raw" in data:
            payload["address"] = data["address_raw"]
        if "mobile" in payload:
            payload["mobile"] = payload["mobile"] or None
        if "email" in payload:
            payload["email"] = payload["email"] or None
        try:
            values = services.clean_member_data(payload)  # the services' own rules, before saving
            services.check_unique_contact(values, exclude_id=self.instance.pk)
        except DomainError as exc:
            field = exc.field if exc.field in self.fields else None
            field = "address_raw" if exc.field == "address" else field
            raise ValidationError(
                {field: exc.message(self.lang)} if field else exc.message(self.lang)
            ) from exc
        return data

    lang = "zh-hans"


@admin.register(Member)
class MemberAdmin(ServiceAdmin):
    form = MemberForm
    list_display = (
        "code",
        "name",
        "masked_mobile",
        "province",
        "city",
        "lifecycle",
        "group_account",
        "registered_at",
        "open_360",
    )
    list_filter = ("lifecycle", "status", "source", "home_store", "gender")
    search_fields = ("code", "name")
    list_per_page = 50
    date_hierarchy = "registered_at"
    ordering = ("-id",)

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return mask_mobile(obj.mobile)

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
        from .validation import normalize_mobile

        try:
            mobile = normalize_mobile(search_term)
        except DomainError:
            mobile = None
        if mobile:
            queryset |= self.get_queryset(request).filter(mobile=mobile)
        return queryset, dup

    def get_fields(self, request, obj=None):
        fields = list(MemberForm.Meta.fields)
        if obj is not None and not can_see_pii(request.user):
            fields = [f for f in fields if f not in PII_FIELDS] + ["masked_mobile", "masked_address"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not can_see_pii(request.user):
            return ("masked_mobile", "masked_address")
        return ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.lang = getattr(request, "LANGUAGE_CODE", "zh-hans")
        return form

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and can_see_pii(request.user):
            obj.mobile = mobile_national(obj.mobile) or None
        return obj

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        raw = {k: cd.get(k) for k in form.changed_data if k in MemberForm.Meta.fields}
        if "address_raw" in raw:
            raw["address"] = raw.pop("address_raw") or None
        for key in ("mobile", "email"):
            if key in raw:
                raw[key] = raw[key] or None
        try:
            if change:
                saved = services.member_update(member_id=obj.pk, data=raw, actor=request.user)
            else:
                saved = services.member_create(**raw, actor=request.user)
        except DomainError as exc:  # a race lost after the form validated (e.g. duplicate mobile)
            messages.error(request, exc.message(getattr(request, "LANGUAGE_CODE", "zh-hans")))
            raise
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def has_delete_permission(self, request, obj=None):
        return False  # members are anonymised (PIPL), merged, or kept; never deleted

    def get_actions(self, request):
        return {}


@admin.register(GroupAccount)
class GroupAccountAdmin(ReadOnlyAdmin):  # written through the API/services (validated, audited)
    list_display = ("name", "kind", "contact_name", "manager", "created_at")
    search_fields = ("name",)
    readonly_fields = ("created_at",)


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not request.user.has_perm("members.view_sensitive_tag"):
            qs = qs.exclude(kind=Tag.Kind.SENSITIVE)
        return qs


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(ReadOnlyAdmin):
    list_display = ("key", "label", "type", "is_sensitive", "created_at")


@admin.register(CorporateAccount)
class CorporateAccountAdmin(ReadOnlyAdmin):
    list_display = (
        "unit_name",
        "klass",
        "contact_name",
        "position",
        "annual_spend_yuan",
        "agreed_discount_bp",
    )
    list_filter = ("klass",)
    search_fields = ("unit_name", "contact_name")

    @admin.display(description=_("annual spend (yuan)"))
    def annual_spend_yuan(self, obj):
        return f"¥{obj.annual_spend_fen / 100:,.2f}"


@admin.register(MembershipCard)
class MembershipCardAdmin(ReadOnlyAdmin):
    list_display = ("number", "member", "state", "issued_at", "valid_until", "fee_fen", "fee_note")
    list_filter = ("state",)
    search_fields = ("number",)


@admin.register(CardPolicy)
class CardPolicyAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "is_active",
        "validity_days",
        "fee_fen",
        "waiver_threshold_fen",
        "free_with_first_purchase",
        "replacement_fee_fen",
    )


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ("version", "title", "published_at")
