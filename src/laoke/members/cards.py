"""Membership cards (会员卡, S2/S3): issue with the active policy's fee, waiver and validity;
replacement voids the old card. One active card per member (a partial unique index)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError
from laoke.core.models import Store
from laoke.core.money import apply_bp

from .error_codes import (
    CARD_ALREADY_ACTIVE,
    CARD_NOT_ACTIVE,
    CARD_POLICY_MISSING,
    CARD_REPLACEMENT_PROOF_REQUIRED,
)
from .models import CardPolicy, Member, MembershipCard
from .services import _lock_member, _require_active


def _card_number() -> str:
    for _ in range(10):
        number = "8" + "".join(secrets.choice("0123456789") for _ in range(11))
        if not MembershipCard.objects.filter(number=number).exists():
            return number
    raise RuntimeError("could not allocate a card number")


def card_fee(
    policy: CardPolicy, member: Member, *, purchase_fen: int | None, first_purchase: bool
) -> tuple[int, str]:
    """The fee for a new card and why. Order: permanent members never pay; free with the
    first-purchase receipt (mall preset); waived by a single purchase over the threshold;
    group members pay the group rate."""
    if member.is_permanent:
        return 0, "permanent member"
    if policy.free_with_first_purchase and first_purchase:
        return 0, "free with first purchase"
    if (
        policy.waiver_threshold_fen is not None
        and purchase_fen is not None
        and purchase_fen >= policy.waiver_threshold_fen
    ):
        return 0, f"waived: single purchase {purchase_fen} ≥ {policy.waiver_threshold_fen}"
    if member.group_account_id is not None:
        return apply_bp(policy.fee_fen, policy.group_fee_bp), f"group rate {policy.group_fee_bp} bp"
    return policy.fee_fen, "standard fee"


def _active_policy() -> CardPolicy:
    policy = CardPolicy.objects.filter(is_active=True).first()
    if policy is None:
        raise DomainError(CARD_POLICY_MISSING)
    return policy


def membership_card_issue(
    *,
    member_id: int,
    purchase_fen: int | None = None,
    first_purchase: bool = False,
    store: Store | None = None,
    actor=None,
) -> MembershipCard:
    policy = _active_policy()
    with transaction.atomic(durable=True):
        member = _lock_member(member_id)
        _require_active(member)
        if MembershipCard.objects.filter(member=member, state=MembershipCard.State.ACTIVE).exists():
            raise DomainError(CARD_ALREADY_ACTIVE)
        fee, note = card_fee(policy, member, purchase_fen=purchase_fen, first_purchase=first_purchase)
        now = clock.now()
        try:
            with transaction.atomic():
                card = MembershipCard.objects.create(
                    member=member,
                    number=_card_number(),
                    issued_at=now,
                    valid_until=(clock.to_local(now) + timedelta(days=policy.validity_days)).date(),
                    fee_fen=fee,
                    fee_note=note,
                    issued_at_store=store,
                )
        except IntegrityError as exc:
            raise DomainError(CARD_ALREADY_ACTIVE) from exc
        audit_write(
            action="membership_card.issue",
            obj=card,
            after={"member": member.pk, "number": card.number, "fee_fen": fee, "note": note},
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
    if not old_number and not customer_stub:
        raise DomainError(CARD_REPLACEMENT_PROOF_REQUIRED, field="old_number")
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
        if old_number and old.number != old_number.strip():
            raise DomainError(CARD_REPLACEMENT_PROOF_REQUIRED, field="old_number")
        now = clock.now()
        old.state = MembershipCard.State.VOID
        old.voided_at = now
        old.void_reason = "replaced"
        old.save(update_fields=["state", "voided_at", "void_reason"])
        fee = 0 if member.is_permanent else policy.replacement_fee_fen
        new = MembershipCard.objects.create(
            member=member,
            number=_card_number(),
            issued_at=now,
            valid_until=old.valid_until,
            fee_fen=fee,
            fee_note="replacement",
            issued_at_store=store,
            replaces=old,
        )
        audit_write(
            action="membership_card.replace",
            obj=new,
            before={"number": old.number, "state": "active"},
            after={"number": new.number, "voided": old.number, "fee_fen": fee},
            actor=actor,
        )
    return new


def card_policy_activate(*, policy_id: int, actor=None) -> CardPolicy:
    with transaction.atomic(durable=True):
        policy = CardPolicy.objects.select_for_update().filter(pk=policy_id).first()
        if policy is None:
            raise DomainError(CARD_POLICY_MISSING)
        CardPolicy.objects.filter(is_active=True).exclude(pk=policy.pk).update(is_active=False)
        policy.is_active = True
        policy.save(update_fields=["is_active"])
        audit_write(action="card_policy.activate", obj=policy, after={"name": policy.name}, actor=actor)
    return policy
