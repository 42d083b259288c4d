"""Writes of the member archive. Each public service runs in its own durable transaction and
writes its audit row there; ``_helpers`` need an open transaction. Input is validated before the
transaction opens, so a bad field writes nothing.

This module is the one entry point: it defines the profile, external-id, consent, lifecycle and
agreement services and re-exports the ones that live beside it (accounts.py: group accounts and
the corporate archive; tagging.py: attributes and tags; cards.py: membership cards; merge.py;
privacy.py: member_view, PIPL export and deletion).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.core.models import Store
from laoke.core.validation import check_choice, check_length, require

from ._core import (
    _lock_member,
    _purge_sensitive,
    _require_active,
    actor_of,
    attribute_value_of,
    db_actor,
    member_snapshot,
)
from .bulk import _members_insert, _refs_insert
from .error_codes import (
    AGREEMENT_NOT_PUBLISHED,
    AGREEMENT_VERSION_TAKEN,
    BIRTHDAY_INVALID,
    CONSENT_CHANNEL_INVALID,
    MEMBER_EMAIL_TAKEN,
    MEMBER_MOBILE_TAKEN,
    MEMBER_REF_TAKEN,
)
from .models import (
    Agreement,
    AgreementAcceptance,
    Channel,
    Consent,
    ConsentEvent,
    GroupAccount,
    LifecycleEvent,
    Member,
    MemberRef,
)
from .validation import check_birthday, normalize_email, normalize_id_number, normalize_mobile, parse_address

__all__ = [
    "EDITABLE",
    "agreement_accept",
    "agreement_draft_save",
    "agreement_publish",
    "attribute_definition_create",
    "attribute_value_of",
    "card_policy_activate",
    "card_policy_create",
    "check_unique_contact",
    "clean_member_data",
    "consent_set",
    "corporate_account_create",
    "corporate_account_update",
    "group_account_create",
    "group_account_update",
    "member_attribute_set",
    "member_create",
    "member_forget",
    "member_lifecycle_set",
    "member_mark_permanent",
    "member_merge",
    "member_pi_export",
    "member_ref_add",
    "member_snapshot",
    "member_tag_add",
    "member_tag_remove",
    "member_unsubscribe",
    "member_update",
    "member_view",
    "membership_card_issue",
    "membership_card_replace",
    "tag_create",
]

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
_TEXT_FIELDS = {k for k, v in EDITABLE.items() if v is not None} | {"gender", "source"}


def _new_code() -> str:
    """Member numbers: 'M' + 10 random digits; random so they reveal no member count."""
    for _ in range(10):
        code = "M" + "".join(secrets.choice("0123456789") for _ in range(10))
        if not Member.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not allocate a member number")


def _birthday(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise DomainError(BIRTHDAY_INVALID, field="birthday") from exc
    elif not isinstance(value, date):
        raise DomainError(BIRTHDAY_INVALID, field="birthday")
    return check_birthday(value, today=clock.today())


def clean_member_data(data: dict[str, Any]) -> dict[str, Any]:
    """Validate every given field; returns model field values. Raises on the first bad field
    (unknown keys included: a typo must not be dropped silently)."""
    for key, value in data.items():
        if key not in EDITABLE:
            raise DomainError(FIELD_INVALID, field=key)
        if key in _TEXT_FIELDS and value is not None and not isinstance(value, str):
            raise DomainError(FIELD_INVALID, field=key)
        max_len = EDITABLE[key]
        if max_len is not None and isinstance(value, str):
            check_length(key, value, max_len)
    out: dict[str, Any] = {}
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
        out["birthday"] = _birthday(data["birthday"])
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
        out["source"] = str(data["source"])
    if "home_store" in data:
        store = data["home_store"]
        if store is not None and not isinstance(store, Store):
            store = Store.objects.filter(pk=store).first() if isinstance(store, int) else None
            if store is None:
                raise DomainError(NOT_FOUND, field="home_store")
        out["home_store"] = store
    if "group_account" in data:
        group = data["group_account"]
        if group is not None and not isinstance(group, GroupAccount):
            group = GroupAccount.objects.filter(pk=group).first() if isinstance(group, int) else None
            if group is None:
                raise DomainError(NOT_FOUND, field="group_account")
        out["group_account"] = group
    if "exclude_personalised" in data:
        if not isinstance(data["exclude_personalised"], bool):
            raise DomainError(FIELD_INVALID, field="exclude_personalised")
        out["exclude_personalised"] = data["exclude_personalised"]
    if "notes" in data:
        out["notes"] = data["notes"] or ""
    return out


def check_unique_contact(values: dict[str, Any], *, exclude_id: int | None = None) -> None:
    """The friendly check before writing; the unique indexes are the guard (_save_unique)."""
    qs = Member.objects.all()
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    if values.get("mobile") and qs.filter(mobile=values["mobile"]).exists():
        raise DomainError(MEMBER_MOBILE_TAKEN, field="mobile")
    if values.get("email") and qs.filter(email__iexact=values["email"]).exists():
        raise DomainError(MEMBER_EMAIL_TAKEN, field="email")


def _save_unique(fn, values: dict[str, Any], *, exclude_id: int | None = None):
    """Run ``fn`` (an insert or update) in a savepoint. If a concurrent transaction committed the
    same mobile/email first, the unique index refuses ours: ask the database which value is taken
    now (a new statement sees the winner's committed row) and raise its stable error."""
    try:
        with transaction.atomic():
            return fn()
    except IntegrityError:
        check_unique_contact(values, exclude_id=exclude_id)  # raises the stable error
        raise  # another constraint: a bug, not user input


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
    registered_at: datetime | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Member:
    """Register a member. Every field is validated first; a taken mobile/email is
    MEMBER_MOBILE_TAKEN/MEMBER_EMAIL_TAKEN with nothing written, also when another registration
    of the same mobile commits at the same moment (the unique index decides)."""
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
    refs = [tuple(r) for r in refs or []]
    for ref in refs:
        if len(ref) != 2:
            raise DomainError(FIELD_INVALID, field="refs")
        _check_ref(*ref)
    for channel, granted in (consents or {}).items():
        if channel not in Channel.values:
            raise DomainError(CONSENT_CHANNEL_INVALID, field="consents", channel=channel)
        if not isinstance(granted, bool):
            raise DomainError(FIELD_INVALID, field="consents")
    _check_source(consent_source)
    user = actor_of(actor)
    now = clock.now()
    with transaction.atomic(durable=True):
        check_unique_contact(values)
        member = _save_unique(
            lambda: Member.objects.create(
                code=_new_code(), registered_at=registered_at or now, created_at=now, updated_at=now, **values
            ),
            values,
        )
        for src, ext in refs:
            _ref_add(member, src, ext)
        LifecycleEvent.objects.create(
            member=member, from_state="", to_state=member.lifecycle, at=now, reason="registered"
        )
        audit_write(action="member.create", obj=member, after=member_snapshot(member), actor=actor)
        for channel, granted in (consents or {}).items():
            _consent_set(member, channel, granted, consent_source, note="", actor=user)
        if agreement_version:
            _agreement_accept(member, agreement_version, channel=source)
        idempotency.complete(idem, member)
    return member


def member_update(
    *, member_id: int, data: dict[str, Any], actor=None, idem: idempotency.Claim | None = None
) -> Member:
    """Change profile fields (keys of EDITABLE; ``address`` is re-parsed). Audited as a diff."""
    values = clean_member_data(data)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        before = member_snapshot(member)
        check_unique_contact(values, exclude_id=member.pk)
        for key, value in values.items():
            setattr(member, key, value)
        member.updated_at = clock.now()
        _save_unique(member.save, values, exclude_id=member.pk)
        b, a = diff(before, member_snapshot(member))
        if a:
            audit_write(action="member.update", obj=member, before=b, after=a, actor=actor)
        idempotency.complete(idem, member)
    return member


# --- external identities --------------------------------------------------------------------------


def _check_ref(source: Any, external_id: Any) -> None:
    if not isinstance(source, str) or not isinstance(external_id, str):
        raise DomainError(FIELD_INVALID, field="refs")
    require("source", source)
    require("external_id", external_id)
    check_length("source", source, 32)
    check_length("external_id", external_id, 128)


def _ref_add(member: Member, source: str, external_id: str) -> MemberRef:
    source, external_id = source.strip(), external_id.strip()
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


def _members_for_refs(
    source: str, refs: list[str], *, now: datetime, job_id: str, member_source: str = Member.Source.IMPORT
) -> tuple[dict[str, int], int]:
    """Resolve external references (``MemberRef`` of ``source``; else a member number equal to the
    reference) to member ids, registering a bare member — no contact data, nothing of value — for
    every reference still unknown, with its ``MemberRef``. Bulk: a constant number of statements
    per 2,000 references; call inside the importer's transaction (one audit row for the batch).
    Returns (reference → member id, members created)."""
    out: dict[str, int] = {}
    wanted = list(dict.fromkeys(r.strip() for r in refs))
    for i in range(0, len(wanted), 2000):
        chunk = wanted[i : i + 2000]
        out.update(
            MemberRef.objects.filter(source=source, external_id__in=chunk).values_list(
                "external_id", "member_id"
            )
        )
        missing = [r for r in chunk if r not in out]
        out.update(Member.objects.filter(code__in=missing).values_list("code", "pk"))
    missing = [r for r in wanted if r not in out]
    if not missing:
        return out, 0
    ids = _members_insert([{} for _ in missing], source=member_source, now=now, job_id=job_id)
    _refs_insert([(pk, source, ref) for ref, pk in zip(missing, ids, strict=True)], now=now)
    out.update(zip(missing, ids, strict=True))
    return out, len(ids)


def member_ref_add(*, member_id: int, source: str, external_id: str, actor=None) -> MemberRef:
    """Attach an external identity (Taobao buyer name, POS id…); unique per source."""
    _check_ref(source, external_id)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        ref = _ref_add(member, source, external_id)
        audit_write(
            action="member.ref_add",
            obj=member,
            after={"source": ref.source, "external_id": ref.external_id},
            actor=actor,
        )
    return ref


# --- consent --------------------------------------------------------------------------------------


def _check_source(source: Any, *, field: str = "source") -> None:
    if not isinstance(source, str):
        raise DomainError(FIELD_INVALID, field=field)
    require(field, source)
    check_length(field, source, 64)


def _consent_set(member: Member, channel: str, granted: bool, source: str, *, note: str, actor) -> Consent:
    """Record a decision: the current state in Consent, every change in ConsentEvent plus an
    audit row. The same state again changes nothing. Withdrawing ``sensitive_pi`` deletes the
    member's sensitive tags and attribute values (nothing sensitive is kept without consent)."""
    now = clock.now()
    state = Consent.State.GRANTED if granted else Consent.State.WITHDRAWN
    consent = Consent.objects.filter(member=member, channel=channel).first()
    before = consent.state if consent else None
    if before == state:
        return consent
    if consent is None:
        consent = Consent.objects.create(
            member=member, channel=channel, state=state, changed_at=now, source=source
        )
    else:
        consent.state, consent.changed_at, consent.source = state, now, source
        consent.save(update_fields=["state", "changed_at", "source"])
    ConsentEvent.objects.create(
        member=member, channel=channel, state=state, at=now, source=source, note=note, actor=db_actor(actor)
    )
    after: dict[str, Any] = {channel: state, "source": source}
    if channel == Channel.SENSITIVE_PI and state == Consent.State.WITHDRAWN:
        after["deleted"] = _purge_sensitive(member)
    audit_write(action="consent.set", obj=member, before={channel: before}, after=after, actor=actor)
    return consent


def _check_consent_input(channel: str, source: str, note: str) -> None:
    if channel not in Channel.values:
        raise DomainError(CONSENT_CHANNEL_INVALID, field="channel", channel=channel)
    _check_source(source)
    if not isinstance(note, str):
        raise DomainError(FIELD_INVALID, field="note")
    check_length("note", note, 255)


def consent_set(
    *, member_id: int, channel: str, granted: bool, source: str, note: str = "", actor=None
) -> Consent:
    """Grant or withdraw consent on one channel (sms, email, phone, direct_mail, app_push) or the
    separate ``sensitive_pi`` consent, with where the decision came from."""
    _check_consent_input(channel, source, note)
    if not isinstance(granted, bool):
        raise DomainError(FIELD_INVALID, field="granted")
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        return _consent_set(member, channel, granted, source, note=note, actor=actor_of(actor))


def member_unsubscribe(*, member_id: int, channel: str, source: str, note: str = "", actor=None) -> Consent:
    """An unsubscribe (source 'sms_reply' for T/TD/N/退订, 'email_link', 'operator', …) withdraws
    marketing consent on that channel: every later marketing send there is suppressed, while
    transactional messages still go (messaging decides by message kind). Also accepted for a
    merged or anonymised member: an opt-out is never refused."""
    _check_consent_input(channel, source, note)
    with transaction.atomic(durable=True):
        # A merged member lives on in its target (merges keep merged_into one hop). Look first and
        # lock only the row that changes, so this never holds a source while a merge waits for it.
        seen = Member.objects.filter(pk=member_id).values_list("status", "merged_into_id").first()
        if seen is None:
            raise DomainError(NOT_FOUND, field="member_id")
        member = _lock_member(seen[1] if seen[0] == Member.Status.MERGED and seen[1] else member_id)
        if member.status == Member.Status.MERGED and member.merged_into_id:  # merged meanwhile
            member = _lock_member(member.merged_into_id)
        return _consent_set(member, channel, False, source, note=note, actor=actor_of(actor))


# --- lifecycle and permanent members --------------------------------------------------------------


def member_lifecycle_set(*, member_id: int, state: str, reason: str = "", actor=None) -> Member:
    """Move a member to a lifecycle state (注册 → 充值 → 激活 → 沉睡 → 消亡); a LifecycleEvent keeps
    the history. Which transitions happen when is decided by the callers (tiers, care tasks)."""
    check_choice("state", state, Member.Lifecycle.choices)
    check_length("reason", reason, 255)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        if member.lifecycle != state:
            now = clock.now()
            LifecycleEvent.objects.create(
                member=member, from_state=member.lifecycle, to_state=state, at=now, reason=reason
            )
            audit_write(
                action="member.lifecycle",
                obj=member,
                before={"lifecycle": member.lifecycle},
                after={"lifecycle": state, "reason": reason},
                actor=actor,
            )
            member.lifecycle = state
            member.updated_at = now
            member.save(update_fields=["lifecycle", "updated_at"])
    return member


def member_mark_permanent(*, member_id: int, reason: str, actor=None) -> Member:
    """永久会员 (S2): set by the points service once the member holds 8,000 points and has
    redeemed the 8,000-point gift; never pays card fees again and is listed apart."""
    require("reason", reason)
    check_length("reason", reason, 200)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        if not member.is_permanent:
            member.is_permanent = True
            member.permanent_since = clock.now()
            member.updated_at = member.permanent_since
            member.save(update_fields=["is_permanent", "permanent_since", "updated_at"])
            audit_write(
                action="member.permanent",
                obj=member,
                after={"is_permanent": True, "reason": reason},
                actor=actor,
            )
    return member


# --- agreements -----------------------------------------------------------------------------------


def _check_agreement(version: str, title: str | None, body: str | None) -> None:
    require("version", version)
    check_length("version", version, 20)
    if title is not None:
        require("title", title)
        check_length("title", title, 200)
    if body is not None:
        require("body", body)
        check_length("body", body, 100_000)


def agreement_draft_save(*, version: str, title: str, body: str, actor=None) -> Agreement:
    """Create or edit an unpublished version of the 会员协议. A published text never changes:
    a new text is a new version."""
    _check_agreement(version, title, body)
    now = clock.now()
    with transaction.atomic(durable=True):
        agreement = Agreement.objects.select_for_update().filter(version=version).first()
        if agreement is not None and agreement.published_at is not None:
            raise DomainError(AGREEMENT_VERSION_TAKEN, field="version", version=version)
        if agreement is None:
            agreement = Agreement.objects.create(version=version, title=title, body=body, created_at=now)
        else:
            agreement.title, agreement.body = title, body
            agreement.save(update_fields=["title", "body"])
        audit_write(
            action="agreement.draft", obj=agreement, after={"version": version, "title": title}, actor=actor
        )
    return agreement


def agreement_publish(
    *, version: str, title: str | None = None, body: str | None = None, actor=None
) -> Agreement:
    """Publish a version: the saved draft (title/body may still be given), or a new text in one
    step. From then on members can accept it and its text is frozen."""
    _check_agreement(version, title, body)
    now = clock.now()
    with transaction.atomic(durable=True):
        agreement = Agreement.objects.select_for_update().filter(version=version).first()
        if agreement is not None and agreement.published_at is not None:
            raise DomainError(AGREEMENT_VERSION_TAKEN, field="version", version=version)
        if agreement is None:
            require("title", title)
            require("body", body)
            agreement = Agreement.objects.create(
                version=version, title=title, body=body, published_at=now, created_at=now
            )
        else:
            agreement.title = title if title is not None else agreement.title
            agreement.body = body if body is not None else agreement.body
            agreement.published_at = now
            agreement.save(update_fields=["title", "body", "published_at"])
        audit_write(
            action="agreement.publish",
            obj=agreement,
            after={"version": version, "title": agreement.title},
            actor=actor,
        )
    return agreement


def _agreement_accept(member: Member, version: str | None, *, channel: str) -> AgreementAcceptance:
    published = Agreement.objects.filter(published_at__isnull=False)
    if version is None:
        agreement = published.order_by("-published_at", "-id").first()
    else:
        agreement = published.filter(version=version).first()
    if agreement is None:
        raise DomainError(AGREEMENT_NOT_PUBLISHED, field="agreement_version")
    acc, _ = AgreementAcceptance.objects.get_or_create(
        member=member, agreement=agreement, defaults={"accepted_at": clock.now(), "channel": channel}
    )
    return acc


def agreement_accept(
    *, member_id: int, version: str | None = None, channel: str = "store", actor=None
) -> AgreementAcceptance:
    """Record that the member accepted a published version (the latest when none is named)."""
    check_length("channel", channel, 32)
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        acc = _agreement_accept(member, version, channel=channel)
        audit_write(
            action="agreement.accept",
            obj=member,
            after={"version": acc.agreement.version, "channel": acc.channel},
            actor=actor,
        )
    return acc


# --- the services that live beside this module (one import path for callers) ----------------------

from .accounts import (  # noqa: E402
    corporate_account_create,
    corporate_account_update,
    group_account_create,
    group_account_update,
)
from .cards import (  # noqa: E402
    card_policy_activate,
    card_policy_create,
    membership_card_issue,
    membership_card_replace,
)
from .merge import member_merge  # noqa: E402
from .privacy import member_forget, member_pi_export, member_view  # noqa: E402
from .tagging import (  # noqa: E402
    attribute_definition_create,
    member_attribute_set,
    member_tag_add,
    member_tag_remove,
    tag_create,
)
