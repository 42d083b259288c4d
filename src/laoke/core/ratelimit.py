"""Database-backed fixed-window rate limits (ARCHITECTURE rule 3: a guarded UPDATE, never a
per-process cache), so every web process and worker shares one count.

Call these outside the caller's business transaction when the count must survive a rollback
(a wrong PIN must be counted even though the recharge fails).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from . import clock
from .models import RateLimitBucket


def _window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=now.tzinfo)


def hit(key: str, *, limit: int, window_seconds: int, now: datetime | None = None) -> bool:
    """Count one attempt. True if it is within the limit, False if the limit is reached."""
    now = now or clock.now()
    start = _window_start(now, window_seconds)
    with transaction.atomic():
        for _ in range(2):
            updated = RateLimitBucket.objects.filter(key=key, window_start=start, count__lt=limit).update(
                count=F("count") + 1
            )
            if updated:
                return True
            if RateLimitBucket.objects.filter(key=key, window_start=start).exists():
                return False
            try:
                with transaction.atomic():
                    RateLimitBucket.objects.create(key=key, window_start=start, count=1)
                return limit >= 1
            except IntegrityError:
                continue  # another process created the bucket first: count against it
    return False


def count(key: str, *, window_seconds: int, now: datetime | None = None) -> int:
    now = now or clock.now()
    start = _window_start(now, window_seconds)
    row = RateLimitBucket.objects.filter(key=key, window_start=start).values_list("count", flat=True).first()
    return row or 0


def is_limited(key: str, *, limit: int, window_seconds: int, now: datetime | None = None) -> bool:
    return count(key, window_seconds=window_seconds, now=now) >= limit


def reset(key: str) -> None:
    with transaction.atomic():
        RateLimitBucket.objects.filter(key=key).delete()


def ratelimit_tick(now: datetime | None = None, *, keep: timedelta = timedelta(days=1)) -> int:
    now = now or clock.now()
    with transaction.atomic(durable=True):
        deleted, _ = RateLimitBucket.objects.filter(window_start__lt=now - keep).delete()
    return deleted
