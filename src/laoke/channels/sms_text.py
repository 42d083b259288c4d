"""Pure SMS text rules (SPEC 10): 【签名】 + body, the carrier's segment count, the cost.

The count is the carriers' (and Aliyun's / Tencent's billing) rule: up to 70 characters is one
message; a longer text is sent as concatenated parts of 67 characters (the other 3 carry the
concatenation header). The signature with its brackets counts. Characters are Unicode code points,
each Chinese character, letter or punctuation mark counting one, which is how the providers bill
(they send everything as UCS-2 once a single Chinese character is present).
"""

from __future__ import annotations

import re

from django.conf import settings

from laoke.messaging.services import sms_segments

SIGNATURE_MIN, SIGNATURE_MAX = 2, 12
DEFAULT_FEN_PER_SEGMENT = 5
BRACKETS = "【】[]()（）"

# Opt-out instructions carriers and MIIT accept at the end of a marketing SMS; the list is
# configurable in LAOKE["SMS_OPT_OUT_PATTERNS"] (regular expressions matched at the very end).
DEFAULT_OPT_OUT_PATTERNS = (
    r"回\s*[TtNnRr]\s*退订",
    r"退订\s*回\s*[TtNnRr]",
    r"拒收请?回复?\s*[TtNnRr]",
    r"回复?\s*[TtNnRr]D?\s*(退订|拒收)",
    r"回\s*TD\s*退订",
    r"退订\s*回\s*TD",
)

__all__ = ["fen_per_segment", "has_opt_out", "signature_ok", "sms_compose", "sms_cost_fen", "sms_segments"]


def sms_compose(signature: str, body: str) -> str:
    """The text the handset shows: 【签名】 followed by the body."""
    return f"【{signature}】{body}"


def fen_per_segment() -> int:
    return int(settings.LAOKE.get("SMS_FEN_PER_SEGMENT", DEFAULT_FEN_PER_SEGMENT))


_configured_price = fen_per_segment


def sms_cost_fen(text: str, fen_per_segment: int | None = None) -> int:
    """What one SMS of this text costs: segments × price per segment (fen); the price defaults
    to ``LAOKE["SMS_FEN_PER_SEGMENT"]`` (5 fen when not set)."""
    price = _configured_price() if fen_per_segment is None else fen_per_segment
    return sms_segments(text) * price


def signature_ok(signature: str) -> bool:
    signature = signature or ""
    return (
        SIGNATURE_MIN <= len(signature) <= SIGNATURE_MAX
        and signature == signature.strip()
        and not any(ch in BRACKETS for ch in signature)
    )


_TRAILING = re.compile(r"[\s。.!！,，;；:：~～)）]*$")


def _opt_out_patterns() -> list[re.Pattern]:
    raw = settings.LAOKE.get("SMS_OPT_OUT_PATTERNS") or DEFAULT_OPT_OUT_PATTERNS
    return [re.compile(f"(?:{p})$") for p in raw]


def has_opt_out(body: str) -> bool:
    """The body ends with an opt-out instruction (trailing punctuation and spaces allowed)."""
    tail = _TRAILING.sub("", body or "")
    return any(p.search(tail) for p in _opt_out_patterns())
