"""Reads of the tiers app.

``current_level(member=)`` is the level that prices a member. A member who belongs to a group
account (集体) gets the better of its own individual level and its group's level — the lower
price rate, the group's on a tie — so joining a company account never makes a member pay more
(docs/decisions/0012-tiers.md). Only levels of active programmes count; an individual without a
tier row yet gets the active individual programme's open entry level (rank-lowest, threshold 0,
not manual), e.g. 普通会员 95折. One query for a member with a tier row, two without.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from laoke.members.models import GroupAccount, Member

from .models import Audience, MemberTier, RuleKind, TierHistory, TierLevel, TierProgramme


def _entry_level(audience: str) -> TierLevel | None:
    return (
        TierLevel.objects.filter(programme__audience=audience, programme__is_active=True, threshold=0)
        .exclude(rule_kind=RuleKind.MANUAL)
        .order_by("rank")
        .first()
    )


def current_level(*, member: Member) -> TierLevel | None:
    cond = Q(member_id=member.pk)
    if member.group_account_id is not None:
        cond |= Q(group_account_id=member.group_account_id)
    rows = list(MemberTier.objects.filter(cond, level__programme__is_active=True).select_related("level"))
    levels = [r.level for r in sorted(rows, key=lambda r: r.group_account_id is None)]  # group first
    if not any(r.member_id for r in rows):
        entry = _entry_level(Audience.INDIVIDUAL)
        if entry is not None:
            levels.append(entry)
    if not levels:
        return None
    return min(levels, key=lambda lv: lv.price_rate_bp)  # min() keeps the first (group) on a tie


def group_level(*, group_account: GroupAccount) -> TierLevel | None:
    row = (
        MemberTier.objects.filter(group_account=group_account, level__programme__is_active=True)
        .select_related("level")
        .first()
    )
    return row.level if row else None


def tier_of(*, member: Member | None = None, group_account: GroupAccount | None = None) -> MemberTier | None:
    owner = {"member": member} if member is not None else {"group_account": group_account}
    return MemberTier.objects.filter(**owner).select_related("level", "level__programme").first()


def tier_history(
    member: Member | None = None, *, group_account: GroupAccount | None = None
) -> QuerySet[TierHistory]:
    owner = {"member": member} if member is not None else {"group_account": group_account}
    return TierHistory.objects.filter(**owner).select_related("from_level", "to_level").order_by("-at", "-id")


def programme_list(*, audience: str | None = None, active: bool | None = None) -> QuerySet[TierProgramme]:
    qs = TierProgramme.objects.prefetch_related(
        Prefetch("levels", queryset=TierLevel.objects.order_by("rank"))
    ).order_by("audience", "code")
    if audience is not None:
        qs = qs.filter(audience=audience)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def active_programme(audience: str) -> TierProgramme | None:
    return programme_list(audience=audience, active=True).first()
