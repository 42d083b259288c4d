"""Reads of the member archive, with the object rule and PII masking applied."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from laoke.core import clock
from laoke.core.errors import DomainError

from .models import Member, MemberRef
from .validation import mask_mobile, normalize_mobile

__all__ = [
    "can_see_pii",
    "can_see_sensitive_tags",
    "mask_mobile",
    "member_counts",
    "member_search",
    "member_visible_queryset",
    "new_members_per_day",
]


def can_see_pii(user) -> bool:
    return bool(user is not None and user.has_perm("members.view_pii"))


def can_see_sensitive_tags(user) -> bool:
    return bool(user is not None and user.has_perm("members.view_sensitive_tag"))


def member_visible_queryset(user, *, include_inactive: bool = False) -> QuerySet[Member]:
    """Object rule (SPEC 16): without ``members.see_group_members`` a staff user sees only
    individual members (no group account). Merged members are hidden unless asked for."""
    qs = Member.objects.all()
    if not include_inactive:
        qs = qs.exclude(status=Member.Status.MERGED)
    if user is None or not user.has_perm("members.see_group_members"):
        qs = qs.filter(group_account__isnull=True)
    return qs


def member_search(
    user,
    *,
    q: str | None = None,
    lifecycle: str | None = None,
    store_id: int | None = None,
    group_id: int | None = None,
) -> QuerySet[Member]:
    qs = member_visible_queryset(user)
    if q:
        q = q.strip()
        try:
            mobile = normalize_mobile(q)
        except DomainError:
            mobile = None
        if mobile:  # a phone number is looked up exactly (index), never as a name fragment
            qs = qs.filter(mobile=mobile)
        else:
            qs = qs.filter(
                Q(code=q)
                | Q(name__icontains=q)
                | Q(pk__in=MemberRef.objects.filter(external_id=q).values("member_id"))
            )
    if lifecycle:
        qs = qs.filter(lifecycle=lifecycle)
    if store_id:
        qs = qs.filter(home_store_id=store_id)
    if group_id:
        qs = qs.filter(group_account_id=group_id)
    return qs


def member_counts() -> dict:
    active = Member.objects.filter(status=Member.Status.ACTIVE)
    start_local = clock.local_now().replace(hour=0, minute=0, second=0, microsecond=0)
    by_lifecycle = dict(active.values_list("lifecycle").annotate(n=Count("id")).values_list("lifecycle", "n"))
    return {
        "total": active.count(),
        "with_mobile": active.filter(mobile__isnull=False).count(),
        "group_members": active.filter(group_account__isnull=False).count(),
        "new_today": active.filter(registered_at__gte=start_local).count(),
        "by_lifecycle": {state: by_lifecycle.get(state, 0) for state in Member.Lifecycle.values},
    }


def new_members_per_day(days: int = 30) -> list[tuple]:
    """[(date, count)] for the last ``days`` shop days, zeros included, oldest first."""
    today = clock.today()
    first = today - timedelta(days=days - 1)
    start = clock.local_now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    rows = (
        Member.objects.filter(registered_at__gte=start)
        .annotate(day=TruncDate("registered_at", tzinfo=clock.shop_tz()))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    counts = dict(rows)
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]
