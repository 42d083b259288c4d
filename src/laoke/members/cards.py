"""Membership cards (会员卡, S2/S3): issue with the active policy's fee, waiver and validity;
replacement voids the old card; one active card per member (a partial unique index).

Fee of a new card, first rule that applies (card_fee):
1. permanent member (永久会员) → 0;
2. the policy gives the card free with the first-purchase receipt (mall preset, S3) and this is
   the first purchase → 0;
3. a single purchase of at least the waiver threshold (一次性购物满xx元免费办卡) → 0;
4. member of a group account → the fee at the policy's group rate (basis points, half-up);
5. otherwise the policy's fee.

An active card past its validity is renewed by issuing a new one (the old one is voided with
reason 'expired'). A replacement (补卡) needs the old card's number or the customer stub, keeps
the old card's validity and costs the policy's replacement fee (0 for permanent members).
Card numbers are 12 digits: '8', ten random digits and a Luhn check digit, so a mistyped
number at the service desk is caught.

Re-exported by services.py: call them as ``laoke.members.services.<name>``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import FIELD_INVALID, DomainError
from laoke.core.models import Store
from laoke.core.money import BP_ONE, apply_bp
from laoke.core.validation import check_length, require

from ._core import _lock_member, _require_active
from .error_codes import (
    CARD_ALREADY_ACTIVE,
    CARD_NOT_ACTIVE,
    CARD_POLICY_MISSING,
    CARD_POLICY_NAME_TAKEN,
    CARD_REPLACEMENT_PROOF_REQUIRED,
)
from .models import CardPolicy, Member, MembershipCard


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right, starting with the rightmost payload digit
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card_number_valid(number: str) -> bool:
    return len(number) == 12 and number.isdigit() and luhn_digit(number[:-1]) == number[-1]


def _card_number() -> str:
    for _ in range(10):
        body = "8" + "".join(secrets.choice("0123456789") for _ in range(10))
        number = body + luhn_digit(body)
        if not MembershipCard.objects.filter(number=number).exists():
            return number
    raise RuntimeError("could not allocate a card number")


def card_fee(
    policy: CardPolicy, member: Member, *, purchase_fen: int | None, first_purchase: bool
) -> tuple[int, str]:
    """The fee for a new card and why (see the module docstring for the order of the rules)."""
    if member.is_permanent:
        return 0, "permanent member"
    if policy.free_with_first_purchase and first_purchase:
        return 0, "free with first purchase"
    if (
        policy.waiver_threshold_fen is not None
        and purchase_fen is not None
        and purchase_fen >= policy.waiver_threshold_fen
    ):
        return 0, f"waived: single purchase {purchase_fen} >= {policy.waiver_threshold_fen}"
    if member.group_account_id is not None and policy.group_fee_bp != BP_ONE:
        return apply_bp(policy.fee_fen, policy.group_fee_bp), f"group rate {policy.group_fee_bp} bp"
    return policy.fee_fen, "standard fee"


def _active_policy() -> CardPolicy:
    policy = CardPolicy.objects.filter(is_active=True).first()
    if policy is None:
        raise DomainError(CARD_POLICY_MISSING)
    return policy


def _fen(field: str, value: Any, *, optional: bool = False, upper: int | None = None) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError(FIELD_INVALID, field=field)
    if upper is not None and value > upper:
        raise DomainError(FIELD_INVALID, field=field)
    return value


def card_policy_create(
    *,
    name: str,
    validity_days: int = 730,
    fee_fen: int = 500,
    group_fee_bp: int = BP_ONE,
    waiver_threshold_fen: int | None = None,
    free_with_first_purchase: bool = False,
    replacement_fee_fen: int = 200,
    activate: bool = False,
    actor=None,
) -> CardPolicy:
    """A membership card policy (presets: S2 supermarket 5元/2 years/waived from 200元, group
    rate; S3 mall free with the first receipt). ``validity_days=0``: cards never expire."""
    require("name", name)
    check_length("name", name, 100)
    values = {
        "validity_days": _fen("validity_days", validity_days, upper=36_500),
        "fee_fen": _fen("fee_fen", fee_fen, upper=10_000_000),
        "group_fee_bp": _fen("group_fee_bp", group_fee_bp, upper=BP_ONE),
        "waiver_threshold_fen": _fen("waiver_threshold_fen", waiver_threshold_fen, optional=True),
        "replacement_fee_fen": _fen("replacement_fee_fen", replacement_fee_fen, upper=10_000_000),
    }
    if not isinstance(free_with_first_purchase, bool):
        raise DomainError(FIELD_INVALID, field="free_with_first_purchase")
    name = name.strip()
    with transaction.atomic(durable=True):
        if CardPolicy.objects.filter(name=name).exists():
            raise DomainError(CARD_POLICY_NAME_TAKEN, field="name", name=name)
        if activate:
            CardPolicy.objects.filter(is_active=True).update(is_active=False)
        policy = CardPolicy.objects.create(
            name=name,
            is_active=bool(activate),
            free_with_first_purchase=free_with_first_purchase,
            created_at=clock.now(),
            **values,
        )
        audit_write(
            action="card_policy.create",
            obj=policy,
            after={
                **values,
                "name": name,
                "free_with_first_purchase": free_with_first_purchase,
                "active": activate,
            },
            actor=actor,
        )
    return policy


def card_policy_activate(*, policy_id: int, actor=None) -> CardPolicy:
    """Make this policy the one new cards follow (exactly one is active: a partial unique index)."""
    with transaction.atomic(durable=True):
        policy = CardPolicy.objects.select_for_update().filter(pk=policy_id).first()
        if policy is None:
            raise DomainError(CARD_POLICY_MISSING)
        previous = list(
            CardPolicy.objects.filter(is_active=True).exclude(pk=policy.pk).values_list("name", flat=True)
        )
        CardPolicy.objects.filter(is_active=True).exclude(pk=policy.pk).update(is_active=False)
        if not policy.is_active:
            policy.is_active = True
            policy.save(update_fields=["is_active"])
        audit_write(
            action="card_policy.activate",
            obj=policy,
            before={"active": previous},
            after={"active": policy.name},
            actor=actor,
        )
    return policy


def _valid_until(policy: CardPolicy, now):
    if policy.validity_days == 0:
        return None
    return (clock.to_local(now) + timedelta(days=policy.validity_days)).date()


def membership_card_issue(
    *,
    member_id: int,
    purchase_fen: int | None = None,
    first_purchase: bool = False,
    store: Store | None = None,
    actor=None,
) -> MembershipCard:
    """Issue a card (办卡) at the active policy's fee; ``purchase_fen`` is the triggering single
    purchase (for the waiver), ``first_purchase`` whether it is the member's first receipt."""
    _fen("purchase_fen", purchase_fen, optional=True)
    if not isinstance(first_purchase, bool):
        raise DomainError(FIELD_INVALID, field="first_purchase")
    if store is not None and not isinstance(store, Store):
        raise DomainError(FIELD_INVALID, field="store")
    policy = _active_policy()
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        now = clock.now()
        current = (
            MembershipCard.objects.select_for_update()
            .filter(member=member, state=MembershipCard.State.ACTIVE)
            .first()
        )
        renewed = None
        if current is not None:
            if current.valid_until is None or current.valid_until >= clock.today():
                raise DomainError(CARD_ALREADY_ACTIVE)
            current.state, current.voided_at, current.void_reason = MembershipCard.State.VOID, now, "expired"
            current.save(update_fields=["state", "voided_at", "void_reason"])
            renewed = current.number
        fee, note = card_fee(policy, member, purchase_fen=purchase_fen, first_purchase=first_purchase)
        try:
            with transaction.atomic():
                card = MembershipCard.objects.create(
                    member=member,
                    number=_card_number(),
                    issued_at=now,
                    valid_until=_valid_until(policy, now),
                    fee_fen=fee,
                    fee_note=note[:100],
                    issued_at_store=store,
                )
        except IntegrityError as exc:  # SQLite without row locks: a concurrent issue won
            raise DomainError(CARD_ALREADY_ACTIVE) from exc
        audit_write(
            action="membership_card.issue",
            obj=card,
            after={
                "member": member.pk,
                "number": card.number,
                "fee_fen": fee,
                "note": note,
                "policy": policy.name,
                "renews": renewed,
            },
            actor=actor,
        )
    return card


def membership_card_replace(
    *,
    member_id: int,
    old_number: str | None = None,
    customer_stub: bool = False,
    store: Store | None = None,
    actor=None,
) -> MembershipCard:
    """补卡: needs the old card number or the customer stub; the old card is voided for ever and
    the new one keeps its validity. Fee: the policy's replacement fee (0 for permanent members)."""
    old_number = (old_number or "").strip()
    if not isinstance(customer_stub, bool):
        raise DomainError(FIELD_INVALID, field="customer_stub")
    if not old_number and not customer_stub:
        raise DomainError(CARD_REPLACEMENT_PROOF_REQUIRED, field="old_number")
    if store is not None and not isinstance(store, Store):
        raise DomainError(FIELD_INVALID, field="store")
    policy = _active_policy()
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        old = (
            MembershipCard.objects.select_for_update()
            .filter(member=member, state=MembershipCard.State.ACTIVE)
            .first()
        )
        if old is None:
            raise DomainError(CARD_NOT_ACTIVE)
        if old_number and old.number != old_number:
            raise DomainError(CARD_REPLACEMENT_PROOF_REQUIRED, field="old_number")
        now = clock.now()
        old.state = MembershipCard.State.VOID
        old.voided_at = now
        old.void_reason = "replaced"
        old.save(update_fields=["state", "voided_at", "void_reason"])
        fee = 0 if member.is_permanent else policy.replacement_fee_fen
        proof = "old card" if old_number else "customer stub"
        new = MembershipCard.objects.create(
            member=member,
            number=_card_number(),
            issued_at=now,
            valid_until=old.valid_until,
            fee_fen=fee,
            fee_note=f"replacement ({proof})",
            issued_at_store=store,
            replaces=old,
        )
        audit_write(
            action="membership_card.replace",
            obj=new,
            before={"number": old.number, "state": "active"},
            after={"number": new.number, "voided": old.number, "fee_fen": fee, "proof": proof},
            actor=actor,
        )
    return new
