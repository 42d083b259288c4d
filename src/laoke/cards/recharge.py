"""Recharge (充值) with card number + PIN, the brute-force guards, and unlock.

Order of a recharge (docs/decisions/0014-cards.md):

1. The number's check digit is verified first: a mistyped number costs nothing and counts
   against no card. Per-IP and per-member failure limits (core.ratelimit, shared by every
   process) are checked next.
2. An attempt is *reserved* on the card by a guarded UPDATE in its own committed transaction
   (``failed_pin_count = failed_pin_count + 1 WHERE failed_pin_count < 5``) before the PIN is
   checked. So at most five PIN checks can ever run against a card until it is unlocked — also
   under concurrency — and a failure stays counted whatever happens to the recharge afterwards.
   The sixth attempt is refused (CARD_LOCKED) even with the right PIN.
3. The PIN is checked (scrypt, constant time) outside any transaction: no lock is held for 20 ms.
   An unknown number costs the same hash against a dummy and answers like a wrong PIN.
4. The redemption runs in one durable transaction: the card row is locked, its state checked,
   the face value credited to the wallet (ledger key ``card_recharge:{card}``, a second guard),
   the card marked redeemed (a guarded UPDATE on its state), the reservation given back, an
   event, running stats, tiers evaluation and an audit row written.
"""

from __future__ import annotations

import ipaddress
import uuid

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from laoke.core import clock, idempotency, ratelimit
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, RATE_LIMITED, DomainError
from laoke.members.models import GroupAccount, Member
from laoke.stats.services import _stats_add

from . import pins
from .error_codes import (
    CARD_ALREADY_REDEEMED,
    CARD_CANCELLED,
    CARD_CHANNEL_INVALID,
    CARD_CREDENTIALS_INVALID,
    CARD_EXPERIENCE_NEEDS_MEMBER,
    CARD_EXPERIENCE_ONCE,
    CARD_EXPIRED,
    CARD_LOCKED,
    CARD_NOT_ACTIVATED,
    CARD_NOT_LOCKED,
    CARD_NUMBER_INVALID,
    CARD_REASON_REQUIRED,
    CARD_RECHARGE_OWNER,
)
from .models import MAX_PIN_FAILURES, Card, CardEvent, CardKind
from .wallet import _wallet_credit, _wallet_total

try:  # tiers is built in parallel; a recharge must not fail for its absence
    from laoke.tiers.services import _tiers_evaluate
except ImportError:  # pragma: no cover
    _tiers_evaluate = None

# Test-only switch for the negative controls of the race tests: read the card before the
# transaction without a lock, update it without the state guard, and give the ledger transfer a
# per-attempt key (so the idempotency key cannot save us either). Check-then-act, the bug.
_UNGUARDED_FOR_TESTS = False
# Test-only switch for the lockout race's negative control: reserve attempts by read-check-write.
_UNGUARDED_ATTEMPTS_FOR_TESTS = False

WINDOW_SECONDS = 3600


def _limits() -> tuple[int, int]:
    cfg = settings.LAOKE
    return cfg.get("CARD_PIN_FAILURES_PER_IP", 30), cfg.get("CARD_PIN_FAILURES_PER_MEMBER", 10)


def _keys(ip: str | None, member: Member | None, group: GroupAccount | None) -> list[tuple[str, int]]:
    per_ip, per_owner = _limits()
    keys = []
    if ip:
        keys.append((f"card_pin:ip:{ip}", per_ip))
    owner = f"m{member.pk}" if member is not None else f"g{group.pk}"
    keys.append((f"card_pin:owner:{owner}", per_owner))
    return keys


def _outside_transactions(name: str) -> None:
    """The failure count must commit on its own: refuse to run inside a caller's transaction
    (a test's wrapping transaction is fine: Django marks it)."""
    if any(not getattr(b, "_from_testcase", False) for b in connection.atomic_blocks):
        raise RuntimeError(f"{name} opens its own transactions; call it outside any transaction")


def _reserve_attempt(card_id: int) -> bool:
    if _UNGUARDED_ATTEMPTS_FOR_TESTS:  # read-check-write: concurrent attempts all see the old count
        with transaction.atomic():
            current = Card.objects.values_list("failed_pin_count", flat=True).get(pk=card_id)
            if current >= MAX_PIN_FAILURES:
                return False
            Card.objects.filter(pk=card_id).update(failed_pin_count=current + 1)
            return True
    with transaction.atomic():
        return (
            Card.objects.filter(pk=card_id, failed_pin_count__lt=MAX_PIN_FAILURES).update(
                failed_pin_count=F("failed_pin_count") + 1
            )
            == 1
        )


def _release_attempt(card_id: int) -> None:
    with transaction.atomic():
        Card.objects.filter(pk=card_id, failed_pin_count__gt=0).update(
            failed_pin_count=F("failed_pin_count") - 1
        )


def _record_failure(card_id: int, *, ip, member, actor, channel) -> bool:
    """The reserved attempt was a wrong PIN: keep it counted, lock at the fifth. True if locked."""
    now = clock.now()
    user = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        CardEvent.objects.create(
            card_id=card_id,
            action=CardEvent.Action.PIN_FAILED,
            at=now,
            actor=user,
            channel=channel,
            ip=ip,
            member=member,
        )
        locked = (
            Card.objects.filter(
                pk=card_id, failed_pin_count__gte=MAX_PIN_FAILURES, locked_at__isnull=True
            ).update(locked_at=now)
            == 1
        )
        if locked:
            CardEvent.objects.create(
                card_id=card_id,
                action=CardEvent.Action.LOCKED,
                at=now,
                actor=user,
                channel=channel,
                ip=ip,
                member=member,
            )
    return locked


def _count_failure(keys) -> None:
    for key, limit in keys:
        ratelimit.hit(key, limit=limit, window_seconds=WINDOW_SECONDS)


def _state_error(card: Card):
    if card.state == Card.State.REDEEMED:
        return CARD_ALREADY_REDEEMED
    if card.state == Card.State.CANCELLED:
        return CARD_CANCELLED
    if card.state == Card.State.EXPIRED:
        return CARD_EXPIRED
    if card.state == Card.State.CREATED:
        return CARD_NOT_ACTIVATED
    if card.expires_on is not None and card.expires_on < clock.today():
        return CARD_EXPIRED
    return None


def _card_redeem(*, card: Card, member, group_account, channel: str, ip, actor, idem) -> Card:
    now = clock.now()
    if _UNGUARDED_FOR_TESTS:
        key = f"card_recharge:{card.pk}:{uuid.uuid4().hex}"
    else:
        card = Card.objects.select_for_update().get(pk=card.pk)
        key = f"card_recharge:{card.pk}"
    error = _state_error(card)
    if error is not None:
        raise DomainError(error)
    if card.kind == CardKind.EXPERIENCE:
        if member is None:
            raise DomainError(CARD_EXPERIENCE_NEEDS_MEMBER, field="member")
        if Card.objects.filter(kind=CardKind.EXPERIENCE, redeemed_member=member).exists():
            raise DomainError(CARD_EXPERIENCE_ONCE)
    t = _wallet_credit(
        member=member,
        group_account=group_account,
        amount_fen=card.face_value_fen,
        key=key,
        reason="card_recharge",
        source="card_float",
        reference=card.number,
    )
    qs = Card.objects.filter(pk=card.pk)
    if not _UNGUARDED_FOR_TESTS:
        qs = qs.filter(state=Card.State.ACTIVATED)
    try:
        with transaction.atomic():
            updated = qs.update(
                state=Card.State.REDEEMED,
                redeemed_at=now,
                redeemed_member=member,
                redeemed_group=group_account,
                redeemed_channel=channel,
                redeem_transfer=t,
                failed_pin_count=F("failed_pin_count") - 1,  # the reserved attempt was right
            )
    except IntegrityError as exc:  # an experience card redeemed by this member concurrently
        raise DomainError(CARD_EXPERIENCE_ONCE) from exc
    if updated != 1:
        raise DomainError(CARD_ALREADY_REDEEMED)
    user = actor if getattr(actor, "pk", None) else None
    CardEvent.objects.create(
        card=card, action=CardEvent.Action.REDEEMED, at=now, actor=user, channel=channel, ip=ip, member=member
    )
    _stats_add(member=member, group_account=group_account, recharge_fen=card.face_value_fen, at=now)
    if _tiers_evaluate is not None:
        _tiers_evaluate(member=member, group_account=group_account, reason="card_recharge", at=now)
    balance = _wallet_total(member, group_account)  # the credit holds the wallet row's lock
    audit_write(
        action="card.recharge",
        obj=card,
        before={"state": Card.State.ACTIVATED, "balance_fen": balance - card.face_value_fen},
        after={
            "state": Card.State.REDEEMED,
            "balance_fen": balance,
            "number": card.number,
            "amount_fen": card.face_value_fen,
            "member": member.pk if member else None,
            "group_account": group_account.pk if group_account else None,
            "channel": channel,
            "transfer": t.pk,
        },
        actor=actor,
    )
    card.refresh_from_db()
    idempotency.complete(idem, card)
    return card


def card_recharge(
    *,
    number: str,
    pin: str,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    channel: str = Card.Channel.CASHIER,
    ip: str | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Card:
    """Move a card's face value into the member's (or group's) wallet; the card is void for ever."""
    _outside_transactions("card_recharge")
    if channel not in Card.Channel.values:
        raise DomainError(CARD_CHANNEL_INVALID, field="channel")
    if (member is None) == (group_account is None):
        raise DomainError(CARD_RECHARGE_OWNER, field="member")
    number = "".join((number or "").split())
    if not pins.number_valid(number):
        raise DomainError(CARD_NUMBER_INVALID, field="number")
    pin = pin if isinstance(pin, str) else ""
    try:
        ip = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        ip = None  # an adapter's garbage is not worth failing a recharge over
    keys = _keys(ip, member, group_account)
    for key, limit in keys:
        if ratelimit.is_limited(key, limit=limit, window_seconds=WINDOW_SECONDS):
            raise DomainError(RATE_LIMITED)
    card = Card.objects.filter(number=number).first()
    if card is None:
        pins.check_pin_dummy(pin)
        _count_failure(keys)
        raise DomainError(CARD_CREDENTIALS_INVALID, field="pin")
    if not _reserve_attempt(card.pk):
        raise DomainError(CARD_LOCKED)
    if not pins.check_pin(pin, card.pin_hash):
        locked = _record_failure(card.pk, ip=ip, member=member, actor=actor, channel=channel)
        _count_failure(keys)
        if locked:
            raise DomainError(CARD_LOCKED)
        left = MAX_PIN_FAILURES - Card.objects.values_list("failed_pin_count", flat=True).get(pk=card.pk)
        raise DomainError(CARD_CREDENTIALS_INVALID, field="pin", details={"attempts_left": max(left, 0)})
    try:
        with transaction.atomic(durable=True):
            return _card_redeem(
                card=card,
                member=member,
                group_account=group_account,
                channel=channel,
                ip=ip,
                actor=actor,
                idem=idem,
            )
    except DomainError:
        _release_attempt(card.pk)  # the PIN was right: the attempt is not a failure
        raise


def card_unlock(*, card_id: int, reason: str, actor=None) -> Card:
    """Give a locked card its five attempts back (the holder proved who they are). Audited."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(CARD_REASON_REQUIRED, field="reason")
    with transaction.atomic(durable=True):
        card = Card.objects.select_for_update().filter(pk=card_id).first()
        if card is None:
            raise DomainError(NOT_FOUND, field="card_id")
        if card.failed_pin_count < MAX_PIN_FAILURES and card.locked_at is None:
            raise DomainError(CARD_NOT_LOCKED)
        before = {
            "failed_pin_count": card.failed_pin_count,
            "locked_at": card.locked_at.isoformat() if card.locked_at else None,
        }
        Card.objects.filter(pk=card.pk).update(failed_pin_count=0, locked_at=None)
        now = clock.now()
        CardEvent.objects.create(
            card=card,
            action=CardEvent.Action.UNLOCKED,
            at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            note=reason[:200],
        )
        audit_write(
            action="card.unlock",
            obj=card,
            before=before,
            after={"failed_pin_count": 0, "reason": reason[:200]},
            actor=actor,
        )
        card.refresh_from_db()
    return card
