"""Browser-side hardening: a Content Security Policy with a per-request nonce, and the
Permissions-Policy header (docs/decisions/0042-security-pass.md).

- ``SecurityHeadersMiddleware`` sets ``Content-Security-Policy`` (or ``…-Report-Only`` when
  ``LAOKE_CSP_REPORT_ONLY=1``) and ``Permissions-Policy`` on every response that has none yet. The
  policy is chosen by path prefix from ``settings.LAOKE_CSP`` (first match wins); ``{nonce}`` in a
  source list is replaced by this request's nonce.
- The nonce reaches the templates in two ways: the context processor ``csp`` (``{{ csp_nonce }}``)
  and the template loaders below, which add ``nonce="{{ csp_nonce }}"`` to every ``<script>`` tag
  *of a template file* (ours, unfold's, ninja's) when it is loaded. Only template source files are
  rewritten — never rendered output and never ``Engine.from_string`` text —, so markup that
  reaches a page through a variable gets no nonce and stays blocked: the point of a nonce policy.
- The few inline event handlers of the console (``onclick="window.print()"``, …) are allowed by
  their hashes (``'unsafe-hashes'``), listed in ``INLINE_HANDLERS``; anything else inline is
  refused.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from django.conf import settings
from django.template.loaders import app_directories, filesystem

# Inline event handlers used by console templates (exact attribute values). Each is allowed by its
# hash under 'unsafe-hashes'; a new handler is refused until it is added here (or, better, moved to
# a script file).
INLINE_HANDLERS = (
    "window.print()",
    "this.form.submit()",
    "return confirm(this.dataset.confirm)",
)


def source_hash(text: str) -> str:
    """The CSP hash source of an inline script/handler text (``'sha256-…'``)."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


HANDLER_HASHES = " ".join(source_hash(h) for h in INLINE_HANDLERS)

# --- the policies -----------------------------------------------------------------------------
_COMMON = {
    "default-src": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "img-src": "'self' data:",  # the H5 referral page's QR code is a data: SVG (segno)
    "connect-src": "'self'",
}
# Console (unfold admin and our pages): Alpine.js (shipped by unfold) evaluates its x-* attribute
# expressions with the Function constructor -> 'unsafe-eval'; inline scripts carry the nonce;
# unfold, htmx, Chart.js and plotly.js write inline styles and <style> elements -> 'unsafe-inline'
# for styles only.
CONSOLE_POLICY = {
    **_COMMON,
    "script-src": "'self' 'nonce-{nonce}' 'unsafe-eval' 'unsafe-hashes' " + HANDLER_HASHES,
    "style-src": "'self' 'unsafe-inline'",
}
# Member H5 pages: one script file and one stylesheet, nothing inline, no eval.
PORTAL_POLICY = {
    **_COMMON,
    "script-src": "'self' 'nonce-{nonce}'",
    "style-src": "'self'",
}
# Public pages without script (unsubscribe pages, the API's JSON) get the strictest policy.
STRICT_POLICY = {**_COMMON, "script-src": "'self' 'nonce-{nonce}'", "style-src": "'self'"}

DEFAULT_POLICIES = (
    ("/m/", PORTAL_POLICY),
    ("/u/", STRICT_POLICY),
    ("/api/v1/docs", CONSOLE_POLICY),  # Swagger UI (bundled by django-ninja) uses inline styles
    ("/api/", STRICT_POLICY),
    ("/", CONSOLE_POLICY),
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)


def render_policy(policy: dict[str, str], nonce: str) -> str:
    return "; ".join(f"{name} {value.replace('{nonce}', nonce)}" for name, value in policy.items())


def policy_for(path: str):
    for prefix, policy in getattr(settings, "LAOKE_CSP", DEFAULT_POLICIES):
        if path.startswith(prefix):
            return policy
    return STRICT_POLICY


def _nonce(request) -> str:
    value = getattr(request, "_csp_nonce", None)
    if value is None:
        value = request._csp_nonce = secrets.token_urlsafe(18)
    return value


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy (X-Frame-Options, nosniff, Referrer-Policy and
    Cross-Origin-Opener-Policy come from Django's own middleware and settings)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = _nonce(request)
        response = self.get_response(request)
        header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "LAOKE_CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )
        if header not in response:
            response[header] = render_policy(policy_for(request.path), _nonce(request))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def csp(request) -> dict:
    """Context processor: ``{{ csp_nonce }}`` for templates that write their own script tags."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


# --- template loaders that put the nonce on the template files' own <script> tags ---------------
_SCRIPT_TAG = re.compile(r"<script(?=[\s>])(?![^>]*\snonce=)", re.IGNORECASE)
NONCE_ATTR = '<script nonce="{{ csp_nonce }}"'


def add_nonce(source: str) -> str:
    return _SCRIPT_TAG.sub(NONCE_ATTR, source)


class _NonceMixin:
    def get_contents(self, origin):
        contents = super().get_contents(origin)
        if origin.name.endswith((".html", ".htm")):
            return add_nonce(contents)
        return contents


class NonceFilesystemLoader(_NonceMixin, filesystem.Loader):
    pass


class NonceAppDirectoriesLoader(_NonceMixin, app_directories.Loader):
    pass
