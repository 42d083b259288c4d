"""Idempotency for API writes (ARCHITECTURE rule 5).

Flow for a request carrying ``Idempotency-Key``:

1. :func:`claim` runs a short transaction of its own. A new key is inserted ``in_progress``
   with a lease and a random token. An existing key with another request body is a conflict
   (409); a finished one returns its stored response; one still running (lease not expired) is
   409 ``IDEMPOTENCY_IN_PROGRESS``; an expired lease (the first caller crashed) is taken over.
2. The service runs in its own durable transaction and, inside it, calls :func:`complete`,
   which flips the record to ``done`` with the rendered response by a guarded UPDATE on the
   token. So the stored response commits if and only if the change commits.
3. If the service raises, :func:`release` deletes the claim so the same key can be retried.

Concurrent duplicates therefore produce exactly one effect: the first claims the key, the rest
see either ``in_progress`` (409) or the stored response.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from . import clock
from .errors import (
    IDEMPOTENCY_CONFLICT,
    IDEMPOTENCY_IN_PROGRESS,
    IDEMPOTENCY_KEY_INVALID,
    DomainError,
)
from .models import IdempotencyRecord

Renderer = Callable[[Any], tuple[int, Any]]


@dataclass
class Claim:
    record_id: int | None = None
    token: str = ""
    replay: tuple[int, Any] | None = None
    render: Renderer | None = None
    rendered: tuple[int, Any] | None = field(default=None)


def request_hash(payload: Any) -> str:
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def validate_key(key: str) -> str:
    if not key or len(key) > 128 or not key.isprintable() or key.strip() != key:
        raise DomainError(IDEMPOTENCY_KEY_INVALID, field="Idempotency-Key")
    return key


def claim(*, scope: str, key: str, payload: Any) -> Claim:
    validate_key(key)
    digest = request_hash(payload)
    now = clock.now()
    lease = now + timedelta(seconds=settings.LAOKE["IDEMPOTENCY_LEASE_SECONDS"])
    token = secrets.token_hex(16)
    with transaction.atomic():
        rec = IdempotencyRecord.objects.select_for_update().filter(scope=scope, key=key).first()
        if rec is None:
            try:
                with transaction.atomic():
                    rec = IdempotencyRecord.objects.create(
                        scope=scope,
                        key=key,
                        request_hash=digest,
                        token=token,
                        lease_until=lease,
                        created_at=now,
                    )
                return Claim(record_id=rec.pk, token=token)
            except IntegrityError:
                rec = IdempotencyRecord.objects.select_for_update().get(scope=scope, key=key)
        if rec.request_hash != digest:
            raise DomainError(IDEMPOTENCY_CONFLICT)
        if rec.state == IdempotencyRecord.State.DONE:
            return Claim(record_id=rec.pk, replay=(rec.response_status, rec.response_body))
        if rec.lease_until > now:
            raise DomainError(IDEMPOTENCY_IN_PROGRESS)
        # The first caller died without finishing or releasing: take the key over.
        IdempotencyRecord.objects.filter(pk=rec.pk).update(token=token, lease_until=lease)
        return Claim(record_id=rec.pk, token=token)


def complete(claim_: Claim | None, result: Any) -> None:
    """Store the response inside the service's transaction. No-op without a claim."""
    if claim_ is None:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency.complete must run inside the service transaction")
    rendered = claim_.render(result) if claim_.render else (200, {"id": getattr(result, "pk", None)})
    updated = IdempotencyRecord.objects.filter(
        pk=claim_.record_id, token=claim_.token, state=IdempotencyRecord.State.IN_PROGRESS
    ).update(
        state=IdempotencyRecord.State.DONE,
        response_status=rendered[0],
        response_body=rendered[1],
        completed_at=clock.now(),
    )
    if updated != 1:
        # Our lease expired and another caller took the key over: roll this attempt back.
        raise DomainError(IDEMPOTENCY_IN_PROGRESS)
    claim_.rendered = rendered


def release(claim_: Claim | None) -> None:
    if claim_ is None or claim_.record_id is None or claim_.replay is not None:
        return
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            pk=claim_.record_id, token=claim_.token, state=IdempotencyRecord.State.IN_PROGRESS
        ).delete()


def idempotency_tick(now=None, *, keep_days: int = 30) -> int:
    """Forget finished keys older than ``keep_days`` (a client retries within minutes, not months)."""
    now = now or clock.now()
    with transaction.atomic(durable=True):
        deleted, _ = IdempotencyRecord.objects.filter(
            state=IdempotencyRecord.State.DONE, completed_at__lt=now - timedelta(days=keep_days)
        ).delete()
    return deleted
