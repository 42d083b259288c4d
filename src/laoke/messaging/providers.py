"""How messages leave the system. A provider sends one message and can later say what became
of it, so an expired lease is resolved by asking, never by sending blindly again.

The embedded default is :class:`FileProvider` (one JSON line per message under
DATA_DIR/outbox/<channel>.jsonl): a shop without an SMS contract can run everything and read what
would have gone out. Real SMS (Aliyun, Tencent Cloud, HTTP gateway) and SMTP providers implement
the same interface in the channels app.
"""

from __future__ import annotations

import json
import os
import threading

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from laoke.core import clock


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    segments: int = 1


class TransientSendError(Exception):
    """Try again later (timeout, rate limit, 5xx)."""


class PermanentSendError(Exception):
    """Never retry (invalid number, template rejected, blacklisted)."""


class Provider(Protocol):
    """What the dispatcher needs from a way out (SMS company, SMTP server, file).

    - ``name``: stored on each sent row and used as the rate-limit key.
    - ``batch_size``: how many rows one claim takes for this provider (an SMS API that accepts
      100 numbers per call wants 100; SMTP is one at a time but a batch of 50 keeps the
      connection busy); the dispatcher claims ``min(batch_size, MESSAGING_BATCH_SIZE)``.
    - ``rate_per_minute``: the provider's contracted rate (``None`` = no limit). Counted in the
      database (core.ratelimit), so every worker process shares it; a message over the rate is
      put back untouched (not an attempt) until the next minute.
    - ``send(message)`` hands one message over and returns the provider's id, raising
      :class:`TransientSendError` (try later) or :class:`PermanentSendError` (never retry). Any
      other exception means "outcome unknown": the row stays claimed and the lease resolver asks
      ``status`` later.
    - ``status(message)`` answers 'sent', 'failed' or 'unknown' (never handed over, safe to
      send again). It takes the message, not only ``provider_message_id``: after a crash between
      the hand-over and the commit of the outcome we never learned the provider's id, so a
      provider must find the message by *our* id (Aliyun ``OutId``, Tencent ``SessionContext``,
      a ``Message-ID`` header derived from the row id).
    """

    name: str
    batch_size: int
    rate_per_minute: int | None

    def send(self, message) -> SendResult: ...

    def status(self, message) -> str: ...


def provider_for(channel: str) -> Provider:
    dotted = settings.LAOKE["MESSAGING_PROVIDERS"][channel]
    return import_string(dotted)()


class FileProvider:
    """Appends each message as a JSON line and fsyncs; ids are derived from the message id, so
    ``status`` can answer for a message whose lease expired after it was written."""

    name = "file"
    batch_size = 500
    rate_per_minute = None
    _lock = threading.Lock()

    @staticmethod
    def _path(channel: str):
        folder = settings.DATA_DIR / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{channel}.jsonl"

    @staticmethod
    def message_id(message) -> str:
        # The row id plus its creation instant: a fresh database reusing ids next to an old
        # outbox file must not find an old line and call a new message "sent".
        return f"file-{message.pk}-{int(message.created_at.timestamp() * 1_000_000)}"

    def send(self, message) -> SendResult:
        line = {
            "id": self.message_id(message),
            "at": clock.now().isoformat(),
            "purpose": message.purpose,
            "kind": message.kind,
            "channel": message.channel,
            "to": message.to_address,
            "subject": message.subject,
            "body": message.body,
        }
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock, open(self._path(message.channel), "a+b") as fh:
            if fcntl is not None:  # several worker processes append to the same file
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            fh.seek(0, os.SEEK_END)
            if fh.tell():
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a line cut short by a crash: end it, keep ours whole
                    data = b"\n" + data
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return SendResult(provider_message_id=line["id"], segments=message.segments)

    def status(self, message) -> str:
        """'sent' if a complete line for the message is in the file; a line cut short by a crash
        is not valid JSON and does not count, so the message goes out again in full."""
        path = self._path(message.channel)
        if not path.exists():
            return "unknown"
        wanted = self.message_id(message)
        with open(path, encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                if wanted not in raw:
                    continue
                try:
                    if json.loads(raw).get("id") == wanted:
                        return "sent"
                except ValueError:
                    continue
        return "unknown"
