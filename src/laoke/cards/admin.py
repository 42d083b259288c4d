"""Console pages for prepaid cards and the wallet: read-only (value models change only through
services: the API, the cashier page and the CLI). No page shows a PIN or a PIN hash."""

from __future__ import annotations

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import ReadOnlyAdmin
from laoke.core.money import format_yuan

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

    @admin.display(description=_("face value"))
    def face_value(self, obj):
        return format_yuan(obj.face_value_fen)


@admin.register(CardEvent)
class CardEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "card", "action", "channel", "member", "ip")
    list_filter = ("action",)
    search_fields = ("card__number",)
    list_select_related = ("card", "member")


@admin.register(WalletPolicy)
class WalletPolicyAdmin(ReadOnlyAdmin):
    list_display = ("name", "low_balance_threshold_fen", "wallet_payment_rate_bp", "default_close_policy")


@admin.register(WalletClosure)
class WalletClosureAdmin(ReadOnlyAdmin):
    list_display = ("member", "balance_fen", "policy", "confirmed_via", "closed_at", "closed_by")
    list_filter = ("policy", "confirmed_via")
