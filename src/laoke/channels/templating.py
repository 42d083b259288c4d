"""Template variables and rendering (SPEC 10).

A template's texts use ``{name}``-style placeholders; ``{{`` and ``}}`` are literal braces.
Decisions:

- Safe by construction: a placeholder is a bare identifier from :data:`VARIABLES`; no attribute or
  index access, no format spec (``str.format`` would allow ``{member.__class__}``), so a template
  can never reach into an object.
- An unknown variable or an unbalanced brace is an error when the template is *saved*
  (:func:`check_placeholders`), never a surprise at send time.
- A value missing at render time becomes its fallback (``name`` → ``会员``; settable in
  ``LAOKE["TEMPLATE_FALLBACKS"]``) or the empty string: one member without a coupon must not stop
  a 50,000-member wave.
- In the HTML body every value is HTML-escaped; the text body and the SMS are left as they are.
- Campaigns render per member in bulk: a template is parsed once into a list of (literal,
  variable) pieces (:class:`Compiled`, cached on the template instance) and rendering is a join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from laoke.core.errors import DomainError

from .error_codes import TEMPLATE_SYNTAX_INVALID, TEMPLATE_VARIABLE_UNKNOWN
from .sms_text import fen_per_segment, sms_compose, sms_segments

VARIABLES: dict[str, object] = {
    "name": _("member's name"),
    "member_code": _("member number"),
    "tier": _("tier name"),
    "balance": _("stored-value balance (yuan)"),
    "points": _("points available"),
    "coupon_code": _("coupon code"),
    "coupon_amount": _("coupon amount (yuan)"),
    "coupon_expiry": _("coupon expiry date"),
    "shop_link": _("shop link"),
    "unsubscribe_link": _("unsubscribe link"),
    "campaign": _("campaign's canonical name"),
    # Filled by apps above channels through ``AppConfig.template_variables`` (selectors.template_contexts):
    "care_title": _("care article title (for what the member last bought)"),
    "care_body": _("care article text (for what the member last bought)"),
}
DEFAULT_FALLBACKS = {"name": "会员"}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    html_body: str
    segments: int
    cost_fen: int


def _parse(text: str) -> tuple[list[tuple[str, str | None]], list[str], list[str]]:
    """→ (pieces, variables used, syntax problems). A piece is (literal, variable-or-None)."""
    pieces: list[tuple[str, str | None]] = []
    used: list[str] = []
    problems: list[str] = []
    pos = 0
    literal: list[str] = []
    for m in _TOKEN.finditer(text or ""):
        literal.append(text[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif token in ("{", "}"):
            problems.append(token)
            literal.append(token)
        else:
            name = m.group(1).strip()
            if not _IDENT.match(name):
                problems.append(token)
                literal.append(token)
                continue
            pieces.append(("".join(literal), name))
            literal = []
            used.append(name)
    literal.append((text or "")[pos:])
    pieces.append(("".join(literal), None))
    return pieces, used, problems


def check_placeholders(field: str, text: str) -> list[DomainError]:
    """The problems of one text: bad braces or names, unknown variables."""
    _, used, problems = _parse(text)
    errors = []
    if problems:
        errors.append(DomainError(TEMPLATE_SYNTAX_INVALID, field=field, detail=" ".join(problems)[:100]))
    unknown = sorted({n for n in used if n not in VARIABLES})
    if unknown:
        errors.append(
            DomainError(
                TEMPLATE_VARIABLE_UNKNOWN, field=field, names=", ".join(unknown), details={"names": unknown}
            )
        )
    return errors


def _fill(pieces, context: dict, fallbacks: dict, *, html: bool) -> str:
    out = []
    for literal, name in pieces:
        out.append(literal)
        if name is None:
            continue
        value = context.get(name)
        if value is None or value == "":
            value = fallbacks.get(name, "")
        value = str(value)
        out.append(escape(value) if html else value)
    return "".join(out)


class Compiled:
    """A template parsed once; ``render(context)`` is cheap (joins pieces)."""

    __slots__ = ("body", "channel", "fallbacks", "fen_per_segment", "html_body", "signature", "subject")

    def __init__(self, *, channel: str, signature: str, subject: str, body: str, html_body: str):
        self.channel = channel
        self.signature = signature
        self.subject = _parse(subject)[0]
        self.body = _parse(body)[0]
        self.html_body = _parse(html_body)[0] if html_body else None
        self.fallbacks = {**DEFAULT_FALLBACKS, **settings.LAOKE.get("TEMPLATE_FALLBACKS", {})}
        self.fen_per_segment = fen_per_segment()

    def render(self, context: dict) -> RenderedMessage:
        body = _fill(self.body, context, self.fallbacks, html=False)
        subject = _fill(self.subject, context, self.fallbacks, html=False)
        html_body = _fill(self.html_body, context, self.fallbacks, html=True) if self.html_body else ""
        if self.channel == "sms":
            body = sms_compose(self.signature, body)
            segments = sms_segments(body)
            return RenderedMessage(subject, body, html_body, segments, segments * self.fen_per_segment)
        return RenderedMessage(subject, body, html_body, 1, 0)


def compile_template(template) -> Compiled:
    """Parse a MessageTemplate (or anything with channel, signature, subject, body, html_body)
    once; cached on the instance and re-parsed only when one of its texts changed."""
    key = (template.channel, template.signature, template.subject, template.body, template.html_body)
    cached = getattr(template, "_laoke_compiled", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    compiled = Compiled(
        channel=template.channel,
        signature=template.signature,
        subject=template.subject,
        body=template.body,
        html_body=template.html_body,
    )
    try:
        template._laoke_compiled = (key, compiled)
    except AttributeError:  # a frozen stand-in: no cache, still correct
        pass
    return compiled


def render(template, context: dict) -> RenderedMessage:
    """Render a template for one member's context (see :func:`selectors.template_context`)."""
    return compile_template(template).render(context)
