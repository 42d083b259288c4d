"""JSON-lines logging with a PII filter (ARCHITECTURE rule 10).

The filter masks CN mobile numbers wherever they appear in a message or its extra fields
(138****5678) and drops any field whose name says it carries a secret (pin, password, token,
secret). Messages that contain ``pin=…`` or ``"pin": …`` get the value replaced too, and so do
the tokens of the URL paths that carry one (SMS callbacks, unsubscribe links).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

MOBILE_RE = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
SECRET_KEYS = ("pin", "password", "passwd", "secret", "token", "authorization", "cookie")
SECRET_INLINE_RE = re.compile(
    r"""(?i)(["']?\b(?:pin|password|passwd|secret|token)\b["']?\s*[:=]\s*)(["']?)[^\s,"'}&]+(["']?)"""
)
# Credentials carried in a URL path (an access log line has the path): the SMS providers' callback
# token (/api/v1/channels/sms/<provider>/<kind>/<token>) and the unsubscribe links' signed token.
SECRET_PATH_RE = re.compile(r"(/(?:channels/sms/[\w-]+/[\w-]+|unsubscribe)/)([^/?#\s\"']+)")
_STD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def mask_mobile_text(text: str) -> str:
    return MOBILE_RE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)


def scrub(text: str) -> str:
    text = SECRET_PATH_RE.sub(r"\1***", mask_mobile_text(text))
    return SECRET_INLINE_RE.sub(r"\1\2***\3", text)


def _is_secret_key(name: str) -> bool:
    lowered = name.lower()
    return any(s in lowered for s in SECRET_KEYS)


def _clean(value):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: ("***" if _is_secret_key(str(k)) else _clean(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class PiiFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the log line
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = ()
        for name in list(record.__dict__):
            if name in _STD_ATTRS:
                continue
            if _is_secret_key(name):
                delattr(record, name)
            else:
                setattr(record, name, _clean(record.__dict__[name]))
        return True


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from . import context

        ctx = context.get()
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if ctx.request_id:
            out["request_id"] = ctx.request_id
        for name, value in record.__dict__.items():
            if name not in _STD_ATTRS and not name.startswith("_"):
                out[name] = value
        if record.exc_info:
            out["exc"] = scrub(self.formatException(record.exc_info))
        # Objects (e.g. django.request's WSGIRequest, whose repr has the query string) are
        # rendered as text and scrubbed like everything else.
        return json.dumps(out, ensure_ascii=False, default=lambda o: scrub(str(o)))
