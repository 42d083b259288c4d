"""Console pages for points (django-unfold): the programme's settings, earn rules, gift levels and
store catalogues, receipt claims (approved or rejected through the service), and read-only
history (lots, earnings, redemptions, refunds, sign-ins, migrations).

Every save calls a service (validated, audited with the staff user); a service's refusal comes
back as a form error. Value rows are read-only and nothing is deleted.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from laoke.core.admin import FormAdmin, ReadOnlyAdmin, ServiceForm, request_lang
from laoke.core.errors import DomainError

from . import services
from .models import (
    EarnRule,
    GiftLevel,
    GiftOffer,
    GiftRedemption,
    PointsEarning,
    PointsLot,
    PointsMigrationEntry,
    PointsProgramme,
    PointsRefund,
    ReceiptClaim,
    SignIn,
)
from .programme import EDITABLE, clean_programme_data


class _PointsAdmin(FormAdmin):
    @staticmethod
    def _adopt(obj, saved):
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


# --- programme -----------------------------------------------------------------------------------

PROGRAMME_FIELDS = [
    "name",
    "points_per_yuan",
    "rounding",
    "expiry_months",
    "reminder_days",
    "allow_negative",
    "window_start_day",
    "window_end_day",
    "gift_budget_bp",
    "permanent_points",
    "claim_days",
    "signin_points",
    "signin_streak_bonus",
]
assert set(PROGRAMME_FIELDS) == EDITABLE


class ProgrammeForm(ServiceForm):
    class Meta:
        model = PointsProgramme
        fields = PROGRAMME_FIELDS

    def clean(self):
        data = super().clean()
        changed = {k: data.get(k) for k in self.changed_data if k in EDITABLE}
        try:
            clean_programme_data(changed, self.instance)
        except DomainError as exc:
            self.domain_error(exc)
        return data


@admin.register(PointsProgramme)
class PointsProgrammeAdmin(_PointsAdmin):
    form = ProgrammeForm
    list_display = (
        "name",
        "code",
        "is_active",
        "points_per_yuan",
        "expiry_months",
        "window_start_day",
        "window_end_day",
    )
    readonly_fields = ("code", "is_active")

    def has_add_permission(self, request):
        return False  # the preset installer creates the programme

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data.get(k) for k in form.changed_data if k in EDITABLE}
        self._adopt(obj, self.call(request, services.programme_update, data=data))


# --- earn rules ------------------------------------------------------------------------------------


class EarnRuleForm(ServiceForm):
    class Meta:
        model = EarnRule
        fields = [
            "kind",
            "name",
            "multiplier_bp",
            "category",
            "weekday",
            "day_of_month",
            "campaign_code",
            "valid_from",
            "valid_until",
            "is_active",
        ]


@admin.register(EarnRule)
class EarnRuleAdmin(_PointsAdmin):
    form = EarnRuleForm
    list_display = (
        "name",
        "kind",
        "multiplier_bp",
        "category",
        "weekday",
        "day_of_month",
        "campaign_code",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("name", "campaign_code")

    def get_readonly_fields(self, request, obj=None):
        return ("kind",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        fields = [f for f in EarnRuleForm.Meta.fields if f != "kind"]
        try:
            if change:
                data = {k: cd.get(k) for k in form.changed_data if k in fields}
                saved = services.earn_rule_update(rule_id=obj.pk, data=data, actor=request.user)
            else:
                data = {k: cd.get(k) for k in fields}
                data["campaign_code"] = data.get("campaign_code") or ""
                saved = services.earn_rule_create(kind=cd["kind"], data=data, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message(request_lang(request)))
            raise
        self._adopt(obj, saved)


# --- gift levels and store catalogues -----------------------------------------------------------------


@admin.register(GiftLevel)
class GiftLevelAdmin(_PointsAdmin):
    list_display = ("name", "points", "value_fen", "is_active")
    fields = ("points", "name", "value_fen")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        self._adopt(
            obj,
            self.call(
                request,
                services.gift_level_create,
                points=cd["points"],
                name=cd["name"],
                value_fen=cd.get("value_fen"),
            ),
        )


class GiftOfferForm(ServiceForm):
    class Meta:
        model = GiftOffer
        fields = ["store", "level", "gift"]


@admin.register(GiftOffer)
class GiftOfferAdmin(_PointsAdmin):
    form = GiftOfferForm
    list_display = ("store", "level", "gift", "is_active")
    list_filter = ("store", "level", "is_active")
    list_select_related = ("store", "level", "gift")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        self._adopt(
            obj,
            self.call(
                request, services.gift_offer_add, store=cd["store"], level=cd["level"], gift=cd["gift"]
            ),
        )


# --- receipt claims ------------------------------------------------------------------------------------


@admin.register(ReceiptClaim)
class ReceiptClaimAdmin(ReadOnlyAdmin):
    list_display = (
        "receipt_no",
        "store",
        "member",
        "paid_fen",
        "purchased_at",
        "status",
        "decided_at",
        "decided_by",
    )
    list_filter = ("status", "store")
    search_fields = ("receipt_no",)
    list_select_related = ("store", "member", "decided_by")
    actions = ["approve", "reject"]

    def _decide(self, request, queryset, approve: bool):
        if not request.user.has_perm("points.decide_receiptclaim"):
            messages.error(request, _("You may not decide receipt claims."))
            return
        done = 0
        for claim_id in queryset.filter(status=ReceiptClaim.Status.PENDING).values_list("pk", flat=True):
            try:
                services.receipt_claim_decide(claim_id=claim_id, approve=approve, actor=request.user)
                done += 1
            except DomainError as exc:
                messages.error(request, exc.message(request_lang(request)))
        messages.success(request, _("%(n)d claim(s) decided.") % {"n": done})

    @admin.action(description=_("Approve the selected claims (points are credited)"))
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description=_("Reject the selected claims"))
    def reject(self, request, queryset):
        self._decide(request, queryset, False)


# --- read-only history ---------------------------------------------------------------------------------


@admin.register(PointsLot)
class PointsLotAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "kind", "amount", "remaining", "expired", "earned_at", "expires_at")
    list_filter = ("kind",)
    search_fields = ("member__code",)
    list_select_related = ("member",)
    date_hierarchy = "earned_at"


@admin.register(PointsEarning)
class PointsEarningAdmin(ReadOnlyAdmin):
    list_display = ("key", "member", "reference", "points", "points_reversed", "created_at")
    search_fields = ("key", "reference", "member__code")
    list_select_related = ("member",)
    readonly_fields = ("explanation",)


@admin.register(GiftRedemption)
class GiftRedemptionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "member",
        "store",
        "gift",
        "points",
        "status",
        "outside_window",
        "made_permanent",
        "redeemed_at",
    )
    list_filter = ("status", "made_permanent", "outside_window", "store")
    list_select_related = ("member", "store", "gift")
    date_hierarchy = "redeemed_at"


@admin.register(PointsRefund)
class PointsRefundAdmin(ReadOnlyAdmin):
    list_display = (
        "key",
        "member",
        "reference",
        "points_reversed",
        "points_unrecovered",
        "points_returned",
        "created_at",
    )
    search_fields = ("key", "reference")


@admin.register(SignIn)
class SignInAdmin(ReadOnlyAdmin):
    list_display = ("member", "day", "streak", "points", "bonus")
    date_hierarchy = "created_at"


@admin.register(PointsMigrationEntry)
class PointsMigrationEntryAdmin(ReadOnlyAdmin):
    list_display = ("member", "migration", "old_points", "new_points", "created_at")
