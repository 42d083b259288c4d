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
    permanent: bool | None = None,
) -> QuerySet[Member]:
    """The visible members matching ``q`` — an exact mobile in any accepted form (index lookup),
    else an exact member number or external id, or a part of the name — and the filters."""
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
    if permanent is not None:
        qs = qs.filter(is_permanent=permanent)  # 永久会员 are kept in a list of their own
    return qs


def _counted() -> QuerySet[Member]:
    """Members as statistics count them: a merged duplicate is not a second person, while an
    anonymised member (PIPL deletion) still counts, so aggregates do not change on deletion."""
    return Member.objects.exclude(status=Member.Status.MERGED)


def _local_midnight(days_ago: int = 0):
    midnight = clock.local_now().replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=days_ago)


def member_counts() -> dict:
    """Dashboard figures: total, with a mobile, in group accounts, registered today (shop day),
    per lifecycle state. One aggregate query plus one grouped query."""
    counted = _counted()
    figures = counted.aggregate(
        total=Count("id"),
        with_mobile=Count("id", filter=Q(mobile__isnull=False)),
        group_members=Count("id", filter=Q(group_account__isnull=False)),
        new_today=Count("id", filter=Q(registered_at__gte=_local_midnight())),
        anonymised=Count("id", filter=Q(status=Member.Status.ANONYMISED)),
        permanent=Count("id", filter=Q(is_permanent=True)),
    )
    by_lifecycle = dict(
        counted.order_by().values_list("lifecycle").annotate(n=Count("id")).values_list("lifecycle", "n")
    )
    return {
        **figures,
        "by_lifecycle": {state: by_lifecycle.get(state, 0) for state in Member.Lifecycle.values},
    }


def new_members_per_day(days: int = 30) -> list[tuple]:
    """[(date, count)] for the last ``days`` shop days (Asia/Shanghai by default), zeros
    included, oldest first; a member counts on the shop day of ``registered_at``."""
    if days < 1:
        return []
    first = clock.today() - timedelta(days=days - 1)
    rows = (
        _counted()
        .filter(registered_at__gte=_local_midnight(days - 1))
        .annotate(day=TruncDate("registered_at", tzinfo=clock.shop_tz()))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    counts = dict(rows)
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]
