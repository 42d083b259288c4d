"""The outbox (ARCHITECTURE rule 7): rows first, sending second.

- ``message_enqueue`` writes the row (unique per purpose and member, so enqueueing twice is a
  no-op that returns the first row, whatever the second call's text) and decides at once
  whether it may go at all. Decision: a message that may not go is *stored* as ``suppressed``
  with the reason, not refused with an error — a campaign of 50,000 must not stop at the first
  member without a mobile, the reasons are countable in the progress view, and re-enqueueing the
  same purpose stays a no-op. Only programming errors (unknown channel, empty body or purpose)
  raise. The reasons:
    * ``no address for this channel`` — SMS needs a mobile, email an email address; this holds
      for transactional messages too;
    * ``member merged`` / ``member anonymised`` — only active members are written to;
    * marketing only: ``unsubscribed`` (consent withdrawn on that channel) and ``no marketing
      consent`` (no consent recorded: marketing needs an explicit opt-in, Advertising Law
      art. 43 / PIPL art. 13).
  Transactional messages (balance change, card recharge) ignore marketing opt-outs.
  ``exclude_personalised`` (PIPL art. 24) does NOT suppress here: it bars *personalised*
  targeting, which segmentation enforces when it picks the audience; a non-personalised
  marketing message (a store-wide announcement to everyone who opted in) still goes.
  After commit it kicks the dispatcher (Huey), so sending never holds the writer's locks.
  ``_messages_enqueue_bulk`` is the same decision for a chunk of members of one purpose (a
  campaign wave) in a constant number of queries, with the caller's own suppression reasons.
- ``message_claim_batch`` is the one claim helper: on PostgreSQL ``UPDATE … WHERE id IN (SELECT
  … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING id``, so several workers never claim the same row;
  on SQLite the same statement without the lock clause (IMMEDIATE transactions serialise
  writers).
- ``message_send_batch`` calls the provider outside any transaction and lock, then records the
  outcome with a guarded UPDATE (only a row still ``sending`` under the same lease changes).
  Transient errors go back to ``waiting`` with exponential backoff; permanent errors and the
  last attempt → ``failed``; over the provider's rate → back to waiting for the next minute
  without counting an attempt; any other exception → outcome unknown, left to the resolver.
- ``messaging_tick(now)`` first resolves expired leases by asking the provider what happened
  (sent → sent; failed → failed; unknown → back to waiting), then sends what is due. The worker
  also runs the resolver once at start (Huey startup hook, tasks.py).
- Right before each hand-over (after the claim) the sender re-reads the marketing consent of the
  batch's members (one query, refreshed every second of a long batch): a member who unsubscribed
  while the wave was running is never sent to (``suppressed``, "unsubscribed").
  ``_messages_cancel_pending`` suppresses a member's waiting marketing rows at once (the inbound
  reply "TD" calls it).
- Provider windows (Aliyun: same number and signature ≤ 1 per minute, 5 per hour, 10 per day) are
  counted in core.ratelimit buckets shared by every worker: a message over a window goes back to
  waiting until that window ends, without using an attempt.
- Delivery receipts (``message_receipts_apply``) set ``delivery`` on the row they name (our id or
  the provider's), first receipt wins, so a receipt pushed twice changes nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from laoke.core import clock, ratelimit
from laoke.core.bulk import insert_rows
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.validation import check_choice, check_length
from laoke.members.models import Consent, Member

from .error_codes import MESSAGE_BODY_REQUIRED, MESSAGE_CHANNEL_INVALID, MESSAGE_PURPOSE_INVALID
from .models import InboundMessage, Message
from .providers import PermanentSendError, Provider, TransientSendError, provider_for

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
    if channel == Message.Channel.WEBHOOK:  # the bridge addresses the member by their code
        return member.code
    raise DomainError(MESSAGE_CHANNEL_INVALID, field="channel", channel=channel)


# The consent a marketing message on a channel needs (webhooks carry WeChat / IM / app pushes).
CONSENT_CHANNEL = {
    Message.Channel.SMS: "sms",
    Message.Channel.EMAIL: "email",
    Message.Channel.WEBHOOK: "app_push",
}


def _consent_channel(channel: str) -> str:
    return CONSENT_CHANNEL.get(channel, channel)


_UNREAD = object()


def _suppression(member: Member, channel: str, kind: str, *, consent=_UNREAD) -> str:
    """Why this message may not go ('' = it may). See the module docstring. ``consent`` is the
    member's consent state on the channel when the caller already read it ('' = none recorded)."""
    if member.status != Member.Status.ACTIVE:
        return f"member {member.status}"
    if not _address(member, channel):
        return "no address for this channel"
    if kind == Message.Kind.MARKETING:
        if consent is _UNREAD:
            consent = (
                Consent.objects.filter(member=member, channel=_consent_channel(channel))
                .values_list("state", flat=True)
                .first()
            )
        if consent == Consent.State.WITHDRAWN:
            return "unsubscribed"
        if consent != Consent.State.GRANTED:
            return "no marketing consent"
    return ""


SMS_BODY_MAX = 1000  # carriers refuse longer concatenated SMS (≈ 15 segments)


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
    template_code: str = "",
    template_params: dict | list | None = None,
) -> Message:
    """Write one outgoing message inside the caller's transaction (a balance change and its
    notice commit together, or neither). Returns the row, new or already there."""
    if not connection.in_atomic_block:
        raise RuntimeError("_message_enqueue needs the caller's transaction")
    if not purpose or len(purpose) > 120:
        raise DomainError(MESSAGE_PURPOSE_INVALID, field="purpose")
    if channel not in Message.Channel.values:
        raise DomainError(MESSAGE_CHANNEL_INVALID, field="channel", channel=channel)
    check_choice("kind", kind, Message.Kind.values)
    if not body or not body.strip():
        raise DomainError(MESSAGE_BODY_REQUIRED, field="body")
    check_length("body", body, SMS_BODY_MAX if channel == Message.Channel.SMS else 200_000)
    check_length("subject", subject, 200)
    check_length("job_id", job_id, 64)
    check_length("template_code", template_code, 64)
    existing = Message.objects.filter(purpose=purpose, member=member).first()
    if existing is not None:
        return existing
    # The caller's object may be stale (merged or forgotten meanwhile): decide on the row.
    current = Member.objects.filter(pk=member.pk).only("mobile", "email", "code", "status").first()
    if current is None:
        raise DomainError(NOT_FOUND, field="member")
    now = clock.now()
    address = _address(current, channel)
    reason = _suppression(current, channel, kind)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                purpose=purpose,
                member=current,
                channel=channel,
                kind=kind,
                to_address=address or "",
                subject=subject,
                body=body,
                html_body=html_body,
                state=Message.State.SUPPRESSED if reason else Message.State.WAITING,
                error=reason,
                not_before=not_before or now,
                created_at=now,
                job_id=job_id,
                segments=sms_segments(body) if channel == Message.Channel.SMS else 1,
                template_code=template_code,
                template_params=template_params,
            )
    except IntegrityError:  # the same purpose was enqueued concurrently: that row stands
        return Message.objects.get(purpose=purpose, member=member)
    if message.state == Message.State.WAITING and settings.LAOKE.get("MESSAGING_KICK_ON_COMMIT", True):
        _kick_after_commit()
    return message


def _kick_after_commit() -> None:
    """One kick per transaction, however many messages it enqueued (a campaign chunk writes
    2,000): look for ours among the callbacks already registered. Reusing one is always safe:
    savepoints nest, so every savepoint still open around the earlier registration is open
    around this message too — a rollback that drops that kick drops this message with it (and
    a rolled-back kick is already gone from the list)."""
    for entry in getattr(connection, "run_on_commit", None) or []:
        if len(entry) > 1 and entry[1] is _kick:
            return
    transaction.on_commit(_kick)


def message_enqueue(
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
    template_code: str = "",
    template_params: dict | list | None = None,
) -> Message:
    """Public form of :func:`_message_enqueue` for callers without their own transaction."""
    with transaction.atomic(durable=True):
        return _message_enqueue(
            purpose=purpose,
            member=member,
            channel=channel,
            kind=kind,
            body=body,
            subject=subject,
            html_body=html_body,
            not_before=not_before,
            job_id=job_id,
            template_code=template_code,
            template_params=template_params,
        )


_BULK_COLUMNS = (
    "purpose",
    "member_id",
    "channel",
    "kind",
    "to_address",
    "subject",
    "body",
    "html_body",
    "state",
    "error",
    "not_before",
    "attempts",
    "provider",
    "provider_message_id",
    "segments",
    "created_at",
    "job_id",
    "template_code",
    "template_params",
    "delivery",
    "delivery_error",
)


def _outbox_decisions(
    member_ids, *, channel: str, kind: str
) -> tuple[dict[int, SimpleNamespace], dict[int, str]]:
    """The members (id, mobile, email, code, status) and, for those that may not be written to,
    the outbox's reason — :func:`_suppression` for many members in two queries."""
    ids = list(member_ids)
    members = {
        pk: SimpleNamespace(pk=pk, mobile=mobile, email=email, code=code, status=status)
        for pk, mobile, email, code, status in Member.objects.filter(pk__in=ids).values_list(
            "pk", "mobile", "email", "code", "status"
        )
    }
    consents: dict[int, str] = {}
    if kind == Message.Kind.MARKETING:
        consents = dict(
            Consent.objects.filter(member_id__in=ids, channel=_consent_channel(channel)).values_list(
                "member_id", "state"
            )
        )
    reasons = {}
    for pk, member in members.items():
        reason = _suppression(member, channel, kind, consent=consents.get(pk, ""))
        if reason:
            reasons[pk] = reason
    return members, reasons


@dataclass(frozen=True)
class MessageSpec:
    """One member's message in a bulk enqueue. ``suppress`` is the caller's own reason not to send
    (a campaign guard: frequency cap, open complaint, cool-off …); the row is then stored as
    ``suppressed`` with that reason, countable like the outbox's own reasons."""

    member_id: int
    body: str
    subject: str = ""
    html_body: str = ""
    suppress: str = ""
    not_before: datetime | None = None
    template_code: str = ""  # the SMS provider's template (Aliyun / Tencent), see providers
    template_params: dict | list | None = None


def _messages_enqueue_bulk(
    *,
    purpose: str,
    channel: str,
    kind: str,
    specs: list[MessageSpec],
    not_before: datetime,
    job_id: str = "",
    decided: tuple[dict, dict] | None = None,
) -> dict[str, int]:
    """Write many members' messages of one purpose inside the caller's transaction (a campaign
    wave's chunk of ≤ 2,000), deciding each row's suppression as :func:`_message_enqueue` does but
    with a constant number of queries: members and consents are read once, the rows are written
    by one ``INSERT … ON CONFLICT DO NOTHING`` so a member who already has this purpose keeps the
    first row (a restarted wave sends nobody twice). Returns counts: ``waiting``, ``suppressed``
    (new rows in each state) and ``existing`` (members skipped because their row was there)."""
    if not connection.in_atomic_block:
        raise RuntimeError("_messages_enqueue_bulk needs the caller's transaction")
    if not purpose or len(purpose) > 120:
        raise DomainError(MESSAGE_PURPOSE_INVALID, field="purpose")
    if channel not in Message.Channel.values:
        raise DomainError(MESSAGE_CHANNEL_INVALID, field="channel", channel=channel)
    check_choice("kind", kind, Message.Kind.values)
    check_length("job_id", job_id, 64)
    limit = SMS_BODY_MAX if channel == Message.Channel.SMS else 200_000
    for spec in specs:
        if not spec.body or not spec.body.strip():
            raise DomainError(MESSAGE_BODY_REQUIRED, field="body")
        check_length("body", spec.body, limit)
        check_length("subject", spec.subject, 200)
        check_length("template_code", spec.template_code, 64)
    ids = [spec.member_id for spec in specs]
    already = set(
        Message.objects.filter(purpose=purpose, member_id__in=ids).values_list("member_id", flat=True)
    )
    # ``decided``: the caller's own ``_outbox_decisions`` of these members in this transaction
    members, reasons = decided or _outbox_decisions(ids, channel=channel, kind=kind)
    now = clock.now()
    params = Message._meta.get_field("template_params")
    rows: list[tuple] = []
    counts = {"waiting": 0, "suppressed": 0, "existing": 0}
    seen: set[int] = set()
    for spec in specs:
        member = members.get(spec.member_id)
        if member is None or spec.member_id in already or spec.member_id in seen:
            counts["existing"] += 1
            continue
        seen.add(spec.member_id)
        reason = spec.suppress or reasons.get(spec.member_id, "")
        state = Message.State.SUPPRESSED if reason else Message.State.WAITING
        counts[state] += 1
        rows.append(
            (
                purpose,
                member.pk,
                channel,
                kind,
                _address(member, channel) or "",
                spec.subject,
                spec.body,
                spec.html_body,
                state,
                reason[:500],
                spec.not_before or not_before,
                0,
                "",
                "",
                sms_segments(spec.body) if channel == Message.Channel.SMS else 1,
                now,
                job_id,
                spec.template_code,
                params.get_db_prep_value(spec.template_params, connection),
                Message.Delivery.UNKNOWN,
                "",
            )
        )
    insert_rows(Message._meta.db_table, _BULK_COLUMNS, rows)
    if counts["waiting"] and settings.LAOKE.get("MESSAGING_KICK_ON_COMMIT", True):
        _kick_after_commit()
    return counts


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
        WHERE state = 'waiting' AND not_before <= %s{channel}
        ORDER BY id
        LIMIT %s{lock})
RETURNING id
"""


def _lease_until(now: datetime) -> datetime:
    """The lease a claim at ``now`` sets. It doubles as the claim's fencing token: a row is only
    sent and finished by the worker whose lease it still carries (a reclaim after an expired
    lease happens at a later ``now`` and so carries a different lease)."""
    return now + timedelta(seconds=settings.LAOKE["MESSAGING_LEASE_SECONDS"])


def message_claim_batch(*, now: datetime, limit: int | None = None, channel: str | None = None) -> list[int]:
    """Claim up to ``limit`` due waiting messages (optionally of one channel) for this worker.

    PostgreSQL: the inner SELECT locks its rows with SKIP LOCKED, so concurrent workers take
    disjoint batches without waiting for each other. SQLite: the same statement without the lock
    clause; write transactions are IMMEDIATE, so claims are serialised and each sees the last.
    """
    limit = limit or settings.LAOKE["MESSAGING_BATCH_SIZE"]
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    adapt = connection.ops.adapt_datetimefield_value  # the same text the ORM writes on SQLite
    params: list = [adapt(_lease_until(now)), adapt(now)]
    channel_clause = ""
    if channel is not None:
        channel_clause = " AND channel = %s"
        params.append(channel)
    params.append(limit)
    if _NAIVE_CLAIM_FOR_TESTS:
        return _naive_claim(params, channel_clause)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_CLAIM_SQL.format(lock=lock, channel=channel_clause), params)
        return sorted(row[0] for row in cur.fetchall())


# A test-only switch for the negative control of the claim race: no lock clause, and the ids
# read first and updated in a second statement (what the one claim helper exists to prevent).
_NAIVE_CLAIM_FOR_TESTS = False


_NAIVE_SELECT_SQL = "SELECT id FROM messaging_message WHERE state = 'waiting' AND not_before <= %s{channel} ORDER BY id LIMIT %s"


def _naive_claim(params: list, channel_clause: str) -> list[int]:
    """(PostgreSQL only: ``= ANY``.)"""
    lease, now, *rest = params
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_NAIVE_SELECT_SQL.format(channel=channel_clause), [now, *rest])
        ids = [row[0] for row in cur.fetchall()]
        if ids:
            cur.execute(
                "UPDATE messaging_message SET state = 'sending', lease_until = %s, attempts = attempts + 1"
                " WHERE id = ANY(%s)",
                [lease, ids],
            )
        return sorted(ids)


def _backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at an hour (the first step is
    ``LAOKE["MESSAGING_BACKOFF_SECONDS"]`` when set: the crash test uses 1 s)."""
    first = settings.LAOKE.get("MESSAGING_BACKOFF_SECONDS", 30)
    return timedelta(seconds=min(first * 2 ** (attempts - 1), 3600))


def _finish(message_id: int, lease: datetime | None, **values) -> bool:
    """Record an outcome, only if the row is still in ``sending`` under this lease (``None``:
    under any lease)."""
    qs = Message.objects.filter(pk=message_id, state=Message.State.SENDING)
    if lease is not None:
        qs = qs.filter(lease_until=lease)
    return qs.update(**values) == 1  # one statement: atomic by itself (no BEGIN/COMMIT round trips)


def _release(ids: list[int], lease: datetime, not_before: datetime) -> int:
    """Put claimed rows back untouched (not an attempt): over the provider's rate."""
    with transaction.atomic():
        return Message.objects.filter(pk__in=ids, state=Message.State.SENDING, lease_until=lease).update(
            state=Message.State.WAITING,
            lease_until=None,
            not_before=not_before,
            attempts=F("attempts") - 1,
        )


def _next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _window_wait(provider: Provider, message: Message, now: datetime) -> datetime | None:
    """When the provider's per-number windows (``provider.windows``: ``[(seconds, limit), …]``,
    keyed by ``provider.window_key(message)``, e.g. signature + number) allow this message again,
    or None if they allow it now. Looks only; :func:`_window_count` counts the send."""
    windows = getattr(provider, "windows", None) or ()
    if not windows:
        return None
    key = f"messaging:{provider.name}:{provider.window_key(message)}"
    wait = None
    for seconds, limit in windows:
        if ratelimit.is_limited(f"{key}:{seconds}", limit=limit, window_seconds=seconds, now=now):
            end = ratelimit._window_start(now, seconds) + timedelta(seconds=seconds)
            wait = max(wait or end, end)
    return wait


def _window_count(provider: Provider, message: Message, now: datetime) -> datetime | None:
    """Count one send in each window; if another worker filled one meanwhile, when to try again."""
    windows = getattr(provider, "windows", None) or ()
    key = f"messaging:{provider.name}:{provider.window_key(message)}" if windows else ""
    for seconds, limit in windows:
        if not ratelimit.hit(f"{key}:{seconds}", limit=limit, window_seconds=seconds, now=now):
            return ratelimit._window_start(now, seconds) + timedelta(seconds=seconds)
    return None


UNSUBSCRIBED = "unsubscribed"
CONSENT_REFRESH_SECONDS = 1.0  # a long batch re-reads its members' consent this often


class _ConsentView:
    """The marketing consent of one batch's members, read in one query after the claim and read
    again when it is older than a second, so an unsubscribe that lands while a batch is being
    handed over stops that member's message within about a second."""

    def __init__(self, messages: list[Message]):
        self.pairs = {
            (m.member_id, _consent_channel(m.channel)) for m in messages if m.kind == Message.Kind.MARKETING
        }
        self.read_at = None
        self.granted: set[tuple[int, str]] = set()

    def allows(self, message: Message) -> bool:
        if message.kind != Message.Kind.MARKETING:
            return True
        if self.read_at is None or time.monotonic() - self.read_at > CONSENT_REFRESH_SECONDS:
            self._read()
        return (message.member_id, _consent_channel(message.channel)) in self.granted

    def _read(self) -> None:
        self.read_at = time.monotonic()
        if not self.pairs:
            return
        members = {m for m, _ in self.pairs}
        channels = {c for _, c in self.pairs}
        self.granted = set(
            Consent.objects.filter(
                member_id__in=members, channel__in=channels, state=Consent.State.GRANTED
            ).values_list("member_id", "channel")
        )
        self.read_at = time.monotonic()


def message_send_batch(ids: list[int], *, now: datetime) -> dict[str, int]:
    """Send rows claimed by ``message_claim_batch(now=now)``, outside any transaction or lock.

    Each row is re-checked right before its hand-over (still ours, enough of the lease left on
    the real clock) so a slow batch never sends a row that another worker may have resolved and
    reclaimed meanwhile; rows not handed over (out of time, over the provider's rate) go back to
    waiting untouched; each outcome is a short guarded UPDATE.
    """
    outcome = {"sent": 0, "retry": 0, "failed": 0, "deferred": 0, "unknown": 0, "held": 0, "suppressed": 0}
    max_attempts = settings.LAOKE["MESSAGING_MAX_ATTEMPTS"]
    lease = _lease_until(now)
    # Start a hand-over only while a quarter of the lease is left, so the send (whose provider
    # timeout must be shorter than that) ends before a resolver could look at the row.
    margin = timedelta(seconds=settings.LAOKE["MESSAGING_LEASE_SECONDS"] / 4)
    providers: dict[str, Provider] = {}
    pending = list(
        Message.objects.filter(pk__in=ids, state=Message.State.SENDING, lease_until=lease)
        .select_related("member")
        .order_by("pk")
    )
    held_back: dict[str, datetime] = {}  # channel → not_before for rows we will not send now
    consent = _ConsentView(pending)
    for message in pending:
        if message.channel not in held_back and clock.now() >= lease - margin:
            held_back[message.channel] = now  # out of time: hand the rest back, untouched
        if message.channel in held_back:
            outcome["deferred"] += _release([message.pk], lease, held_back[message.channel])
            continue
        if message.member.status == Member.Status.ANONYMISED:  # forgotten after it was queued
            _finish(
                message.pk,
                lease,
                state=Message.State.SUPPRESSED,
                lease_until=None,
                error=_FORGOTTEN,
                **_ERASED,
            )
            continue
        if not consent.allows(message):  # unsubscribed (or consent gone) after it was queued
            if _finish(
                message.pk, lease, state=Message.State.SUPPRESSED, lease_until=None, error=UNSUBSCRIBED
            ):
                outcome["suppressed"] += 1
            continue
        provider = providers.get(message.channel)
        if provider is None:
            provider = providers[message.channel] = provider_for(message.channel)
        if not Message.objects.filter(pk=message.pk, state=Message.State.SENDING, lease_until=lease).exists():
            continue  # no longer ours (resolved elsewhere): not ours to send
        wait = _window_wait(provider, message, now)
        if wait is not None:  # this number's window is full: it waits, the others go on
            outcome["held"] += _release([message.pk], lease, wait)
            continue
        rate = getattr(provider, "rate_per_minute", None)
        if rate and not ratelimit.hit(f"messaging:{provider.name}", limit=rate, window_seconds=60, now=now):
            held_back[message.channel] = _next_minute(now)  # over the provider's rate
            outcome["deferred"] += _release([message.pk], lease, held_back[message.channel])
            continue
        wait = _window_count(provider, message, now)
        if wait is not None:  # another worker filled the window between the look and the count
            outcome["held"] += _release([message.pk], lease, wait)
            continue
        try:
            result = provider.send(message)
        except TransientSendError as exc:
            if message.attempts >= max_attempts:
                _finish(
                    message.pk,
                    lease,
                    state=Message.State.FAILED,
                    error=f"gave up after {message.attempts} attempts: {exc}"[:500],
                    lease_until=None,
                )
                outcome["failed"] += 1
            else:
                _finish(
                    message.pk,
                    lease,
                    state=Message.State.WAITING,
                    error=str(exc)[:500],
                    lease_until=None,
                    not_before=now + _backoff(message.attempts),
                )
                outcome["retry"] += 1
            continue
        except PermanentSendError as exc:
            _finish(message.pk, lease, state=Message.State.FAILED, error=str(exc)[:500], lease_until=None)
            outcome["failed"] += 1
            continue
        except Exception:  # the outcome is unknown: leave the claim for the lease resolver
            log.exception("provider %s raised while sending message %s", provider.name, message.pk)
            outcome["unknown"] += 1
            continue
        _finish(
            message.pk,
            lease,
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
    """A worker died (or stalled) between claim and outcome. Ask the provider what became of
    each such message — never resend blindly: sent → sent; failed → failed; unknown (it never
    got there) → waiting, to be claimed again. Each outcome is recorded only under the expired
    lease it was asked about: two resolvers (two workers starting together) walk the same list,
    and by the time the second one gets to a row the first may have requeued it and a third
    worker claimed and sent it under a new lease — "under any lease" would requeue that live
    claim and send the message twice (found by tests/channels/test_crash_pg.py)."""
    resolved = {"confirmed": 0, "requeued": 0, "lost": 0}
    expired = Message.objects.filter(state=Message.State.SENDING, lease_until__lt=now).order_by("pk")
    if _BLIND_RESEND_FOR_TESTS:  # the negative control of the crash test: what rule 7 forbids
        with transaction.atomic():
            resolved["requeued"] = expired.update(state=Message.State.WAITING, lease_until=None)
        return resolved
    providers: dict[str, Provider] = {}
    for message in expired:
        provider = providers.get(message.channel)
        if provider is None:
            provider = providers[message.channel] = provider_for(message.channel)
        try:
            status = provider.status(message)
        except Exception:  # cannot tell yet: leave it expired and ask again next tick
            log.exception("provider %s could not report on message %s", provider.name, message.pk)
            continue
        if status == "sent":
            if _finish(
                message.pk,
                message.lease_until,
                state=Message.State.SENT,
                provider=provider.name,
                sent_at=now,
                lease_until=None,
                error="",
            ):
                resolved["confirmed"] += 1
        elif status == "failed":
            if _finish(
                message.pk,
                message.lease_until,
                state=Message.State.FAILED,
                error="provider reports failure",
                lease_until=None,
            ):
                resolved["lost"] += 1
        elif _finish(message.pk, message.lease_until, state=Message.State.WAITING, lease_until=None):
            resolved["requeued"] += 1
    return resolved


# A test-only switch for the negative control of the crash test (tests/channels/test_crash_pg.py):
# expired leases go back to waiting without asking the provider — duplicates follow.
_BLIND_RESEND_FOR_TESTS = False


def messaging_resolve_leases(now: datetime) -> dict[str, int]:
    """The lease resolver on its own: the worker runs it at start (before it sends anything), the
    tick runs it every minute."""
    return _resolve_expired_leases(now)


# --- unsubscribes, receipts and replies --------------------------------------------------------


def _messages_cancel_pending(*, member_id: int, channel: str, reason: str = UNSUBSCRIBED) -> int:
    """Suppress the member's waiting marketing messages on ``channel`` (all purposes) with
    ``reason``, inside the caller's transaction: an unsubscribe during a running wave stops what
    has not gone yet. Rows being handed over right now are stopped by the sender's own consent
    re-check. Returns how many rows were cancelled."""
    if not connection.in_atomic_block:
        raise RuntimeError("_messages_cancel_pending needs the caller's transaction")
    if channel not in Message.Channel.values:
        raise DomainError(MESSAGE_CHANNEL_INVALID, field="channel", channel=channel)
    return Message.objects.filter(
        member_id=member_id, channel=channel, kind=Message.Kind.MARKETING, state=Message.State.WAITING
    ).update(state=Message.State.SUPPRESSED, error=reason[:500])


def messages_cancel_pending(*, member_id: int, channel: str, reason: str = UNSUBSCRIBED) -> int:
    with transaction.atomic(durable=True):
        return _messages_cancel_pending(member_id=member_id, channel=channel, reason=reason)


@dataclass(frozen=True)
class Receipt:
    """A delivery report: which message (our id as sent in OutId / SessionContext / out_id, or the
    provider's id), delivered or not, when, and the carrier's code when not."""

    provider: str
    delivered: bool
    provider_message_id: str = ""
    out_id: str = ""
    at: datetime | None = None
    error: str = ""


def _receipt_target(receipt: Receipt):
    qs = Message.objects.all()
    if receipt.out_id and receipt.out_id.isdigit():
        qs = qs.filter(pk=int(receipt.out_id))
        if receipt.provider_message_id:  # both given: they must agree (or our id not recorded yet)
            qs = qs.filter(provider_message_id__in=[receipt.provider_message_id, ""])
        return qs
    if receipt.provider_message_id:
        return qs.filter(provider=receipt.provider, provider_message_id=receipt.provider_message_id)
    return None


def _message_receipt(receipt: Receipt) -> str:
    """Apply one receipt inside the caller's transaction → 'applied', 'duplicate' (the row already
    has a delivery outcome: the first receipt wins, so a repeated push changes nothing) or
    'unmatched' (no such message: another system's number, or a scrubbed database)."""
    qs = _receipt_target(receipt)
    if qs is None:
        return "unmatched"
    ids = list(qs.values_list("pk", flat=True)[:1])
    if not ids:
        return "unmatched"
    changed = Message.objects.filter(pk=ids[0], delivery=Message.Delivery.UNKNOWN).update(
        delivery=Message.Delivery.DELIVERED if receipt.delivered else Message.Delivery.UNDELIVERED,
        delivered_at=receipt.at or clock.now(),
        delivery_error="" if receipt.delivered else (receipt.error or "undelivered")[:200],
    )
    return "applied" if changed else "duplicate"


def message_receipts_apply(receipts: list[Receipt]) -> dict[str, int]:
    """Apply delivery receipts (a provider's push or a pull); idempotent."""
    counts = {"applied": 0, "duplicate": 0, "unmatched": 0}
    with transaction.atomic(durable=True):
        for receipt in receipts:
            counts[_message_receipt(receipt)] += 1
    return counts


def messaging_receipts_pull_tick(now: datetime) -> dict[str, int]:
    """The pull path next to the receipt callbacks: providers that can list new receipts
    (``pull_receipts()``, e.g. Tencent PullSmsSendStatus) are asked, and the receipts applied.
    A provider that cannot answer now is asked again next time."""
    totals = {"applied": 0, "duplicate": 0, "unmatched": 0}
    for channel in settings.LAOKE["MESSAGING_PROVIDERS"]:
        try:
            provider = provider_for(channel)
            pull = getattr(provider, "pull_receipts", None)
            receipts = pull() if pull is not None else []
        except Exception:
            log.exception("could not pull receipts for %s", channel)
            continue
        if receipts:
            for key, value in message_receipts_apply(receipts).items():
                totals[key] += value
    return totals


def _inbound_record(
    *,
    provider: str,
    from_address: str,
    text: str,
    member_id: int | None,
    action: str,
    received_at: datetime,
    provider_ref: str = "",
    channel: str = Message.Channel.SMS,
) -> tuple[InboundMessage, bool]:
    """Store a reply inside the caller's transaction; the same provider reference twice (a
    provider pushing again) returns the first row and False."""
    if provider_ref:
        existing = InboundMessage.objects.filter(provider=provider, provider_ref=provider_ref).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            row = InboundMessage.objects.create(
                channel=channel,
                provider=provider[:64],
                provider_ref=provider_ref[:128],
                from_address=from_address[:254],
                text=text[:2000],
                member_id=member_id,
                action=action,
                received_at=received_at,
            )
    except IntegrityError:
        return InboundMessage.objects.get(provider=provider, provider_ref=provider_ref), False
    return row, True


# --- personal information ----------------------------------------------------------------------

_ERASED = {"to_address": "", "subject": "", "body": "", "html_body": ""}
_FORGOTTEN = "member anonymised"


def messaging_privacy_tick(now: datetime, *, chunk: int = 2000) -> int:
    """PIPL deletion reaches the outbox: messages of anonymised members lose their address and
    text (the row, its purpose, state and dates stay for counts), and ones not yet sent never
    go. members.member_forget cannot call up into messaging (layers), so this tick does it; the
    sender also checks the member right before each hand-over. A row being sent right now is
    left to its outcome and scrubbed on the next tick. Replies received from them (inbound SMS)
    lose their number and text too. Returns the number of rows scrubbed."""
    with transaction.atomic():
        scrubbed = (
            InboundMessage.objects.filter(member__status=Member.Status.ANONYMISED)
            .exclude(from_address="", text="")
            .update(from_address="", text="")
        )
    forgotten = (
        Message.objects.filter(member__status=Member.Status.ANONYMISED)
        .exclude(state=Message.State.SENDING)
        .exclude(to_address="", subject="", body="", html_body="")
    )
    while True:
        with transaction.atomic():
            ids = list(forgotten.order_by("pk").values_list("pk", flat=True)[:chunk])
            if not ids:
                return scrubbed
            Message.objects.filter(pk__in=ids, state=Message.State.WAITING).update(
                state=Message.State.SUPPRESSED, error=_FORGOTTEN
            )
            scrubbed += Message.objects.filter(pk__in=ids).update(**_ERASED)


def messaging_tick(now: datetime, *, max_batches: int = 50) -> dict[str, int]:
    """The dispatcher (Huey runs it every minute and after commits that enqueue): resolve
    expired leases, then claim and send due messages channel by channel, each channel in
    batches of its provider's size, until nothing is due or ``max_batches`` is reached."""
    totals = {
        "sent": 0,
        "retry": 0,
        "failed": 0,
        "deferred": 0,
        "unknown": 0,
        "held": 0,
        "suppressed": 0,
        **_resolve_expired_leases(now),
    }
    cap = settings.LAOKE["MESSAGING_BATCH_SIZE"]
    for channel in settings.LAOKE["MESSAGING_PROVIDERS"]:
        provider = provider_for(channel)
        limit = max(1, min(getattr(provider, "batch_size", cap) or cap, cap))
        for _ in range(max_batches):
            ids = message_claim_batch(now=now, limit=limit, channel=channel)
            if not ids:
                break
            result = message_send_batch(ids, now=now)
            for key, value in result.items():
                totals[key] += value
            if result["deferred"]:
                break  # over this provider's rate: the rest waits for the next minute
    return totals
