"""The outbox (ARCHITECTURE rule 7): rows first, sending second.

- ``message_enqueue`` writes the row (unique per purpose and member, so enqueueing twice is a
  no-op) and decides at once whether it may go at all: no address for the channel, or for
  marketing no granted consent / an unsubscribe / an inactive member → stored as ``suppressed``
  with the reason (visible, never silently dropped). Transactional messages (balance changes,
  card recharge) ignore marketing opt-outs but still need an address. After commit it kicks
  the dispatcher.
- ``message_claim_batch`` is the one claim helper: on PostgreSQL ``UPDATE … WHERE id IN (SELECT
  … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING id``, so several workers never claim the same row;
  on SQLite the same statement without the lock clause (IMMEDIATE transactions serialise
  writers).
- ``message_send_batch`` calls the provider outside any transaction and lock, then records the
  outcome with a guarded UPDATE (only a row still ``sending`` changes). Transient errors go back
  to ``waiting`` with exponential backoff; permanent errors and the last attempt → ``failed``.
- ``messaging_tick(now)`` first resolves expired leases by asking the provider what happened
  (sent → sent; otherwise back to waiting), then sends what is due.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.members.models import Consent, Member

from .error_codes import MESSAGE_BODY_REQUIRED, MESSAGE_CHANNEL_INVALID, MESSAGE_PURPOSE_INVALID
from .models import Message
from .providers import PermanentSendError, TransientSendError, provider_for

log = logging.getLogger("laoke.messaging")

SMS_SINGLE, SMS_MULTI = 70, 67  # carrier segment sizes (characters)


def sms_segments(text: str) -> int:
    """70 characters fit one SMS; a longer one is split in 67-character parts."""
    n = len(text)
    return 1 if n <= SMS_SINGLE else -(-n // SMS_MULTI)


def _address(member: Member, channel: str) -> str | None:
    if channel == Message.Channel.SMS:
        return member.mobile
    if channel == Message.Channel.EMAIL:
        return member.email
    raise DomainError(MESSAGE_CHANNEL_INVALID, field="channel", channel=channel)


def _suppression(member: Member, channel: str, kind: str) -> str:
    if member.status != Member.Status.ACTIVE:
        return f"member {member.status}"
    if kind == Message.Kind.MARKETING:
        consent = (
            Consent.objects.filter(member=member, channel=channel).values_list("state", flat=True).first()
        )
        if consent == Consent.State.WITHDRAWN:
            return "unsubscribed"
        if consent != Consent.State.GRANTED:
            return "no marketing consent"
    return ""


def _message_enqueue(
    *,
    purpose: str,
    member: Member,
    channel: str,
    kind: str,
    body: str,
    subject: str = "",
    html_body: str = "",
    not_before: datetime | None = None,
    job_id: str = "",
) -> Message:
    if not connection.in_atomic_block:
        raise RuntimeError("_message_enqueue needs the caller's transaction")
    if not purpose or len(purpose) > 120:
        raise DomainError(MESSAGE_PURPOSE_INVALID, field="purpose")
    if channel not in Message.Channel.values:
        raise DomainError(MESSAGE_CHANNEL_INVALID, field="channel", channel=channel)
    if not body:
        raise DomainError(MESSAGE_BODY_REQUIRED, field="body")
    existing = Message.objects.filter(purpose=purpose, member=member).first()
    if existing is not None:
        return existing
    now = clock.now()
    address = _address(member, channel)
    reason = "no address for this channel" if not address else _suppression(member, channel, kind)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                purpose=purpose,
                member=member,
                channel=channel,
                kind=kind,
                to_address=address or "",
                subject=subject[:200],
                body=body,
                html_body=html_body,
                state=Message.State.SUPPRESSED if reason else Message.State.WAITING,
                error=reason,
                not_before=not_before or now,
                created_at=now,
                job_id=job_id,
                segments=sms_segments(body) if channel == Message.Channel.SMS else 1,
            )
    except IntegrityError:  # the same purpose was enqueued concurrently: that row stands
        return Message.objects.get(purpose=purpose, member=member)
    if message.state == Message.State.WAITING and settings.LAOKE.get("MESSAGING_KICK_ON_COMMIT", True):
        transaction.on_commit(_kick)
    return message


def message_enqueue(**kwargs) -> Message:
    """Public form of :func:`_message_enqueue` for callers without their own transaction."""
    with transaction.atomic(durable=True):
        return _message_enqueue(**kwargs)


def _kick() -> None:
    from .tasks import messaging_dispatch

    try:
        messaging_dispatch()
    except Exception:  # the periodic tick picks it up; a broken queue must not break the write
        log.exception("could not enqueue the dispatcher")


# --- claim and send ---------------------------------------------------------------------------


_CLAIM_SQL = """
UPDATE messaging_message
   SET state = 'sending', lease_until = %s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM messaging_message
        WHERE state = 'waiting' AND not_before <= %s
        ORDER BY id
        LIMIT %s{lock})
RETURNING id
"""


def message_claim_batch(*, now: datetime, limit: int | None = None) -> list[int]:
    limit = limit or settings.LAOKE["MESSAGING_BATCH_SIZE"]
    lease = now + timedelta(seconds=settings.LAOKE["MESSAGING_LEASE_SECONDS"])
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_CLAIM_SQL.format(lock=lock), [lease, now, limit])
        return sorted(row[0] for row in cur.fetchall())


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _finish(message_id: int, **values) -> bool:
    with transaction.atomic():
        return Message.objects.filter(pk=message_id, state=Message.State.SENDING).update(**values) == 1


def message_send_batch(ids: list[int], *, now: datetime) -> dict[str, int]:
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    max_attempts = settings.LAOKE["MESSAGING_MAX_ATTEMPTS"]
    for message in Message.objects.filter(pk__in=ids, state=Message.State.SENDING).order_by("pk"):
        provider = provider_for(message.channel)
        try:
            result = provider.send(message)
        except TransientSendError as exc:
            if message.attempts >= max_attempts:
                _finish(
                    message.pk, state=Message.State.FAILED, error=f"gave up: {exc}"[:500], lease_until=None
                )
                outcome["failed"] += 1
            else:
                _finish(
                    message.pk,
                    state=Message.State.WAITING,
                    error=str(exc)[:500],
                    lease_until=None,
                    not_before=now + _backoff(message.attempts),
                )
                outcome["retry"] += 1
            continue
        except PermanentSendError as exc:
            _finish(message.pk, state=Message.State.FAILED, error=str(exc)[:500], lease_until=None)
            outcome["failed"] += 1
            continue
        _finish(
            message.pk,
            state=Message.State.SENT,
            provider=provider.name,
            provider_message_id=result.provider_message_id[:128],
            segments=result.segments,
            sent_at=clock.now(),
            lease_until=None,
            error="",
        )
        outcome["sent"] += 1
    return outcome


def _resolve_expired_leases(now: datetime) -> dict[str, int]:
    resolved = {"confirmed": 0, "requeued": 0}
    for message in Message.objects.filter(state=Message.State.SENDING, lease_until__lt=now).order_by("pk"):
        status = provider_for(message.channel).status(message)
        if status == "sent":
            if _finish(message.pk, state=Message.State.SENT, sent_at=now, lease_until=None):
                resolved["confirmed"] += 1
        elif status == "failed":
            _finish(
                message.pk, state=Message.State.FAILED, error="provider reports failure", lease_until=None
            )
        elif _finish(message.pk, state=Message.State.WAITING, lease_until=None):
            resolved["requeued"] += 1
    return resolved


def messaging_tick(now: datetime, *, max_batches: int = 50) -> dict[str, int]:
    totals = {"sent": 0, "retry": 0, "failed": 0, **_resolve_expired_leases(now)}
    for _ in range(max_batches):
        ids = message_claim_batch(now=now)
        if not ids:
            break
        for key, value in message_send_batch(ids, now=now).items():
            totals[key] += value
    return totals
