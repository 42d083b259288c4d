from django.contrib import admin

from laoke.core.admin import ReadOnlyAdmin

from .models import Account, Transfer


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "unit", "code", "member", "group_account", "balance", "allow_negative")
    list_filter = ("kind", "unit", "allow_negative")
    search_fields = ("code",)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "debit", "credit", "amount", "reason", "reference", "reverses")
    list_filter = ("reason",)
    search_fields = ("idempotency_key", "reference")
    date_hierarchy = "created_at"
