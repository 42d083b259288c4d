"""Console pages for tiers (django-unfold).

Every write goes through the tier services (validated, audited): each form's clean() runs the
services' own checks (``check_programme``, ``check_level``; a DomainError becomes a field error)
and save_model calls the service. Thresholds of spend and recharge levels are entered in yuan and
stored in fen. Current tiers are never edited: "add" on the current-tier page is a manual grant
(level + reason) through ``tier_grant``; the history is read-only. Nothing is bulk-deleted; a
level nobody holds or held may be deleted through ``tier_level_delete``.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from laoke.core.admin import FormAdmin, ReadOnlyAdmin, request_lang
from laoke.core.admin import ServiceForm as CoreServiceForm
from laoke.core.errors import DomainError
from laoke.core.money import MoneyFormatError, fen_to_yuan, format_yuan, rate_label, yuan_to_fen

from . import services
from .error_codes import TIER_ALREADY_AT_LEVEL, TIER_LEVEL_WRONG_AUDIENCE
from .models import (
    Activity,
    Audience,
    DowngradePolicy,
    MemberTier,
    RuleKind,
    TierHistory,
    TierLevel,
    TierProgramme,
)

MONEY_KINDS = (RuleKind.CUMULATIVE_SPEND, RuleKind.CUMULATIVE_RECHARGE)


class ServiceForm(CoreServiceForm):
    def _post_clean(self):
        pass  # the services validate and save; the model's own full_clean would run twice


# --- programmes ----------------------------------------------------------------------------------


class TierProgrammeForm(ServiceForm):
    class Meta:
        model = TierProgramme
        fields = [
            "code",
            "name",
            "audience",
            "basis",
            "downgrade_policy",
            "review_month",
            "review_day",
            "is_active",
        ]

    def check(self, data):
        creating = self.instance.pk is None
        policy = data.get("downgrade_policy")
        month, day = data.get("review_month"), data.get("review_day")
        if policy != DowngradePolicy.YEARLY_REVIEW and not creating:
            month = day = None  # the service clears them when the policy changes away from yearly
        services.check_programme(
            code=data.get("code") if creating else None,
            name=data.get("name") or "",
            basis=data.get("basis"),
            downgrade_policy=policy,
            review_month=month,
            review_day=day,
        )


class TierLevelInline(TabularInline):
    model = TierLevel
    extra = 0
    fields = ("rank", "code", "name", "rule_kind", "threshold", "price_rate_bp", "points_multiplier_bp")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # levels are edited on their own page, through the services


@admin.register(TierProgramme)
class TierProgrammeAdmin(FormAdmin):
    form = TierProgrammeForm
    list_display = ("code", "name", "audience", "basis", "downgrade_policy", "is_active", "last_review_on")
    list_filter = ("audience", "is_active", "downgrade_policy")
    search_fields = ("code", "name")
    inlines = [TierLevelInline]
    actions = ["place_members"]

    def get_actions(self, request):
        actions = admin.ModelAdmin.get_actions(self, request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Place members now (evaluate everyone with figures)"), permissions=["change"])
    def place_members(self, request, queryset):
        for audience in sorted(set(queryset.filter(is_active=True).values_list("audience", flat=True))):
            report = services.tiers_place_all(audience=audience)
            messages.info(
                request,
                _("%(audience)s: %(placed)d of %(seen)d placed at a higher level.")
                % {"audience": Audience(audience).label, "placed": report.placed, "seen": report.looked_at},
            )

    def get_readonly_fields(self, request, obj=None):
        return ("code", "audience", "last_review_on") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        if change:
            data = {k: cd[k] for k in form.changed_data if k in services.PROGRAMME_CHANGEABLE}
            saved = self.call(request, services.tier_programme_update, programme_id=obj.pk, data=data)
        else:
            saved = self.call(
                request,
                services.tier_programme_create,
                **{k: cd.get(k) for k in TierProgrammeForm.Meta.fields if k != "is_active"},
                is_active=bool(cd.get("is_active")),
            )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # the inline is read-only: nothing to save, nothing to log
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- levels --------------------------------------------------------------------------------------


class TierLevelForm(ServiceForm):
    threshold_value = forms.DecimalField(
        label=_("threshold"),
        min_value=Decimal("0"),
        max_digits=15,
        decimal_places=2,
        initial=Decimal("0"),
        help_text=_("Yuan for spend and recharge (e.g. 2000.00), otherwise points or a number of orders."),
    )
    activities = forms.MultipleChoiceField(
        label=_("tier-only activities"),
        choices=Activity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = TierLevel
        fields = [
            "programme",
            "rank",
            "code",
            "name",
            "rule_kind",
            "price_rate_bp",
            "points_multiplier_bp",
            "free_shipping",
            "service_owner_role",
            "activities",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            t = self.instance.threshold
            self.fields["threshold_value"].initial = (
                fen_to_yuan(t) if self.instance.rule_kind in MONEY_KINDS else t
            )

    def threshold(self, data) -> int:
        value = data.get("threshold_value")
        if data.get("rule_kind") in MONEY_KINDS:
            try:
                return yuan_to_fen(value)
            except MoneyFormatError as exc:
                raise ValidationError({"threshold_value": str(exc)}) from exc
        if value != value.to_integral_value():
            raise ValidationError({"threshold_value": _("Points and orders are whole numbers.")})
        return int(value)

    def check(self, data):
        programme = data.get("programme") or self.instance.programme
        level = TierLevel(
            pk=self.instance.pk,
            programme=programme,
            **{k: data.get(k) for k in services.LEVEL_FIELDS if k not in ("threshold", "activities")},
            threshold=self.threshold(data),
            activities=list(data.get("activities") or []),
        )
        self.cleaned_data["threshold"] = level.threshold
        services.check_level(programme=programme, level=level)


@admin.register(TierLevel)
class TierLevelAdmin(FormAdmin):
    form = TierLevelForm
    list_display = (
        "programme",
        "rank",
        "code",
        "name",
        "rule_kind",
        "threshold_display",
        "price_rate_display",
        "free_shipping",
    )
    list_filter = ("programme",)
    list_select_related = ("programme",)
    search_fields = ("code", "name")
    ordering = ("programme", "rank")

    @admin.display(description=_("threshold"), ordering="threshold")
    def threshold_display(self, obj):
        return format_yuan(obj.threshold) if obj.rule_kind in MONEY_KINDS else obj.threshold

    @admin.display(description=_("price rate"), ordering="price_rate_bp")
    def price_rate_display(self, obj):
        return rate_label(obj.price_rate_bp)

    def get_fields(self, request, obj=None):
        fields = list(TierLevelForm.Meta.fields)
        fields.insert(fields.index("price_rate_bp"), "threshold_value")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ("programme",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("tiers.delete_tierlevel")

    def delete_view(self, request, object_id, extra_context=None):
        # The service opens its own durable transaction (Django's view would wrap one around it).
        return self._delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        self.call(request, services.tier_level_delete, level_id=obj.pk)

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        values = {k: cd.get(k) for k in services.LEVEL_FIELDS if k != "threshold"}
        values["threshold"] = cd["threshold"]
        values["activities"] = list(cd.get("activities") or [])
        if change:
            old = TierLevel.objects.get(pk=obj.pk)
            data = {k: v for k, v in values.items() if getattr(old, k) != v}
            saved = self.call(request, services.tier_level_update, level_id=obj.pk, data=data)
        else:
            saved = self.call(request, services.tier_level_create, programme=cd["programme"], **values)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


# --- current tiers (add = manual grant) and history --------------------------------------------------


class GrantForm(ServiceForm):
    """Not an edit of the tier row: a manual grant (level + reason), applied by ``tier_grant``."""

    reason = forms.CharField(label=_("reason"), max_length=200)

    class Meta:
        model = MemberTier
        fields = ["member", "group_account", "level"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "level" not in self.fields:  # the read-only view of a tier row
            return
        self.fields["level"].required = True
        self.fields["level"].queryset = TierLevel.objects.filter(programme__is_active=True).select_related(
            "programme"
        )

    def check(self, data):
        if (data.get("member") is None) == (data.get("group_account") is None):
            raise ValidationError(_("Choose a member or a group account, not both."))
        member, group, level = data.get("member"), data.get("group_account"), data.get("level")
        if (
            member is not None
            and member.group_account_id
            and not self.user.has_perm("members.see_group_members")
        ):
            raise ValidationError({"member": _("You may not manage members of group accounts.")})
        audience = Audience.INDIVIDUAL if member is not None else Audience.GROUP
        if level.programme.audience != audience:
            raise DomainError(TIER_LEVEL_WRONG_AUDIENCE, field="level", audience=Audience(audience).label)
        owner = {"member": member} if member is not None else {"group_account": group}
        if MemberTier.objects.filter(**owner, level=level).exists():
            raise DomainError(TIER_ALREADY_AT_LEVEL, field="level")


@admin.register(MemberTier)
class MemberTierAdmin(FormAdmin):
    form = GrantForm
    list_display = ("member", "group_account", "level", "how", "since")
    list_filter = ("how", "level__programme")
    list_select_related = ("member", "group_account", "level")
    search_fields = ("member__name", "member__code", "group_account__name")
    raw_id_fields = ("member", "group_account")
    ordering = ("-since",)

    def get_fields(self, request, obj=None):
        return (
            ["member", "group_account", "level", "how", "since"]
            if obj
            else ["member", "group_account", "level", "reason"]
        )

    def get_readonly_fields(self, request, obj=None):
        return ("member", "group_account", "level", "how", "since") if obj is not None else ()

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not request.user.has_perm("members.see_group_members"):
            qs = qs.filter(member__isnull=False, member__group_account__isnull=True)
        return qs

    def has_add_permission(self, request):
        return request.user.has_perm("tiers.grant_tier")

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        try:
            services.tier_grant(
                member=cd.get("member"),
                group_account=cd.get("group_account"),
                level=cd["level"],
                reason=cd["reason"],
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message(request_lang(request)))
            raise
        saved = MemberTier.objects.get(
            **({"member": cd["member"]} if cd.get("member") else {"group_account": cd["group_account"]})
        )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)


@admin.register(TierHistory)
class TierHistoryAdmin(ReadOnlyAdmin):
    list_display = ("at", "member", "group_account", "from_level", "to_level", "how", "reason", "actor_label")
    list_filter = ("how", "to_level__programme")
    list_select_related = ("member", "group_account", "from_level", "to_level")
    search_fields = ("member__name", "member__code", "group_account__name", "reason")
    date_hierarchy = "at"
    fields = ("at", "member", "group_account", "from_level", "to_level", "how", "reason", "actor_label")
    readonly_fields = fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not request.user.has_perm("members.see_group_members"):
            qs = qs.filter(member__isnull=False, member__group_account__isnull=True)
        return qs
