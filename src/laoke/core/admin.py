"""Console pages for the core models: audit log (read-only), stores, API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from .errors import DomainError
from .models import ApiToken, AuditEntry, Store
from .roles import SCOPES
from .services import api_token_create, api_token_revoke, store_create


class ServiceAdmin(ModelAdmin):
    """An admin whose saves call a service. Services open their own durable transaction, so the
    admin must not wrap the form view in one (adapters open no transaction, rule 1)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._changeform_view(request, object_id, form_url, extra_context)


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
    list_filter = ("action", "object_type")
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
