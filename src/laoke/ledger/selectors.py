from __future__ import annotations

from django.db.models import Q

from .models import Account, Transfer


def account_transfers(account: Account):
    """Movements of one account, newest first (for statements and the member 360 page)."""
    return Transfer.objects.filter(Q(debit=account) | Q(credit=account)).select_related("debit", "credit")


def member_balances(member_id: int) -> dict[str, int]:
    return dict(Account.objects.filter(member_id=member_id).values_list("kind", "balance"))
