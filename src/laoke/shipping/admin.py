"""Console pages for shipping rules (django-unfold).

Every write goes through the shipping services (validated, audited): the forms' clean() runs the
services' checks (a DomainError becomes a field error), save_model calls the service. Amounts are
entered in yuan and stored in fen. Region groups are shown here and changed through the API (the
whole list at once, ``PATCH /api/v1/shipping/rule-sets/{id}``).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from laoke.core.admin import FormAdmin, ReadOnlyAdmin
from laoke.core.admin import ServiceForm as CoreServiceForm
from laoke.core.errors import DomainError
from laoke.core.money import MoneyFormatError, fen_to_yuan, format_yuan, yuan_to_fen

from . import services
from .error_codes import SHIPPING_RULE_SET_ACTIVE
from .models import PostageRate, RegionAssignment, ShippingRule, ShippingRuleSet


class ServiceForm(CoreServiceForm):
    def _post_clean(self):
        pass  # the services validate and save


def _yuan_field(label, help_text=""):
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
        help_text=help_text,
    )


def _fen(form, name: str) -> int:
    try:
        return yuan_to_fen(form.cleaned_data.get(name) or Decimal("0"))
    except MoneyFormatError as exc:
        raise ValidationError({name: str(exc)}) from exc


# --- rule sets -------------------------------------------------------------------------------------


class RuleSetForm(ServiceForm):
    class Meta:
        model = ShippingRuleSet
        fields = ["code", "name", "old_customer_min_orders", "old_customer_window_months", "is_active"]

    def check(self, data):
        if self.instance.pk and self.instance.is_active and not data.get("is_active"):
            raise DomainError(SHIPPING_RULE_SET_ACTIVE, field="is_active")
        services.check_rule_set(
            name=data.get("name"),
            old_customer_min_orders=data.get("old_customer_min_orders"),
            old_customer_window_months=data.get("old_customer_window_months"),
        )


class _ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RuleInline(_ReadOnlyInline):
    model = ShippingRule
    fields = ("rank", "code", "name", "member", "region", "min_subtotal_fen", "outcome", "amount_fen")
    readonly_fields = fields
    show_change_link = True


class RateInline(_ReadOnlyInline):
    model = PostageRate
    fields = ("courier", "region_group", "postage_fen")
    readonly_fields = fields
    show_change_link = True


class RegionInline(_ReadOnlyInline):
    model = RegionAssignment
    fields = ("province", "region_group")
    readonly_fields = fields


@admin.register(ShippingRuleSet)
class ShippingRuleSetAdmin(FormAdmin):
    form = RuleSetForm
    list_display = (
        "code",
        "name",
        "is_active",
        "old_customer_min_orders",
        "old_customer_window_months",
        "updated_at",
    )
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    inlines = [RuleInline, RateInline, RegionInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        if change:
            data = {k: cd[k] for k in form.changed_data if k in services.SET_CHANGEABLE}
            saved = self.call(request, services.shipping_rule_set_update, rule_set_id=obj.pk, data=data)
        else:
            saved = self.call(
                request,
                services.shipping_rule_set_create,
                code=cd["code"],
                name=cd["name"],
                old_customer_min_orders=cd["old_customer_min_orders"],
                old_customer_window_months=cd.get("old_customer_window_months"),
                is_active=bool(cd.get("is_active")),
            )
        obj.pk = saved.pk
        obj.__dict__.update(ShippingRuleSet.objects.get(pk=saved.pk).__dict__)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # read-only inlines: nothing to save
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- rules -----------------------------------------------------------------------------------------


class RuleForm(ServiceForm):
    min_subtotal = _yuan_field(_("minimum order amount (yuan)"), _("Inclusive: 150.00 means 150元 or more."))
    amount = _yuan_field(_("amount (yuan)"), _("Only for 'postage minus an amount' and 'a flat amount'."))

    class Meta:
        model = ShippingRule
        fields = ["rule_set", "rank", "code", "name", "member", "region", "outcome", "gift_alternative"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["min_subtotal"].initial = fen_to_yuan(self.instance.min_subtotal_fen)
            self.fields["amount"].initial = fen_to_yuan(self.instance.amount_fen)

    def values(self) -> dict:
        cd = self.cleaned_data
        return {
            **{k: cd.get(k) for k in ("rank", "code", "name", "member", "region", "outcome")},
            "gift_alternative": bool(cd.get("gift_alternative")),
            "min_subtotal_fen": _fen(self, "min_subtotal"),
            "amount_fen": _fen(self, "amount"),
        }

    def check(self, data):
        rule_set = data.get("rule_set") or self.instance.rule_set
        values = self.values()
        services.check_rule(values)
        others = ShippingRule.objects.filter(rule_set=rule_set).exclude(pk=self.instance.pk)
        if others.filter(rank=values["rank"]).exists():
            raise ValidationError({"rank": _("Another rule of this set has this rank.")})
        if others.filter(code=values["code"]).exists():
            raise ValidationError({"code": _("Another rule of this set has this code.")})


@admin.register(ShippingRule)
class ShippingRuleAdmin(FormAdmin):
    form = RuleForm
    list_display = ("rule_set", "rank", "code", "name", "member", "region", "min_subtotal_display", "outcome")
    list_filter = ("rule_set", "member", "region", "outcome")
    list_select_related = ("rule_set",)
    search_fields = ("code", "name")
    ordering = ("rule_set", "rank")

    @admin.display(description=_("minimum order amount"), ordering="min_subtotal_fen")
    def min_subtotal_display(self, obj):
        return format_yuan(obj.min_subtotal_fen)

    def get_fields(self, request, obj=None):
        f = list(RuleForm.Meta.fields)
        f.insert(f.index("outcome"), "min_subtotal")
        f.insert(f.index("outcome") + 1, "amount")
        return f

    def get_readonly_fields(self, request, obj=None):
        return ("rule_set",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("shipping.delete_shippingrule")

    def delete_view(self, request, object_id, extra_context=None):
        return self._delete_view(request, object_id, extra_context)  # the service opens its transaction

    def delete_model(self, request, obj):
        self.call(request, services.shipping_rule_delete, rule_id=obj.pk)

    def save_model(self, request, obj, form, change):
        rule_set = obj.rule_set if change else form.cleaned_data["rule_set"]
        saved = self.call(
            request,
            services.shipping_rule_save,
            rule_set=rule_set,
            rule_id=obj.pk if change else None,
            data=form.values(),
        )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


# --- postage table --------------------------------------------------------------------------------


class RateForm(ServiceForm):
    postage = _yuan_field(_("postage (yuan)"))

    class Meta:
        model = PostageRate
        fields = ["rule_set", "courier", "region_group"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["postage"].initial = fen_to_yuan(self.instance.postage_fen)

    def check(self, data):
        services.check_rate(
            {
                "courier": data.get("courier") or self.instance.courier,
                "region_group": data.get("region_group") or self.instance.region_group,
                "postage_fen": _fen(self, "postage"),
            }
        )


@admin.register(PostageRate)
class PostageRateAdmin(FormAdmin):
    form = RateForm
    list_display = ("rule_set", "courier", "region_group", "postage_display")
    list_filter = ("rule_set", "courier", "region_group")
    list_select_related = ("rule_set",)
    ordering = ("rule_set", "courier", "region_group")

    @admin.display(description=_("postage"), ordering="postage_fen")
    def postage_display(self, obj):
        return format_yuan(obj.postage_fen)

    def get_fields(self, request, obj=None):
        return ["rule_set", "courier", "region_group", "postage"]

    def get_readonly_fields(self, request, obj=None):
        return ("rule_set", "courier", "region_group") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        saved = self.call(
            request,
            services.postage_rate_save,
            rule_set=obj.rule_set if change else cd["rule_set"],
            courier=obj.courier if change else cd["courier"],
            region_group=obj.region_group if change else cd["region_group"],
            postage_fen=_fen(form, "postage"),
        )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


@admin.register(RegionAssignment)
class RegionAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("rule_set", "province", "region_group")
    list_filter = ("rule_set", "region_group")
    list_select_related = ("rule_set",)
