"""Console pages for coupons: templates are created and changed through the services
(validated, audited); issued coupons are value and read-only (void is an audited action)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import FormAdmin, ReadOnlyAdmin, ServiceForm, request_lang
from laoke.core.errors import DomainError
from laoke.core.money import format_yuan

from . import services
from .models import Coupon, CouponTemplate

FORM_FIELDS = list(services.EDITABLE)


class CouponTemplateForm(ServiceForm):
    class Meta:
        model = CouponTemplate
        fields = FORM_FIELDS

    def check(self, data: dict) -> None:
        merged = {name: data.get(name) for name in FORM_FIELDS}
        merged["product_skus"] = merged["product_skus"] or []
        services._template_check(merged)


@admin.register(CouponTemplate)
class CouponTemplateAdmin(FormAdmin):
    form = CouponTemplateForm
    list_display = (
        "name",
        "kind",
        "value",
        "issued_count",
        "total_limit",
        "budget",
        "channel_code",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("name", "channel_code")
    readonly_fields = ("issued_count", "issued_value_fen")

    @admin.display(description=_("value"))
    def value(self, obj):
        if obj.kind == "percent":
            return f"{obj.rate_off_bp / 100:g}%"
        return format_yuan(obj.amount_off_fen) if obj.amount_off_fen else "-"

    @admin.display(description=_("budget"))
    def budget(self, obj):
        if obj.budget_fen is None:
            return "-"
        return f"{format_yuan(obj.issued_value_fen)} / {format_yuan(obj.budget_fen)}"

    def save_model(self, request, obj, form, change):
        if change:
            data = {k: form.cleaned_data.get(k) for k in form.changed_data if k in services.EDITABLE}
            saved = self.call(request, services.coupon_template_update, template_id=obj.pk, data=data)
        else:
            data = {k: form.cleaned_data.get(k) for k in FORM_FIELDS}
            data["product_skus"] = data["product_skus"] or []
            saved = self.call(request, services.coupon_template_create, data=data)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdmin):
    list_display = ("code", "template", "member", "state", "channel", "issued_at", "valid_to", "order_ref")
    list_filter = ("state", "template__kind")
    search_fields = ("code", "order_ref", "template__name")
    list_select_related = ("template", "member")
    raw_id_fields = ("member",)
    actions = ["void"]

    @admin.action(description=_("Void the selected coupons"), permissions=["void"])
    def void(self, request, queryset):
        done = 0
        for coupon in queryset.order_by("pk"):
            try:
                services.coupon_void(
                    coupon_id=coupon.pk, reason=f"console: {request.user.get_username()}", actor=request.user
                )
                done += 1
            except DomainError as exc:
                self.message_user(
                    request, f"{coupon.code}: {exc.message(request_lang(request))}", messages.WARNING
                )
        if done:
            self.message_user(request, _("%(n)d coupons voided.") % {"n": done}, messages.SUCCESS)

    def has_void_permission(self, request):
        return request.user.has_perm("promotions.change_coupon")
