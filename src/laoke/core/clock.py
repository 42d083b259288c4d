"""Business time comes only from here (ARCHITECTURE rule 8).

``now()`` is the real UTC time unless a test or a subprocess froze it. Subprocesses accept an
injected clock through ``LAOKE_FROZEN_NOW`` (ISO 8601), so a live-server test can move time too.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

_state = threading.local()
_global_frozen: datetime | None = None


def _env_frozen() -> datetime | None:
    raw = os.environ.get("LAOKE_FROZEN_NOW")
    if not raw:
        return None
    dt = datetime.fromisoformat(raw)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def now() -> datetime:
    frozen = getattr(_state, "frozen", None) or _global_frozen or _env_frozen()
    return frozen if frozen is not None else datetime.now(UTC)


def shop_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_now() -> datetime:
    return now().astimezone(shop_tz())


def today() -> date:
    """The shop's business day (Asia/Shanghai by default), not the UTC date."""
    return local_now().date()


def to_local(dt: datetime) -> datetime:
    return dt.astimezone(shop_tz())


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze time for every thread (tests that start threads need the same clock)."""
    global _global_frozen
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = _global_frozen
    _global_frozen = at
    try:
        yield
    finally:
        _global_frozen = previous


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward (tests)."""
    global _global_frozen
    if _global_frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    _global_frozen = _global_frozen + delta
