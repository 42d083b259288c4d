"""Console pages for referrals: the programme and the subsidy table change through the services
(validated, audited); referrals, subsidies and referral sales are value records, read-only."""

from __future__ import annotations

from django.contrib import admin

from laoke.core.admin import FormAdmin, ReadOnlyAdmin, ServiceForm

from . import services
from .models import Referral, ReferralProgramme, ReferralSale, ReferralSubsidy, SubsidyRule

PROGRAMME_FORM_FIELDS = list(services.PROGRAMME_FIELDS)


class ReferralProgrammeForm(ServiceForm):
    class Meta:
        model = ReferralProgramme
        fields = PROGRAMME_FORM_FIELDS

    def check(self, data: dict) -> None:
        services._programme_clean({name: data.get(name) for name in PROGRAMME_FORM_FIELDS})


@admin.register(ReferralProgramme)
class ReferralProgrammeAdmin(FormAdmin):
    form = ReferralProgrammeForm
    list_display = (
        "__str__",
        "is_active",
        "trigger",
        "referrer_template",
        "new_member_template",
        "kpi_target_bp",
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ReferralProgramme.objects.exists()

    def save_model(self, request, obj, form, change):
        data = {
            k: form.cleaned_data.get(k) for k in PROGRAMME_FORM_FIELDS if not change or k in form.changed_data
        }
        saved = self.call(request, services.referral_programme_update, data=data)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


class SubsidyRuleForm(ServiceForm):
    class Meta:
        model = SubsidyRule
        fields = ["product", "category", "amount_fen", "is_active"]

    def check(self, data: dict) -> None:
        if (data.get("product") is None) == (data.get("category") is None):
            raise services._bad("product")
        amount = data.get("amount_fen")
        if amount is None or not services.SUBSIDY_MIN_FEN <= amount <= services.SUBSIDY_MAX_FEN:
            raise services._bad("amount_fen")


@admin.register(SubsidyRule)
class SubsidyRuleAdmin(FormAdmin):
    form = SubsidyRuleForm
    list_display = ("product", "category", "amount_fen", "is_active", "updated_at")
    list_filter = ("is_active",)
    raw_id_fields = ("product",)

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        saved = self.call(
            request,
            services.subsidy_rule_save,
            product=cd.get("product"),
            category=cd.get("category"),
            amount_fen=cd["amount_fen"],
            is_active=cd.get("is_active", True),
        )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("referrer", "new_member", "state", "trigger", "reason", "created_at", "rewarded_at")
    list_filter = ("state", "trigger")
    search_fields = ("referrer__code", "new_member__code", "device_id", "reward_order_ref")
    list_select_related = ("referrer", "new_member")
    raw_id_fields = ("referrer", "new_member", "referrer_coupon", "new_member_coupon")


@admin.register(ReferralSubsidy)
class ReferralSubsidyAdmin(ReadOnlyAdmin):
    list_display = (
        "order_ref",
        "product",
        "quantity",
        "amount_fen",
        "state",
        "reversed_fen",
        "shortfall_fen",
    )
    list_filter = ("state",)
    search_fields = ("order_ref",)
    list_select_related = ("product",)


@admin.register(ReferralSale)
class ReferralSaleAdmin(ReadOnlyAdmin):
    list_display = ("order_ref", "member", "amount_fen", "month", "refund_month")
    list_filter = ("month",)
    search_fields = ("order_ref",)
    list_select_related = ("member",)
