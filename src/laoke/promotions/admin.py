"""Console pages for coupons: templates are created and changed through the services
(validated, audited); issued coupons are value and read-only (void is an audited action). Order
rules: gift rules and member prices are edited through their services; 满就送 rules and bundles
(nested tier/item lists, written through the API) are shown with their lists and switched on and
off by audited actions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from laoke.core.admin import FormAdmin, ReadOnlyAdmin, ServiceForm, request_lang
from laoke.core.errors import DomainError
from laoke.core.money import format_yuan

from . import rule_services, services
from .models import (
    Bundle,
    BundleGift,
    BundleItem,
    Coupon,
    CouponTemplate,
    FullSendRule,
    FullSendTier,
    GiftRule,
    MemberPrice,
)

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


# --- order rules ----------------------------------------------------------------------------------


class GiftRuleForm(ServiceForm):
    class Meta:
        model = GiftRule
        fields = list(rule_services.GIFT_FIELDS)

    def check(self, data: dict) -> None:
        rule_services._check_gift({name: data.get(name) for name in rule_services.GIFT_FIELDS})


@admin.register(GiftRule)
class GiftRuleAdmin(FormAdmin):
    """Gift rules are edited here through the services (validated, audited)."""

    form = GiftRuleForm
    list_display = ("code", "name", "kind", "threshold", "gift", "gift_qty", "members_only", "is_active")
    list_filter = ("kind", "is_active", "members_only")
    search_fields = ("code", "name")
    list_select_related = ("gift_product", "gift_item")

    @admin.display(description=_("threshold"))
    def threshold(self, obj):
        return format_yuan(obj.threshold_fen) if obj.threshold_fen else "-"

    @admin.display(description=_("gift"))
    def gift(self, obj):
        return obj.gift_product or obj.gift_item

    def save_model(self, request, obj, form, change):
        if change:
            data = {k: form.cleaned_data.get(k) for k in form.changed_data if k in rule_services.GIFT_FIELDS}
            saved = self.call(request, rule_services.gift_rule_update, rule_id=obj.pk, data=data)
        else:
            data = {k: form.cleaned_data.get(k) for k in rule_services.GIFT_FIELDS}
            saved = self.call(request, rule_services.gift_rule_create, data=data)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


class MemberPriceForm(ServiceForm):
    class Meta:
        model = MemberPrice
        fields = list(rule_services.MEMBER_PRICE_FIELDS)

    def check(self, data: dict) -> None:
        rule_services._check_member_price({k: data.get(k) for k in rule_services.MEMBER_PRICE_FIELDS})


@admin.register(MemberPrice)
class MemberPriceAdmin(FormAdmin):
    form = MemberPriceForm
    list_display = ("product", "price", "valid_from", "valid_to", "is_active")
    list_filter = ("is_active",)
    search_fields = ("product__sku", "product__title")
    list_select_related = ("product",)
    raw_id_fields = ("product",)

    @admin.display(description=_("member price"))
    def price(self, obj):
        return format_yuan(obj.price_fen)

    def save_model(self, request, obj, form, change):
        fields = rule_services.MEMBER_PRICE_FIELDS
        if change:
            data = {k: form.cleaned_data.get(k) for k in form.changed_data if k in fields}
            saved = self.call(request, rule_services.member_price_update, price_id=obj.pk, data=data)
        else:
            data = {k: form.cleaned_data.get(k) for k in fields}
            saved = self.call(request, rule_services.member_price_create, data=data)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


class _ActiveToggle:
    """Rules with nested lists are written through the API (lists replace as a whole); the
    console shows them and switches them on and off through the update service (audited)."""

    update = None  # (service, id keyword)
    actions = ["activate", "deactivate"]

    def _set(self, request, queryset, active: bool):
        service, key = self.update
        done = 0
        for obj in queryset.order_by("pk"):
            try:
                service(**{key: obj.pk}, data={"is_active": active}, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.message(request_lang(request))}", messages.WARNING)
        if done:
            self.message_user(request, _("%(n)d rules changed.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Activate the selected rules"), permissions=["toggle"])
    def activate(self, request, queryset):
        self._set(request, queryset, True)

    @admin.action(description=_("Deactivate the selected rules"), permissions=["toggle"])
    def deactivate(self, request, queryset):
        self._set(request, queryset, False)


class FullSendTierInline(TabularInline):
    model = FullSendTier
    fields = ("threshold_fen", "template", "retired_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FullSendRule)
class FullSendRuleAdmin(_ActiveToggle, ReadOnlyAdmin):
    update = (rule_services.full_send_rule_update, "rule_id")
    list_display = ("code", "name", "mode", "valid_from", "valid_to", "is_active")
    list_filter = ("mode", "is_active")
    search_fields = ("code", "name")
    inlines = [FullSendTierInline]

    def has_toggle_permission(self, request):
        return request.user.has_perm("promotions.change_fullsendrule")


class BundleItemInline(TabularInline):
    model = BundleItem
    fields = ("product", "quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class BundleGiftInline(BundleItemInline):
    model = BundleGift
    fields = ("gift_item", "quantity")
    readonly_fields = fields


@admin.register(Bundle)
class BundleAdmin(_ActiveToggle, ReadOnlyAdmin):
    update = (rule_services.bundle_update, "bundle_id")
    list_display = ("code", "name", "hot_product", "bundle_price", "free_shipping_template", "is_active")
    list_filter = ("is_active", "members_only")
    search_fields = ("code", "name", "hot_product__sku")
    list_select_related = ("hot_product", "free_shipping_template")
    inlines = [BundleItemInline, BundleGiftInline]

    @admin.display(description=_("bundle price"))
    def bundle_price(self, obj):
        return "-" if obj.bundle_price_fen is None else format_yuan(obj.bundle_price_fen)

    def has_toggle_permission(self, request):
        return request.user.has_perm("promotions.change_bundle")
