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
    name: str

    def send(self, message) -> SendResult: ...

    def status(self, message) -> str:
        """'sent', 'failed' or 'unknown' (never handed over: safe to send again)."""
        ...


def provider_for(channel: str) -> Provider:
    dotted = settings.LAOKE["MESSAGING_PROVIDERS"][channel]
    return import_string(dotted)()


class FileProvider:
    """Appends each message as a JSON line and fsyncs; ids are derived from the message id, so
    ``status`` can answer for a message whose lease expired after it was written."""

    name = "file"
    _lock = threading.Lock()

    @staticmethod
    def _path(channel: str):
        folder = settings.DATA_DIR / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{channel}.jsonl"

    @staticmethod
    def message_id(message) -> str:
        return f"file-{message.pk}"

    def send(self, message) -> SendResult:
        line = {
            "id": self.message_id(message),
            "at": clock.now().isoformat(),
            "purpose": message.purpose,
            "kind": message.kind,
            "to": message.to_address,
            "subject": message.subject,
            "body": message.body,
        }
        with self._lock, open(self._path(message.channel), "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return SendResult(provider_message_id=line["id"], segments=message.segments)

    def status(self, message) -> str:
        path = self._path(message.channel)
        if not path.exists():
            return "unknown"
        wanted = f'"id": "{self.message_id(message)}"'
        with open(path, encoding="utf-8") as fh:
            return "sent" if any(wanted in line for line in fh) else "unknown"
