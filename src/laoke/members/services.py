"""Writes of the member archive. Each public service runs in its own durable transaction and
writes its audit row there; ``_helpers`` need an open transaction.

The membership card, merge and PIPL services live in cards.py and privacy.py beside this file.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from laoke.core import clock, context, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.core.validation import check_choice, check_length, require

from .error_codes import (
    AGREEMENT_NOT_PUBLISHED,
    AGREEMENT_VERSION_TAKEN,
    ATTRIBUTE_CHOICE_INVALID,
    ATTRIBUTE_KEY_TAKEN,
    ATTRIBUTE_TYPE_MISMATCH,
    ATTRIBUTE_UNKNOWN,
    CONSENT_CHANNEL_INVALID,
    GROUP_NAME_REQUIRED,
    MEMBER_EMAIL_TAKEN,
    MEMBER_MOBILE_TAKEN,
    MEMBER_NOT_ACTIVE,
    MEMBER_REF_TAKEN,
    SENSITIVE_CONSENT_REQUIRED,
    TAG_NAME_TAKEN,
    TAG_SENSITIVE_PERMISSION,
)
from .models import (
    Agreement,
    AgreementAcceptance,
    AttributeDefinition,
    AttributeValue,
    Channel,
    Consent,
    ConsentEvent,
    CorporateAccount,
    GroupAccount,
    LifecycleEvent,
    Member,
    MemberRef,
    MemberTag,
    Tag,
)
from .validation import check_birthday, normalize_email, normalize_id_number, normalize_mobile, parse_address

# Fields an operator may set on a member, with their max lengths (None: not a string).
EDITABLE = {
    "name": 60,
    "gender": None,
    "birthday": None,
    "email": 254,
    "mobile": 20,
    "id_number": 18,
    "address": 255,
    "source": None,
    "home_store": None,
    "group_account": None,
    "exclude_personalised": None,
    "notes": 2000,
}


def _actor(actor=None):
    return actor if actor is not None else context.get().user


def member_snapshot(member: Member) -> dict[str, Any]:
    """The audited view of a member (PII included: the audit log is itself admin-only)."""
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
        "source": member.source,
        "home_store": member.home_store_id,
        "group_account": member.group_account_id,
        "lifecycle": member.lifecycle,
        "status": member.status,
        "exclude_personalised": member.exclude_personalised,
        "is_permanent": member.is_permanent,
        "notes": member.notes,
    }


def _new_code() -> str:
    """Member numbers: 'M' + 10 random digits; random so they reveal no member count."""
    for _ in range(10):
        code = "M" + "".join(secrets.choice("0123456789") for _ in range(10))
        if not Member.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not allocate a member number")


def _lock_member(member_id: int) -> Member:
    member = Member.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        raise DomainError(NOT_FOUND, field="member_id")
    return member


def _require_active(member: Member) -> None:
    if member.status != Member.Status.ACTIVE:
        raise DomainError(MEMBER_NOT_ACTIVE)


def clean_member_data(data: dict[str, Any]) -> dict[str, Any]:
    """Validate every given field; returns model field values. Raises on the first bad field."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in EDITABLE:
            continue
        max_len = EDITABLE[key]
        if max_len is not None and isinstance(value, str):
            check_length(key, value, max_len)
    if "name" in data:
        out["name"] = (data["name"] or "").strip()
    if "mobile" in data:
        out["mobile"] = normalize_mobile(data["mobile"])
    if "email" in data:
        out["email"] = normalize_email(data["email"])
    if "id_number" in data:
        out["id_number"] = normalize_id_number(data["id_number"])
    if "gender" in data:
        gender = data["gender"] or ""
        check_choice("gender", gender, Member.Gender.choices)
        out["gender"] = gender
    if "birthday" in data:
        out["birthday"] = check_birthday(data["birthday"], today=clock.today())
    if "address" in data:
        parsed = parse_address(data["address"])
        if parsed is None:
            out.update(address_raw="", province="", city="", district="", address_detail="", adcode="")
        else:
            out.update(
                address_raw=parsed.raw,
                province=parsed.province,
                city=parsed.city,
                district=parsed.district,
                address_detail=parsed.detail,
                adcode=parsed.adcode,
            )
    if "source" in data:
        check_choice("source", data["source"], Member.Source.choices)
        out["source"] = data["source"]
    if "home_store" in data:
        store = data["home_store"]
        if store is not None and not isinstance(store, Store):
            store = Store.objects.filter(pk=store).first()
            if store is None:
                raise DomainError(NOT_FOUND, field="home_store")
        out["home_store"] = store
    if "group_account" in data:
        group = data["group_account"]
        if group is not None and not isinstance(group, GroupAccount):
            group = GroupAccount.objects.filter(pk=group).first()
            if group is None:
                raise DomainError(NOT_FOUND, field="group_account")
        out["group_account"] = group
    if "exclude_personalised" in data:
        out["exclude_personalised"] = bool(data["exclude_personalised"])
    if "notes" in data:
        out["notes"] = data["notes"] or ""
    return out


def check_unique_contact(values: dict[str, Any], *, exclude_id: int | None = None) -> None:
    qs = Member.objects.all()
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    if values.get("mobile") and qs.filter(mobile=values["mobile"]).exists():
        raise DomainError(MEMBER_MOBILE_TAKEN, field="mobile")
    if values.get("email") and qs.filter(email=values["email"]).exists():
        raise DomainError(MEMBER_EMAIL_TAKEN, field="email")


def _save_unique(fn):
    """Map a lost race on the mobile/email unique index to the same stable error as the check."""
    try:
        with transaction.atomic():
            return fn()
    except IntegrityError as exc:
        text = str(exc).lower()
        if "email" in text:
            raise DomainError(MEMBER_EMAIL_TAKEN, field="email") from exc
        if "mobile" in text or "unique" in text:
            raise DomainError(MEMBER_MOBILE_TAKEN, field="mobile") from exc
        raise


def member_create(
    *,
    name: str = "",
    mobile: str | None = None,
    email: str | None = None,
    gender: str = "",
    birthday: date | None = None,
    id_number: str = "",
    address: str | None = None,
    source: str = Member.Source.STORE,
    home_store: Store | int | None = None,
    group_account: GroupAccount | int | None = None,
    exclude_personalised: bool = False,
    notes: str = "",
    refs: list[tuple[str, str]] | None = None,
    consents: dict[str, bool] | None = None,
    consent_source: str = "registration",
    agreement_version: str | None = None,
    registered_at=None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Member:
    values = clean_member_data(
        {
            "name": name,
            "mobile": mobile,
            "email": email,
            "gender": gender,
            "birthday": birthday,
            "id_number": id_number,
            "address": address,
            "source": source,
            "home_store": home_store,
            "group_account": group_account,
            "exclude_personalised": exclude_personalised,
            "notes": notes,
        }
    )
    for channel in consents or {}:
        check_choice("consents", channel, Channel.choices)
    now = clock.now()
    with transaction.atomic(durable=True):
        check_unique_contact(values)
        member = _save_unique(
            lambda: Member.objects.create(
                code=_new_code(), registered_at=registered_at or now, created_at=now, updated_at=now, **values
            )
        )
        for src, ext in refs or []:
            _ref_add(member, src, ext)
        for channel, granted in (consents or {}).items():
            _consent_set(member, channel, granted, consent_source, note="", actor=_actor(actor))
        if agreement_version:
            _agreement_accept(member, agreement_version, channel=source)
        LifecycleEvent.objects.create(
            member=member, from_state="", to_state=member.lifecycle, at=now, reason="registered"
        )
        audit_write(action="member.create", obj=member, after=member_snapshot(member), actor=actor)
        idempotency.complete(idem, member)
    return member


def member_update(
    *, member_id: int, data: dict[str, Any], actor=None, idem: idempotency.Claim | None = None
) -> Member:
    values = clean_member_data(data)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        before = member_snapshot(member)
        check_unique_contact(values, exclude_id=member.pk)
        for key, value in values.items():
            setattr(member, key, value)
        member.updated_at = clock.now()
        _save_unique(lambda: member.save())
        b, a = diff(before, member_snapshot(member))
        if a:
            audit_write(action="member.update", obj=member, before=b, after=a, actor=actor)
        idempotency.complete(idem, member)
    return member


def _ref_add(member: Member, source: str, external_id: str) -> MemberRef:
    require("source", source)
    require("external_id", external_id)
    check_length("source", source, 32)
    check_length("external_id", external_id, 128)
    existing = MemberRef.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        if existing.member_id == member.pk:
            return existing
        raise DomainError(MEMBER_REF_TAKEN, field="external_id", source=source, external_id=external_id)
    try:
        with transaction.atomic():
            return MemberRef.objects.create(
                member=member, source=source, external_id=external_id, created_at=clock.now()
            )
    except IntegrityError as exc:
        raise DomainError(
            MEMBER_REF_TAKEN, field="external_id", source=source, external_id=external_id
        ) from exc


def member_ref_add(*, member_id: int, source: str, external_id: str, actor=None) -> MemberRef:
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        ref = _ref_add(member, source, external_id)
        audit_write(
            action="member.ref_add",
            obj=member,
            after={"source": source, "external_id": external_id},
            actor=actor,
        )
    return ref


# --- group accounts -------------------------------------------------------------------------------


def group_account_create(
    *,
    name: str,
    kind: str = GroupAccount.Kind.COMPANY,
    contact_name: str = "",
    contact_mobile: str = "",
    manager=None,
    home_store: Store | None = None,
    actor=None,
) -> GroupAccount:
    if not (name or "").strip():
        raise DomainError(GROUP_NAME_REQUIRED, field="name")
    check_length("name", name, 120)
    check_length("contact_name", contact_name, 60)
    check_choice("kind", kind, GroupAccount.Kind.choices)
    mobile = normalize_mobile(contact_mobile, field="contact_mobile") or ""
    with transaction.atomic(durable=True):
        group = GroupAccount.objects.create(
            name=name.strip(),
            kind=kind,
            contact_name=contact_name,
            contact_mobile=mobile,
            manager=manager,
            home_store=home_store,
            created_at=clock.now(),
        )
        audit_write(
            action="group_account.create", obj=group, after={"name": group.name, "kind": kind}, actor=actor
        )
    return group


def group_account_update(*, group_id: int, data: dict[str, Any], actor=None) -> GroupAccount:
    with transaction.atomic(durable=True):
        group = GroupAccount.objects.select_for_update().filter(pk=group_id).first()
        if group is None:
            raise DomainError(NOT_FOUND, field="group_id")
        before = {
            "name": group.name,
            "kind": group.kind,
            "contact_name": group.contact_name,
            "contact_mobile": group.contact_mobile,
        }
        if "name" in data:
            if not (data["name"] or "").strip():
                raise DomainError(GROUP_NAME_REQUIRED, field="name")
            check_length("name", data["name"], 120)
            group.name = data["name"].strip()
        if "kind" in data:
            check_choice("kind", data["kind"], GroupAccount.Kind.choices)
            group.kind = data["kind"]
        if "contact_name" in data:
            check_length("contact_name", data["contact_name"], 60)
            group.contact_name = data["contact_name"] or ""
        if "contact_mobile" in data:
            group.contact_mobile = normalize_mobile(data["contact_mobile"], field="contact_mobile") or ""
        group.save()
        after = {
            "name": group.name,
            "kind": group.kind,
            "contact_name": group.contact_name,
            "contact_mobile": group.contact_mobile,
        }
        b, a = diff(before, after)
        audit_write(action="group_account.update", obj=group, before=b, after=a, actor=actor)
    return group


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
    check_choice("type", type, AttributeDefinition.Type.choices)
    choices = [str(c) for c in (choices or [])]
    if type == AttributeDefinition.Type.CHOICE and not choices:
        raise DomainError(ATTRIBUTE_CHOICE_INVALID, field="choices", key=key)
    with transaction.atomic(durable=True):
        if AttributeDefinition.objects.filter(key=key).exists():
            raise DomainError(ATTRIBUTE_KEY_TAKEN, field="key", key=key)
        definition = AttributeDefinition.objects.create(
            key=key,
            label=label,
            type=type,
            choices=choices,
            is_sensitive=is_sensitive,
            created_at=clock.now(),
        )
        audit_write(
            action="attribute.define",
            obj=definition,
            after={"key": key, "type": type, "choices": choices},
            actor=actor,
        )
    return definition


def _typed(definition: AttributeDefinition, value: Any) -> dict[str, Any]:
    """Convert to the one value column for the type; None clears the value."""
    cols = {
        "value_text": None,
        "value_int": None,
        "value_decimal": None,
        "value_date": None,
        "value_bool": None,
    }
    if value is None:
        return cols
    T = AttributeDefinition.Type
    err = DomainError(ATTRIBUTE_TYPE_MISMATCH, field=definition.key, key=definition.key, type=definition.type)
    try:
        if definition.type == T.TEXT:
            if not isinstance(value, str):
                raise err
            check_length(definition.key, value, 500)
            cols["value_text"] = value
        elif definition.type == T.CHOICE:
            if str(value) not in definition.choices:
                raise DomainError(ATTRIBUTE_CHOICE_INVALID, field=definition.key, key=definition.key)
            cols["value_text"] = str(value)
        elif definition.type == T.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise err
            cols["value_int"] = int(value)
        elif definition.type == T.DECIMAL:
            if isinstance(value, bool | float):
                value = str(value) if isinstance(value, float) else value
                if isinstance(value, bool):
                    raise err
            d = Decimal(str(value))
            if not d.is_finite() or abs(d) >= Decimal("1e14"):
                raise err
            cols["value_decimal"] = d.quantize(Decimal("0.0001"))
        elif definition.type == T.DATE:
            cols["value_date"] = value if isinstance(value, date) else date.fromisoformat(str(value))
        elif definition.type == T.BOOLEAN:
            if not isinstance(value, bool):
                raise err
            cols["value_bool"] = value
    except (ValueError, InvalidOperation, TypeError) as exc:
        raise err from exc
    return cols


def attribute_value_of(av: AttributeValue) -> Any:
    for col in ("value_text", "value_int", "value_decimal", "value_date", "value_bool"):
        v = getattr(av, col)
        if v is not None:
            return v.isoformat() if isinstance(v, date) else (str(v) if isinstance(v, Decimal) else v)
    return None


def member_attribute_set(*, member_id: int, key: str, value: Any, actor=None) -> AttributeValue | None:
    definition = AttributeDefinition.objects.filter(key=key).first()
    if definition is None:
        raise DomainError(ATTRIBUTE_UNKNOWN, field="key", key=key)
    cols = _typed(definition, value)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
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
        audit_write(
            action="member.attribute_set", obj=member, before={key: before}, after={key: after}, actor=actor
        )
    return result


# --- tags -----------------------------------------------------------------------------------------


def tag_create(*, name: str, kind: str = Tag.Kind.GENERAL, actor=None) -> Tag:
    require("name", name)
    check_length("name", name, 50)
    check_choice("kind", kind, Tag.Kind.choices)
    user = _actor(actor)
    if kind == Tag.Kind.SENSITIVE and not (user is None or user.has_perm("members.tag_member_sensitive")):
        raise DomainError(TAG_SENSITIVE_PERMISSION)
    with transaction.atomic(durable=True):
        if Tag.objects.filter(name=name.strip()).exists():
            raise DomainError(TAG_NAME_TAKEN, field="name", name=name)
        tag = Tag.objects.create(name=name.strip(), kind=kind, created_at=clock.now())
        audit_write(action="tag.create", obj=tag, after={"name": tag.name, "kind": kind}, actor=actor)
    return tag


def _check_sensitive(tag: Tag, member: Member, user) -> None:
    if not tag.is_sensitive:
        return
    if user is not None and not user.has_perm("members.tag_member_sensitive"):
        raise DomainError(TAG_SENSITIVE_PERMISSION)
    if not Consent.objects.filter(
        member=member, channel=Channel.SENSITIVE_PI, state=Consent.State.GRANTED
    ).exists():
        raise DomainError(SENSITIVE_CONSENT_REQUIRED)


def member_tag_add(*, member_id: int, tag_name: str, source: str = "operator", actor=None) -> MemberTag:
    user = _actor(actor)
    tag = Tag.objects.filter(name=tag_name).first()
    if tag is None:
        raise DomainError(NOT_FOUND, field="tag")
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        _check_sensitive(tag, member, user)
        mt, created = MemberTag.objects.get_or_create(
            member=member,
            tag=tag,
            defaults={
                "added_at": clock.now(),
                "added_by": user if getattr(user, "pk", None) else None,
                "source": source[:32],
            },
        )
        if created:
            audit_write(
                action="member.tag_add",
                obj=member,
                after={"tag": tag.name, "sensitive": tag.is_sensitive},
                actor=actor,
            )
    return mt


def member_tag_remove(*, member_id: int, tag_name: str, actor=None) -> bool:
    user = _actor(actor)
    tag = Tag.objects.filter(name=tag_name).first()
    if tag is None:
        raise DomainError(NOT_FOUND, field="tag")
    if tag.is_sensitive and user is not None and not user.has_perm("members.tag_member_sensitive"):
        raise DomainError(TAG_SENSITIVE_PERMISSION)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        deleted, _ = MemberTag.objects.filter(member=member, tag=tag).delete()
        if deleted:
            audit_write(action="member.tag_remove", obj=member, before={"tag": tag.name}, actor=actor)
    return bool(deleted)


# --- consent --------------------------------------------------------------------------------------


def _consent_set(member: Member, channel: str, granted: bool, source: str, *, note: str, actor) -> Consent:
    if channel not in Channel.values:
        raise DomainError(CONSENT_CHANNEL_INVALID, field="channel", channel=channel)
    require("source", source)
    check_length("source", source, 64)
    check_length("note", note, 255)
    now = clock.now()
    state = Consent.State.GRANTED if granted else Consent.State.WITHDRAWN
    consent = Consent.objects.filter(member=member, channel=channel).first()
    before = consent.state if consent else None
    if consent is None:
        consent = Consent.objects.create(
            member=member, channel=channel, state=state, changed_at=now, source=source
        )
    elif consent.state != state:
        consent.state, consent.changed_at, consent.source = state, now, source
        consent.save(update_fields=["state", "changed_at", "source"])
    if before != state:
        ConsentEvent.objects.create(
            member=member,
            channel=channel,
            state=state,
            at=now,
            source=source,
            note=note,
            actor=actor if getattr(actor, "pk", None) else None,
        )
        audit_write(
            action="consent.set",
            obj=member,
            before={channel: before},
            after={channel: state, "source": source},
            actor=actor,
        )
    return consent


def consent_set(
    *, member_id: int, channel: str, granted: bool, source: str, note: str = "", actor=None
) -> Consent:
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        return _consent_set(member, channel, granted, source, note=note, actor=_actor(actor))


def member_unsubscribe(*, member_id: int, channel: str, source: str, note: str = "", actor=None) -> Consent:
    """An unsubscribe (SMS reply T/TD/N/退订, email link, operator) withdraws marketing consent
    on that channel; transactional messages still go (messaging decides by message kind)."""
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        return _consent_set(member, channel, False, source, note=note, actor=_actor(actor))


# --- lifecycle ------------------------------------------------------------------------------------


def member_lifecycle_set(*, member_id: int, state: str, reason: str = "", actor=None) -> Member:
    check_choice("state", state, Member.Lifecycle.choices)
    check_length("reason", reason, 255)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        if member.lifecycle != state:
            LifecycleEvent.objects.create(
                member=member, from_state=member.lifecycle, to_state=state, at=clock.now(), reason=reason
            )
            audit_write(
                action="member.lifecycle",
                obj=member,
                before={"lifecycle": member.lifecycle},
                after={"lifecycle": state, "reason": reason},
                actor=actor,
            )
            member.lifecycle = state
            member.updated_at = clock.now()
            member.save(update_fields=["lifecycle", "updated_at"])
    return member


def member_mark_permanent(*, member_id: int, reason: str, actor=None) -> Member:
    """永久会员 (S2): set by the points service once the member holds 8,000 points and has
    redeemed the 8,000-point gift; never pays card fees again."""
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        if not member.is_permanent:
            member.is_permanent = True
            member.permanent_since = clock.now()
            member.save(update_fields=["is_permanent", "permanent_since"])
            audit_write(
                action="member.permanent",
                obj=member,
                after={"is_permanent": True, "reason": reason},
                actor=actor,
            )
    return member


# --- agreements -----------------------------------------------------------------------------------


def agreement_publish(*, version: str, title: str, body: str, actor=None) -> Agreement:
    require("version", version)
    require("title", title)
    require("body", body)
    check_length("version", version, 20)
    check_length("title", title, 200)
    now = clock.now()
    with transaction.atomic(durable=True):
        if Agreement.objects.filter(version=version).exists():
            raise DomainError(AGREEMENT_VERSION_TAKEN, field="version", version=version)
        agreement = Agreement.objects.create(
            version=version, title=title, body=body, published_at=now, created_at=now
        )
        audit_write(
            action="agreement.publish", obj=agreement, after={"version": version, "title": title}, actor=actor
        )
    return agreement


def _agreement_accept(member: Member, version: str, *, channel: str) -> AgreementAcceptance:
    agreement = Agreement.objects.filter(version=version).first()
    if agreement is None or agreement.published_at is None:
        raise DomainError(AGREEMENT_NOT_PUBLISHED, field="agreement_version")
    acc, _ = AgreementAcceptance.objects.get_or_create(
        member=member, agreement=agreement, defaults={"accepted_at": clock.now(), "channel": channel[:32]}
    )
    return acc


def agreement_accept(
    *, member_id: int, version: str, channel: str = "store", actor=None
) -> AgreementAcceptance:
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        acc = _agreement_accept(member, version, channel=channel)
        audit_write(
            action="agreement.accept", obj=member, after={"version": version, "channel": channel}, actor=actor
        )
    return acc


# --- corporate archive ----------------------------------------------------------------------------

_CORP_FIELDS = {"unit_name": 200, "contact_name": 60, "position": 60, "phone": 30, "address": 255}


def _corp_values(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, max_len in _CORP_FIELDS.items():
        if key in data:
            check_length(key, data[key] or "", max_len)
            out[key] = data[key] or ""
    if "klass" in data:
        check_choice("klass", data["klass"], CorporateAccount.Klass.choices)
        out["klass"] = data["klass"]
    for key in ("annual_spend_fen", "agreed_discount_bp"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DomainError(ATTRIBUTE_TYPE_MISMATCH, field=key, key=key, type="integer ≥ 0")
            if key == "agreed_discount_bp" and value > 10_000:
                raise DomainError(ATTRIBUTE_TYPE_MISMATCH, field=key, key=key, type="0–10000")
            out[key] = value
    return out


def corporate_account_create(*, data: dict[str, Any], actor=None) -> CorporateAccount:
    values = _corp_values(data)
    if not values.get("unit_name", "").strip():
        raise DomainError(GROUP_NAME_REQUIRED, field="unit_name")
    with transaction.atomic(durable=True):
        corp = CorporateAccount.objects.create(created_at=clock.now(), **values)
        audit_write(
            action="corporate.create",
            obj=corp,
            after={k: v for k, v in values.items() if k != "phone"},
            actor=actor,
        )
    return corp


def corporate_account_update(*, corporate_id: int, data: dict[str, Any], actor=None) -> CorporateAccount:
    values = _corp_values(data)
    with transaction.atomic(durable=True):
        corp = CorporateAccount.objects.select_for_update().filter(pk=corporate_id).first()
        if corp is None:
            raise DomainError(NOT_FOUND, field="corporate_id")
        before = {k: getattr(corp, k) for k in values}
        for k, v in values.items():
            setattr(corp, k, v)
        corp.save()
        b, a = diff(before, values)
        audit_write(action="corporate.update", obj=corp, before=b, after=a, actor=actor)
    return corp
