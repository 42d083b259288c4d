"""Operations on every message of a purpose prefix (a campaign's ``campaign:{id}:``): hold them
while the campaign is paused, release them when it resumes, suppress them when it is cancelled.
Only rows still ``waiting`` change — a message being sent or already sent is left to its outcome.
Each runs inside the caller's transaction (the campaign's state change and its messages commit
together)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from .models import Message


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("needs the caller's transaction")


def _waiting(purpose_prefix: str):
    if not purpose_prefix or not purpose_prefix.endswith(":"):
        raise ValueError("a purpose prefix ends with ':' so that campaign:1: never matches campaign:12:")
    return Message.objects.filter(purpose__startswith=purpose_prefix, state=Message.State.WAITING)


def _messages_hold(*, purpose_prefix: str, until: datetime) -> int:
    """Move the waiting messages' ``not_before`` to ``until`` (a far-future instant = held)."""
    _require_atomic()
    return _waiting(purpose_prefix).update(not_before=until)


def _messages_release(*, purpose_prefix: str, held_until: datetime, not_before: datetime) -> int:
    """Undo :func:`_messages_hold`: messages held at ``held_until`` become due at ``not_before``."""
    _require_atomic()
    return _waiting(purpose_prefix).filter(not_before=held_until).update(not_before=not_before)


def _messages_suppress(*, purpose_prefix: str, reason: str) -> int:
    """Never send the waiting messages (stored as ``suppressed`` with the reason)."""
    _require_atomic()
    return _waiting(purpose_prefix).update(state=Message.State.SUPPRESSED, error=reason[:500])
