"""Console pages for the core models: audit log (read-only), stores, API tokens, staff users
(created through the service with a role; role groups are read-only, kept by roles_sync)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from unfold.admin import ModelAdmin, StackedInline
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.utils import parse_datetime_str

from . import clock
from .audit import audit_write
from .errors import DomainError
from .models import ApiToken, AuditEntry, StaffProfile, Store
from .roles import ROLE_LABELS, SCOPES
from .services import api_token_create, api_token_revoke, staff_user_create, store_create

User = get_user_model()


class ServiceAdmin(ModelAdmin):
    """An admin whose saves call a service. Services open their own durable transaction, so the
    admin must not wrap the form view in one (adapters open no transaction, rule 1)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._changeform_view(request, object_id, form_url, extra_context)


def request_lang(request) -> str:
    """The console language of a request, for DomainError messages (zh-hans unless English)."""
    return "en" if (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en") else "zh-hans"


class ServiceForm(forms.ModelForm):
    """A ModelForm of a service-backed admin: ``clean()`` runs ``check(data)`` (the service's own
    validation, writing nothing) and shows a DomainError on its field; ``domain_error`` does the
    same for forms that validate in their own ``clean_*`` methods. ``aliases`` maps a service
    field name to the form's."""

    lang = "zh-hans"
    user = None
    aliases: dict[str, str] = {}

    def check(self, data: dict) -> None:
        """Override: validate ``data`` through the service without writing."""

    def domain_error(self, exc: DomainError):
        field = self.aliases.get(exc.field, exc.field)
        message = exc.message(self.lang)
        raise ValidationError({field: message} if field in self.fields else message) from exc

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.check(data)
        except DomainError as exc:
            self.domain_error(exc)
        return data


class FormAdmin(ServiceAdmin):
    """Gives the form the request's language and user, and turns a DomainError raised by the
    service after validation (a race lost) into a message as well as the error. Rows are never
    deleted from the console and there are no bulk actions unless an admin declares them."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.lang = request_lang(request)
        form.user = request.user
        return form

    def call(self, request, fn, **kwargs):
        try:
            return fn(actor=request.user, **kwargs)
        except DomainError as exc:
            messages.error(request, exc.message(request_lang(request)))
            raise

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


class ShopDateTimeRangeFilter(RangeDateTimeFilter):
    """From/to date and time as the operator reads them: wall-clock time in the shop's zone."""

    def queryset(self, request, queryset):
        filters = {}
        for end, lookup in (("from", "gte"), ("to", "lte")):
            day = self.used_parameters.get(f"{self.parameter_name}_{end}_0")
            time = self.used_parameters.get(f"{self.parameter_name}_{end}_1")
            value = parse_datetime_str(f"{day} {time}") if day and time else None
            if value is not None:
                filters[f"{self.parameter_name}__{lookup}"] = timezone.make_aware(value, clock.shop_tz())
        return queryset.filter(**filters)


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "ip")
    list_filter = ("action", "object_type", ("at", ShopDateTimeRangeFilter))
    list_filter_submit = True
    search_fields = ("actor_label", "object_id", "action", "request_id")
    date_hierarchy = "at"
    readonly_fields = (
        "at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
        "ip",
        "request_id",
    )
    fields = readonly_fields


class StoreForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = ["code", "name", "kind", "parent", "address"]


@admin.register(Store)
class StoreAdmin(ServiceAdmin):
    form = StoreForm
    list_display = ("code", "name", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        store = store_create(
            code=cd["code"],
            name=cd["name"],
            kind=cd["kind"],
            parent=cd.get("parent"),
            address=cd.get("address") or "",
        )
        obj.pk = store.pk


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[(k, f"{k} — {v[0]}") for k, v in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scopes", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceAdmin):
    form = ApiTokenForm
    list_display = (
        "name",
        "user",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = ("prefix", "created_at", "revoked_at", "last_used_at")
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        try:
            token, secret = api_token_create(
                user=cd["user"], name=cd["name"], scopes=cd["scopes"], expires_at=cd.get("expires_at")
            )
        except DomainError as exc:
            messages.error(request, exc.message(request.LANGUAGE_CODE))
            raise
        obj.pk = token.pk
        messages.warning(
            request, _("Copy the token now, it is shown only once: %(secret)s") % {"secret": secret}
        )

    def has_revoke_permission(self, request):
        return request.user.has_perm("core.change_apitoken")

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token)
        messages.success(request, _("Revoked."))


class StaffUserCreationForm(UserCreationForm):
    role = forms.ChoiceField(label=_("role"))
    store = forms.ModelChoiceField(label=_("store"), queryset=Store.objects.all(), required=False)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        en = (get_language() or "").startswith("en")
        self.fields["role"].choices = [(k, v[1] if en else v[0]) for k, v in ROLE_LABELS.items()]


class StaffProfileInline(StackedInline):
    model = StaffProfile
    can_delete = False
    fields = ("store",)
    verbose_name_plural = _("staff profile")


def _user_snapshot(user) -> dict:
    profile = StaffProfile.objects.filter(user=user).first()
    return {
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "store": profile.store_id if profile else None,
    }


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(DjangoUserAdmin, ModelAdmin):
    """New staff users are made by staff_user_create (role group, staff profile, audit row);
    later changes (roles, active flag, store) are audited in the admin's own transaction."""

    form = UserChangeForm
    add_form = StaffUserCreationForm
    change_password_form = AdminPasswordChangeForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "role", "store")}),
    )
    list_display = ("username", "roles", "is_active", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser", "groups")
    inlines = [StaffProfileInline]

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def has_delete_permission(self, request, obj=None):
        # Staff leave by being deactivated (audited); a delete would write no audit row and
        # blank the actor of their past audit entries (SPEC 16). See decision 0043.
        return False

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # the service makes the profile on add

    @method_decorator(sensitive_post_parameters())
    def add_view(self, request, form_url="", extra_context=None):
        return self._add_view(request, form_url, extra_context)  # no transaction around the service

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:  # add: staff_user_create opens its own durable transaction
            return self._changeform_view(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            request._laoke_user_before = _user_snapshot(User.objects.get(pk=obj.pk))
            return super().save_model(request, obj, form, change)
        cd = form.cleaned_data
        try:
            user = staff_user_create(
                username=cd["username"], password=cd["password1"], role=cd["role"], store=cd.get("store")
            )
        except DomainError as exc:
            messages.error(request, exc.message(request.LANGUAGE_CODE))
            raise
        obj.pk = user.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            audit_write(
                action="user.change",
                obj=form.instance,
                before=request._laoke_user_before,
                after=_user_snapshot(form.instance),
            )


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdmin):
    """Roles are groups kept in step with laoke.core.roles by roles_sync; shown, not edited."""

    list_display = ("name", "permission_count")
    fields = ("name", "permissions")

    @admin.display(description=_("permissions"))
    def permission_count(self, obj):
        return obj.permissions.count()
