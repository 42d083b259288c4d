"""Helpers shared by the failure drills: figures printed for docs/operations.md, free ports and a
request through Django's real WSGI handler (the test Client disconnects ``close_old_connections``
from the request signals, so it cannot show what a production request does with a broken
persistent connection)."""

from __future__ import annotations

import json
import time

FIGURES: list[tuple[str, str, str]] = []


def figure(drill: str, name: str, value) -> None:
    """Record one measured figure and print it (run pytest with -s to see them)."""
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    FIGURES.append((drill, name, text))
    print(f"[drill figure] {drill} | {name} | {text}", flush=True)


class Stopwatch:
    def __enter__(self):
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.t0


_handler = None


def wsgi_request(method: str, path: str, body=None, **headers) -> tuple[int, dict | str]:
    """One request through ``django.core.handlers.wsgi.WSGIHandler``, signals and all
    (``request_started`` → ``close_old_connections`` → the connection health check)."""
    global _handler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    if _handler is None:
        _handler = WSGIHandler()
    rf = RequestFactory()
    data = json.dumps(body) if body is not None else ""
    request = getattr(rf, method.lower())(path, data=data, content_type="application/json", **headers)
    status: list[str] = []
    chunks = _handler(request.environ, lambda s, h, *a: status.append(s))
    try:
        raw = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    text = raw.decode()
    try:
        return int(status[0].split()[0]), json.loads(text)
    except ValueError:
        return int(status[0].split()[0]), text
