"""An append-only, fsynced journal of hand-overs a provider has confirmed.

SMTP and webhooks have no status API to ask after a crash. So the provider appends our message
id to this file right after the server's acceptance (SMTP 250 after DATA, HTTP 2xx) and before
``send`` returns; ``status`` then answers 'sent' for an id found in the journal and 'unknown'
otherwise (docs/decisions/0023-channels-content.md). The window left is a crash between the
server's acceptance and the fsync (microseconds): that message is sent again, with the same
Message-ID / X-Laoke-Message-Id, so the receiver can drop the copy.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

_lock = threading.Lock()


class Journal:
    def __init__(self, name: str):
        self.name = name

    @property
    def path(self):
        folder = settings.DATA_DIR / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{self.name}-accepted.log"

    def record(self, message_id: str) -> None:
        data = f"{message_id}\n".encode()
        with _lock, open(self.path, "a+b") as fh:
            if fcntl is not None:  # several worker processes append to the same file
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            fh.seek(0, os.SEEK_END)
            if fh.tell():
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a line cut short by a crash: end it
                    data = b"\n" + data
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def contains(self, message_id: str) -> bool:
        path = self.path
        if not path.exists():
            return False
        with open(path, encoding="utf-8", errors="replace") as fh:
            return any(line.rstrip("\n") == message_id for line in fh)
