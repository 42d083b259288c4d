"""Custom attributes (《自定义属性》) and tags, including sensitive ones (PIPL art. 28).

An attribute value is stored in the one typed column of its definition's type, so segments can
compare values in SQL; a value of the wrong type is ATTRIBUTE_TYPE_MISMATCH, never coerced into
text. Sensitive data — tags of kind ``sensitive`` and values of attributes marked sensitive —
needs both the permission ``members.tag_member_sensitive`` of the acting user and the member's
separate ``sensitive_pi`` consent (art. 29); withdrawing that consent deletes it (consent_set).
The system itself (actor None, e.g. a rule engine) is trusted with the permission but still
needs the member's consent.

Re-exported by services.py: call them as ``laoke.members.services.<name>``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.core.validation import check_choice, check_length, require

from ._core import (
    _has_sensitive_consent,
    _lock_member,
    _require_active,
    actor_of,
    attribute_value_of,
    db_actor,
)
from .error_codes import (
    ATTRIBUTE_CHOICE_INVALID,
    ATTRIBUTE_KEY_TAKEN,
    ATTRIBUTE_TYPE_MISMATCH,
    ATTRIBUTE_UNKNOWN,
    SENSITIVE_CONSENT_REQUIRED,
    TAG_NAME_TAKEN,
    TAG_SENSITIVE_PERMISSION,
)
from .models import AttributeDefinition, AttributeValue, Member, MemberTag, Tag

_KEY_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
_INT_LIMIT = 2**63  # BigIntegerField
_DECIMAL_LIMIT = Decimal("1e14")  # max_digits=18, decimal_places=4


def _may_handle_sensitive(user) -> bool:
    return user is None or user.has_perm("members.tag_member_sensitive")


def _check_sensitive(member: Member, user, *, adding: bool) -> None:
    if not _may_handle_sensitive(user):
        raise DomainError(TAG_SENSITIVE_PERMISSION)
    if adding and not _has_sensitive_consent(member):
        raise DomainError(SENSITIVE_CONSENT_REQUIRED)


# --- custom attributes ----------------------------------------------------------------------------


def attribute_definition_create(
    *,
    key: str,
    label: str,
    type: str,
    choices: list[str] | None = None,
    is_sensitive: bool = False,
    actor=None,
) -> AttributeDefinition:
    require("key", key)
    require("label", label)
    check_length("key", key, 50)
    check_length("label", label, 100)
    if not _KEY_RE.fullmatch(key):
        raise DomainError(FIELD_INVALID, field="key")
    check_choice("type", type, AttributeDefinition.Type.choices)
    if type == AttributeDefinition.Type.CHOICE:
        choices = [str(c).strip() for c in (choices or [])]
        if not choices or any(not c for c in choices) or len(set(choices)) != len(choices):
            raise DomainError(ATTRIBUTE_CHOICE_INVALID, field="choices", key=key)
        for c in choices:
            check_length("choices", c, 100)
    else:
        choices = []  # only a choice attribute has choices
    if is_sensitive and not _may_handle_sensitive(actor_of(actor)):
        raise DomainError(TAG_SENSITIVE_PERMISSION)
    with transaction.atomic(durable=True):
        if AttributeDefinition.objects.filter(key=key).exists():
            raise DomainError(ATTRIBUTE_KEY_TAKEN, field="key", key=key)
        try:
            with transaction.atomic():
                definition = AttributeDefinition.objects.create(
                    key=key,
                    label=label.strip(),
                    type=type,
                    choices=choices,
                    is_sensitive=bool(is_sensitive),
                    created_at=clock.now(),
                )
        except IntegrityError as exc:  # a concurrent definition of the same key
            raise DomainError(ATTRIBUTE_KEY_TAKEN, field="key", key=key) from exc
        audit_write(
            action="attribute.define",
            obj=definition,
            after={"key": key, "type": type, "choices": choices, "is_sensitive": bool(is_sensitive)},
            actor=actor,
        )
    return definition


def typed_columns(definition: AttributeDefinition, value: Any) -> dict[str, Any]:
    """The value in the one column of the definition's type (the others None); None clears.
    Raises ATTRIBUTE_TYPE_MISMATCH / ATTRIBUTE_CHOICE_INVALID; nothing is coerced into text."""
    cols: dict[str, Any] = dict.fromkeys(
        ("value_text", "value_int", "value_decimal", "value_date", "value_bool")
    )
    if value is None:
        return cols
    T = AttributeDefinition.Type
    key = definition.key
    err = DomainError(ATTRIBUTE_TYPE_MISMATCH, field=key, key=key, type=definition.type)
    try:
        if definition.type == T.TEXT:
            if not isinstance(value, str):
                raise err
            check_length(key, value, 500)
            cols["value_text"] = value
        elif definition.type == T.CHOICE:
            if not isinstance(value, str) or value not in definition.choices:
                raise DomainError(ATTRIBUTE_CHOICE_INVALID, field=key, key=key)
            cols["value_text"] = value
        elif definition.type == T.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise err
            number = int(value)
            if abs(number) >= _INT_LIMIT:
                raise err
            cols["value_int"] = number
        elif definition.type == T.DECIMAL:
            if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
                raise err
            d = Decimal(str(value).strip())  # str(float) is its shortest repr: 1.1 → '1.1'
            if not d.is_finite() or abs(d) >= _DECIMAL_LIMIT:
                raise err
            cols["value_decimal"] = d.quantize(Decimal("0.0001"))
        elif definition.type == T.DATE:
            if isinstance(value, datetime):
                raise err  # a date, not a moment
            if isinstance(value, date):
                cols["value_date"] = value
            elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                cols["value_date"] = date.fromisoformat(value.strip())
            else:
                raise err
        elif definition.type == T.BOOLEAN:
            if not isinstance(value, bool):
                raise err
            cols["value_bool"] = value
    except (ValueError, InvalidOperation, TypeError) as exc:
        raise err from exc
    return cols


def member_attribute_set(*, member_id: int, key: str, value: Any, actor=None) -> AttributeValue | None:
    """Set (or with ``value=None`` clear) one custom attribute of a member."""
    definition = AttributeDefinition.objects.filter(key=key).first()
    if definition is None:
        raise DomainError(ATTRIBUTE_UNKNOWN, field="key", key=key)
    cols = typed_columns(definition, value)
    user = actor_of(actor)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        if definition.is_sensitive:
            _check_sensitive(member, user, adding=value is not None)
        existing = AttributeValue.objects.filter(member=member, definition=definition).first()
        before = attribute_value_of(existing) if existing else None
        if value is None:
            if existing:
                existing.delete()
            result = None
        else:
            result, _ = AttributeValue.objects.update_or_create(
                member=member, definition=definition, defaults={**cols, "updated_at": clock.now()}
            )
        after = attribute_value_of(result) if result else None
        if before != after:
            # A sensitive value is audited as changed, not with its content.
            shown = (lambda v: None if v is None else "***") if definition.is_sensitive else (lambda v: v)
            audit_write(
                action="member.attribute_set",
                obj=member,
                before={key: shown(before)},
                after={key: shown(after)},
                actor=actor,
            )
    return result


# --- tags -----------------------------------------------------------------------------------------


def tag_create(*, name: str, kind: str = Tag.Kind.GENERAL, actor=None) -> Tag:
    require("name", name)
    name = name.strip()
    check_length("name", name, 50)
    check_choice("kind", kind, Tag.Kind.choices)
    if kind == Tag.Kind.SENSITIVE and not _may_handle_sensitive(actor_of(actor)):
        raise DomainError(TAG_SENSITIVE_PERMISSION)
    with transaction.atomic(durable=True):
        if Tag.objects.filter(name=name).exists():
            raise DomainError(TAG_NAME_TAKEN, field="name", name=name)
        try:
            with transaction.atomic():
                tag = Tag.objects.create(name=name, kind=kind, created_at=clock.now())
        except IntegrityError as exc:
            raise DomainError(TAG_NAME_TAKEN, field="name", name=name) from exc
        audit_write(action="tag.create", obj=tag, after={"name": tag.name, "kind": kind}, actor=actor)
    return tag


def _tag(tag_name: str) -> Tag:
    tag = Tag.objects.filter(name=(tag_name or "").strip()).first()
    if tag is None:
        raise DomainError(NOT_FOUND, field="tag")
    return tag


def member_tag_add(*, member_id: int, tag_name: str, source: str = "operator", actor=None) -> MemberTag:
    """Tag a member (idempotent: tagging twice keeps the first row and writes one audit row)."""
    user = actor_of(actor)
    tag = _tag(tag_name)
    check_length("source", source, 32)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        if tag.is_sensitive:
            _check_sensitive(member, user, adding=True)
        mt, created = MemberTag.objects.get_or_create(
            member=member,
            tag=tag,
            defaults={"added_at": clock.now(), "added_by": db_actor(user), "source": source or "operator"},
        )
        if created:
            audit_write(
                action="member.tag_add",
                obj=member,
                after={"tag": tag.name, "sensitive": tag.is_sensitive, "source": mt.source},
                actor=actor,
            )
    return mt


def member_tag_remove(*, member_id: int, tag_name: str, actor=None) -> bool:
    user = actor_of(actor)
    tag = _tag(tag_name)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        if tag.is_sensitive:
            _check_sensitive(member, user, adding=False)
        deleted, _ = MemberTag.objects.filter(member=member, tag=tag).delete()
        if deleted:
            audit_write(action="member.tag_remove", obj=member, before={"tag": tag.name}, actor=actor)
    return bool(deleted)
