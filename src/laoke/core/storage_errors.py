"""Storage failures → stable error codes (docs/decisions/0041-failure-drills.md).

A write that fails because of the storage itself, not because of its data, gets a clear answer
instead of a bare 500 with a traceback:

- ``STORAGE_READ_ONLY`` (503): SQLite ``SQLITE_READONLY*`` (the file, its directory or the disk is
  read-only), PostgreSQL ``25006`` (a read-only transaction: a standby, ``default_transaction_read_only``).
- ``STORAGE_FULL`` (503): SQLite ``SQLITE_FULL`` ("database or disk is full", also
  ``max_page_count`` reached), PostgreSQL ``53100`` (disk full).
- ``STORAGE_UNAVAILABLE`` (503): the connection to PostgreSQL was lost (class ``08``, ``57P01``…
  ``57P03``: terminated by an administrator or a restart, or a closed connection without a code).

In every case the database rolled the transaction back, so nothing is half-written: the error
says "nothing was saved" and a client may retry the same request (same Idempotency-Key).

:func:`storage_error` classifies an exception (walking its ``__cause__`` / ``__context__`` chain:
Django wraps the driver's error); the API's catch-all exception handler (``laoke.api``) and
:class:`StorageErrorMiddleware` (console pages) turn it into the response.
"""

from __future__ import annotations

import logging
import sqlite3

from django.http import HttpResponse, JsonResponse
from django.utils.html import escape

from .error_codes import STORAGE_FULL, STORAGE_READ_ONLY, STORAGE_UNAVAILABLE
from .errors import DomainError

log = logging.getLogger("laoke.storage")

_PG_READ_ONLY = {"25006"}
_PG_FULL = {"53100"}
_PG_GONE = {"57P01", "57P02", "57P03"}  # admin_shutdown, crash_shutdown, cannot_connect_now


def _chain(exc: BaseException):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 10:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _classify_one(exc: BaseException):
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc).lower()
        if name.startswith("SQLITE_READONLY") or "readonly database" in text:
            return STORAGE_READ_ONLY
        if name == "SQLITE_FULL" or "database or disk is full" in text:
            return STORAGE_FULL
        return None
    module = type(exc).__module__ or ""
    if module.startswith("psycopg"):
        state = getattr(exc, "sqlstate", None) or ""
        if state in _PG_READ_ONLY:
            return STORAGE_READ_ONLY
        if state in _PG_FULL:
            return STORAGE_FULL
        if state.startswith("08") or state in _PG_GONE:
            return STORAGE_UNAVAILABLE
        # No SQLSTATE: the server never answered (the connection broke or was closed).
        if not state and type(exc).__name__ in ("OperationalError", "InterfaceError"):
            return STORAGE_UNAVAILABLE
        return None
    # Django's own "connection already closed" (InterfaceError raised without a driver error).
    if type(exc).__name__ == "InterfaceError" and module.startswith("django.db"):
        if exc.__cause__ is None and "closed" in str(exc).lower():
            return STORAGE_UNAVAILABLE
    return None


def storage_error(exc: BaseException) -> DomainError | None:
    """The storage error ``exc`` stands for, or ``None`` if it is something else."""
    for item in _chain(exc):
        code = _classify_one(item)
        if code is not None:
            return DomainError(code, details={"retryable": True})
    return None


def _lang(request) -> str:
    lang = getattr(request, "LANGUAGE_CODE", "") or "zh-hans"
    return "en" if lang.startswith("en") else "zh-hans"


class StorageErrorMiddleware:
    """Console pages (and any non-API view): a storage failure while handling the request → a
    503 page (JSON for htmx / JSON callers) with the stable code, in the caller's language, and a
    warning in the log instead of a traceback. Anything else is left to Django's 500 handling."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        err = storage_error(exception)
        if err is None:
            return None
        log.warning("storage failure: %s (%s)", err.code, exception, extra={"path": request.path})
        lang = _lang(request)
        body = err.as_body(lang)
        wants_json = request.headers.get("HX-Request") or "json" in request.headers.get("Accept", "")
        if wants_json:
            response = JsonResponse(body, status=err.status, json_dumps_params={"ensure_ascii": False})
        else:
            title = "暂时无法保存" if lang == "zh-hans" else "Cannot save right now"
            html = (
                f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{title}</title>'
                f"<h1>{title}</h1><p>{escape(body['message'])}</p><p><code>{err.code}</code></p></html>"
            )
            response = HttpResponse(html, status=err.status, content_type="text/html; charset=utf-8")
        response["Retry-After"] = "30"
        return response
