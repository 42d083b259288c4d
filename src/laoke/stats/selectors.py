"""Reads of member statistics."""

from __future__ import annotations

from laoke.members.models import GroupAccount, Member

from .models import GroupStats, MemberStats


def member_stats(member: Member) -> MemberStats:
    """The member's totals; an unsaved all-zero row when nothing has happened yet."""
    return MemberStats.objects.filter(member=member).first() or MemberStats(member=member)


def group_stats(group_account: GroupAccount) -> GroupStats:
    return GroupStats.objects.filter(group_account=group_account).first() or GroupStats(
        group_account=group_account
    )
