"""Helpers shared by the member services (services.py, cards.py, privacy.py).

The ``_``-prefixed functions need an open transaction: they lock or write rows. Kept apart from
services.py so cards.py and privacy.py can use them while services.py re-exports their public
services under one name (``laoke.members.services.member_view`` …) without an import cycle.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from laoke.core import context
from laoke.core.errors import NOT_FOUND, DomainError

from .error_codes import MEMBER_NOT_ACTIVE
from .locks import locked_members
from .models import AttributeValue, Channel, Consent, Member, MemberTag, Tag


def actor_of(actor=None):
    """The explicit actor, else the request's (API, console) or None (system, CLI)."""
    return actor if actor is not None else context.get().user


def db_actor(actor):
    """A user row for a foreign key, or None for the system / an unsaved object."""
    return actor if getattr(actor, "pk", None) else None


def _lock_member(member_id: int) -> Member:
    if not connection.in_atomic_block:
        raise RuntimeError("_lock_member needs the caller's transaction")
    member = locked_members().filter(pk=member_id).first()
    if member is None:
        raise DomainError(NOT_FOUND, field="member_id")
    return member


def _require_active(member: Member) -> None:
    if member.status != Member.Status.ACTIVE:
        raise DomainError(MEMBER_NOT_ACTIVE)


def _has_sensitive_consent(member: Member) -> bool:
    return Consent.objects.filter(
        member=member, channel=Channel.SENSITIVE_PI, state=Consent.State.GRANTED
    ).exists()


def member_snapshot(member: Member) -> dict[str, Any]:
    """The audited view of a member (PII included: the audit log is itself admin-only, and a PIPL
    deletion blanks the member's audit rows)."""
    return {
        "code": member.code,
        "name": member.name,
        "mobile": member.mobile,
        "email": member.email,
        "gender": member.gender,
        "birthday": member.birthday.isoformat() if member.birthday else None,
        "id_number": member.id_number,
        "address": member.address_raw,
        "province": member.province,
        "city": member.city,
        "district": member.district,
        "source": member.source,
        "home_store": member.home_store_id,
        "group_account": member.group_account_id,
        "lifecycle": member.lifecycle,
        "status": member.status,
        "exclude_personalised": member.exclude_personalised,
        "is_permanent": member.is_permanent,
        "notes": member.notes,
    }


def attribute_value_of(av: AttributeValue) -> Any:
    """The JSON-friendly value of a typed attribute row (dates ISO, decimals as strings)."""
    for col in ("value_text", "value_int", "value_decimal", "value_date", "value_bool"):
        v = getattr(av, col)
        if v is not None:
            if isinstance(v, date):
                return v.isoformat()
            return str(v) if isinstance(v, Decimal) else v
    return None


def _purge_sensitive(member: Member) -> dict[str, int]:
    """Without a granted ``sensitive_pi`` consent no sensitive data may be kept (PIPL arts. 29,
    47): delete the member's sensitive tags and sensitive attribute values. Returns the counts."""
    tags, _ = MemberTag.objects.filter(member=member, tag__kind=Tag.Kind.SENSITIVE).delete()
    values, _ = AttributeValue.objects.filter(member=member, definition__is_sensitive=True).delete()
    return {"sensitive_tags": tags, "sensitive_attributes": values}
