"""Approval steps (审批) shared by every workflow that needs one: invitee lists, gift applications,
bid prices, contracts, ….

The rule (docs/decisions/0030-approvals.md): a step is decided by someone holding the step's
permission who is neither the requester nor holds any of the roles the requester held when filing
— a department cannot approve its own request, whoever in it clicks. Workflows store the
requester and ``requester_roles(user)`` on the request row when it is filed and call
:func:`approval_check` inside the deciding service, before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable

from .error_codes import APPROVAL_OWN_REQUEST, APPROVAL_OWN_ROLE, APPROVAL_PERMISSION
from .errors import DomainError


def roles_of(user) -> list[str]:
    """The role groups a staff user holds now (sorted); [] for nobody / a system actor."""
    if user is None or not getattr(user, "pk", None):
        return []
    return sorted(user.groups.values_list("name", flat=True))


def approval_check(
    *,
    actor,
    permission: str,
    requested_by_id: int | None,
    requester_roles: Iterable[str],
    step: str = "",
) -> None:
    """Refuse the decision unless ``actor`` may decide this step of someone else's request."""
    if actor is None or not getattr(actor, "pk", None) or not actor.has_perm(permission):
        raise DomainError(APPROVAL_PERMISSION, step=step)
    if requested_by_id is not None and actor.pk == requested_by_id:
        raise DomainError(APPROVAL_OWN_REQUEST, step=step)
    shared = sorted(set(roles_of(actor)) & set(requester_roles or ()))
    if shared:
        raise DomainError(APPROVAL_OWN_ROLE, step=step, role=shared[0])
