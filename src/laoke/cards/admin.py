"""Console pages for prepaid cards and the wallet: read-only (value models change only through
services: the API, the cashier page and the CLI). No page shows a PIN or a PIN hash."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import ReadOnlyAdmin, ServiceAdmin, request_lang
from laoke.core.errors import DomainError
from laoke.core.money import format_yuan

from . import services
from .models import Card, CardBatch, CardEvent, WalletClosure, WalletPolicy


@admin.register(CardBatch)
class CardBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "code",
        "kind",
        "face_value",
        "count",
        "progress",
        "state",
        "store",
        "expires_on",
        "created_at",
    )
    list_filter = ("state", "kind")
    search_fields = ("code", "buyer_company", "purpose")
    date_hierarchy = "created_at"
    exclude = ("job_id", "file_name")

    def has_add_permission(self, request):
        return request.user.has_perm("cards.add_cardbatch")

    def add_view(self, request, form_url="", extra_context=None):
        # A batch is created by the service (validated, audited, generated in the background).
        return redirect("cards_batch_new")

    @admin.display(description=_("face value"))
    def face_value(self, obj):
        return format_yuan(obj.face_value_fen)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        pct = round(100 * obj.generated_count / obj.count) if obj.count else 0
        url = reverse("cards_batch_progress", args=[obj.pk])
        return format_html('<a href="{}">{} / {} ({}%)</a>', url, obj.generated_count, obj.count, pct)


@admin.register(Card)
class CardAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "batch",
        "serial",
        "kind",
        "face_value",
        "state",
        "failed_pin_count",
        "expires_on",
    )
    list_filter = ("state", "kind")
    search_fields = ("number", "batch__code")
    exclude = ("pin_hash",)
    list_select_related = ("batch",)
    actions = ["unlock"]

    @admin.action(description=_("Unlock the selected cards (wrong PINs)"), permissions=["unlock"])
    def unlock(self, request, queryset):
        done = 0
        for card in queryset.order_by("pk"):
            try:
                services.card_unlock(
                    card_id=card.pk, reason=f"console: {request.user.get_username()}", actor=request.user
                )
                done += 1
            except DomainError as exc:
                self.message_user(
                    request, f"{card.number}: {exc.message(request_lang(request))}", messages.WARNING
                )
        if done:
            self.message_user(request, _("%(n)d cards unlocked.") % {"n": done}, messages.SUCCESS)

    def has_unlock_permission(self, request):
        return request.user.has_perm("cards.unlock_card")

    @admin.display(description=_("face value"))
    def face_value(self, obj):
        return format_yuan(obj.face_value_fen)


@admin.register(CardEvent)
class CardEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "card", "action", "channel", "member", "ip")
    list_filter = ("action",)
    search_fields = ("card__number",)
    list_select_related = ("card", "member")


class WalletPolicyForm(forms.ModelForm):
    lang = "zh-hans"

    class Meta:
        model = WalletPolicy
        fields = [
            "low_balance_threshold_fen",
            "wallet_payment_rate_bp",
            "payment_order",
            "default_close_policy",
        ]

    def clean(self):
        data = super().clean()
        try:
            services._check_policy({k: data[k] for k in self.Meta.fields if k in data})
        except DomainError as exc:
            field = exc.field if exc.field in self.fields else None
            raise ValidationError(
                {field: exc.message(self.lang)} if field else exc.message(self.lang)
            ) from exc
        return data


@admin.register(WalletPolicy)
class WalletPolicyAdmin(ServiceAdmin):
    """The stored-value settings: changed through ``wallet_policy_update`` (validated, audited)."""

    form = WalletPolicyForm
    list_display = ("name", "low_balance_threshold_fen", "wallet_payment_rate_bp", "default_close_policy")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.lang = getattr(request, "LANGUAGE_CODE", None) or "zh-hans"
        return form

    def has_add_permission(self, request):
        return False  # one row, installed by the presets

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in form.changed_data if k in services.POLICY_CHANGEABLE}
        saved = services.wallet_policy_update(data=data, actor=request.user)
        obj.__dict__.update(saved.__dict__)


@admin.register(WalletClosure)
class WalletClosureAdmin(ReadOnlyAdmin):
    list_display = ("member", "balance_fen", "policy", "confirmed_via", "closed_at", "closed_by")
    list_filter = ("policy", "confirmed_via")
