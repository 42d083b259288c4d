"""Reads of the service desk: who sees which case, the queue (overdue first)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import BooleanField, Case, ExpressionWrapper, Q, QuerySet, Value, When

from .models import ServiceCase
from .services import OPEN_STATES


def cases_visible(user) -> QuerySet[ServiceCase]:
    """Object rule: a case assigned to the user is always theirs to see; besides, with
    ``view_all_servicecase`` every case, else the unassigned open ones; and without
    ``members.see_group_members`` (service agents) none of a group account's members but their own."""
    qs = ServiceCase.objects.select_related("member", "assignee", "order")
    if user is None:
        return qs.none()
    # Not an empty Q() for "every case": ``Q(assignee=user) | Q()`` is just ``Q(assignee=user)``.
    others = (
        Q(pk__isnull=False)
        if user.has_perm("service.view_all_servicecase")
        else Q(assignee__isnull=True, state__in=OPEN_STATES)
    )
    if not user.has_perm("members.see_group_members"):
        others &= Q(member__group_account__isnull=True)
    return qs.filter(Q(assignee=user) | others)


def case_queue(
    user, *, now: datetime, mine: bool = False, state: str = "", level: str = ""
) -> QuerySet[ServiceCase]:
    """Open work first, overdue before the rest, then by due time; closed cases after."""
    qs = cases_visible(user)
    if mine:
        qs = qs.filter(assignee=user)
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state:
        qs = qs.filter(state=state)
    if level:
        qs = qs.filter(level=level)
    return qs.annotate(
        is_open=Case(
            When(state__in=OPEN_STATES, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        overdue=ExpressionWrapper(Q(state__in=OPEN_STATES, due_at__lte=now), output_field=BooleanField()),
    ).order_by("-is_open", "-overdue", "due_at", "-pk")


def case_get(user, case_id: int) -> ServiceCase | None:
    return cases_visible(user).filter(pk=case_id).first()
