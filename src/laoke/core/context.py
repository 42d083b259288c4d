"""The current request's actor, IP and request id, for audit rows and logs.

Set by :class:`laoke.core.middleware.RequestContextMiddleware` (web), by the API auth (token
users) and by the CLI (``system`` actor). Thread-local, so Huey thread workers and test threads
each carry their own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

_local = threading.local()


@dataclass
class RequestContext:
    user: object | None = None
    ip: str | None = None
    request_id: str = ""
    lang: str = "zh-hans"


def get() -> RequestContext:
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = RequestContext()
        _local.ctx = ctx
    return ctx


def set_context(ctx: RequestContext) -> None:
    _local.ctx = ctx


@contextlib.contextmanager
def using(**kwargs) -> Iterator[RequestContext]:
    previous = getattr(_local, "ctx", None)
    ctx = RequestContext(**kwargs)
    _local.ctx = ctx
    try:
        yield ctx
    finally:
        _local.ctx = previous
