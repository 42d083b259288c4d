"""Production settings, security headers and cookie flags (docs/decisions/0042-security-pass.md).

tests/test_project.py runs `check --deploy` with production settings; here each setting this pass
added is read back from a production start (and from a laptop start, the control), the CSP
middleware's headers are checked on the test client, and the H5 member cookie is Secure whenever
the session cookie is."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from laoke.core import security

BIN = Path(sys.executable).parent
NAMES = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "LANGUAGE_COOKIE_SAMESITE",
    "X_FRAME_OPTIONS",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
    "LAOKE_CSP_REPORT_ONLY",
    "MIDDLEWARE",
    "INSTALLED_APPS",
    "DEBUG",
]
DUMP = "from django.conf import settings; import json; print(json.dumps({n: getattr(settings, n, None) for n in %r}))"


def _settings(tmp_path, **env) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith("LAOKE_") and k != "SECRET_KEY"}
    e.update({"LAOKE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "laoke.settings", **env})
    r = subprocess.run(
        [BIN / "laoke", "manage", "shell", "-c", DUMP % NAMES],
        env=e,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_production_settings(tmp_path):
    s = _settings(
        tmp_path,
        LAOKE_ENV="production",
        SECRET_KEY="p" * 40 + "-0123456789-abcdefghijkl",
        ALLOWED_HOSTS="crm.example.cn",
        LAOKE_DEBUG="1",  # never honoured in production
    )
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["LANGUAGE_COOKIE_SECURE"]
    assert s["SESSION_COOKIE_HTTPONLY"] and s["CSRF_COOKIE_HTTPONLY"]
    assert s["SESSION_COOKIE_SAMESITE"] == s["CSRF_COOKIE_SAMESITE"] == s["LANGUAGE_COOKIE_SAMESITE"] == "Lax"
    assert s["X_FRAME_OPTIONS"] == "DENY" and s["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin"
    assert (
        s["SECURE_CONTENT_TYPE_NOSNIFF"] and s["SECURE_HSTS_SECONDS"] >= 31536000 and s["SECURE_SSL_REDIRECT"]
    )
    assert s["LAOKE_CSP_REPORT_ONLY"] is False and s["DEBUG"] is False
    mw = s["MIDDLEWARE"]
    assert mw.index("django.middleware.security.SecurityMiddleware") < mw.index(
        "laoke.core.security.SecurityHeadersMiddleware"
    )
    assert "django.middleware.csrf.CsrfViewMiddleware" in mw
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in mw
    assert "ninja" in s["INSTALLED_APPS"]  # Swagger UI from the package, not a CDN


def test_laptop_settings_are_not_secure_only(tmp_path):
    """The control: over plain http on a laptop the cookies are not Secure (else nobody could log
    in), while HttpOnly/SameSite and the CSP are the same as in production."""
    s = _settings(tmp_path)
    assert not s["SESSION_COOKIE_SECURE"] and not s["CSRF_COOKIE_SECURE"]
    assert s["SESSION_COOKIE_HTTPONLY"] and s["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert "laoke.core.security.SecurityHeadersMiddleware" in s["MIDDLEWARE"]


# --- headers on the test client ---------------------------------------------------------------


def _directives(header: str) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in header.split("; ")}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/m/login/", "/api/v1/openapi.json", "/u/unsubscribe/x/"])
def test_every_response_has_the_policy(client, path):
    r = client.get(path)
    d = _directives(r["Content-Security-Policy"])
    assert d["default-src"] == "'self'" and d["object-src"] == "'none'" and d["base-uri"] == "'self'"
    assert d["frame-ancestors"] == "'none'" and d["form-action"] == "'self'"
    assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'.*", d["script-src"])
    assert "https:" not in r["Content-Security-Policy"] and "*" not in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY"
    assert "camera=()" in r["Permissions-Policy"]


@pytest.mark.django_db
def test_console_policy_and_member_pages_policy_differ(client):
    console = _directives(client.get("/admin/login/")["Content-Security-Policy"])
    h5 = _directives(client.get("/m/login/")["Content-Security-Policy"])
    assert "'unsafe-eval'" in console["script-src"] and "'unsafe-inline'" in console["style-src"]
    assert "unsafe" not in h5["script-src"] and h5["style-src"] == "'self'"
    for handler in security.INLINE_HANDLERS:
        assert security.source_hash(handler) in console["script-src"]


@pytest.mark.django_db
def test_the_nonce_reaches_the_template_scripts(client):
    """The nonce in the header is on the script tag written in the template file (portal.js), and
    not on the tag produced at render time by a filter (json_script's data block): rendered markup
    never gets the nonce (a data block needs none)."""
    r = client.get("/m/login/")
    nonce = re.search(r"'nonce-([^']+)'", r["Content-Security-Policy"]).group(1)
    tags = re.findall(r"<script[^>]*>", r.content.decode())
    assert [t for t in tags if "portal.js" in t and f'nonce="{nonce}"' in t], tags
    assert [t for t in tags if 'id="i18n"' in t and "nonce" not in t], tags


def test_add_nonce_touches_only_script_tags():
    src = (
        '<script>a()</script><script src="x.js"></script><scripts><p>script</p><script nonce="n">b()</script>'
    )
    out = security.add_nonce(src)
    assert out.count('nonce="{{ csp_nonce }}"') == 2
    assert '<script nonce="n">' in out and "<scripts>" in out


@pytest.mark.django_db
def test_report_only_switch(client, settings):
    settings.LAOKE_CSP_REPORT_ONLY = True
    r = client.get("/m/login/")
    assert "Content-Security-Policy" not in r and "Content-Security-Policy-Report-Only" in r


# --- the H5 member cookie -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("secure_setting", [True, False])
def test_member_cookie_is_secure_when_session_cookie_is(settings, secure_setting):
    from tests.portal.conftest import client as h5_client
    from tests.portal.conftest import login, make_member

    settings.SESSION_COOKIE_SECURE = secure_setting
    member = make_member()
    c = h5_client(ip="10.9.9.9")
    r = login(c, member.mobile)  # plain http: request.is_secure() is False
    assert r.status_code == 200, r.content
    cookie = r.cookies["laoke_member"]
    assert bool(cookie["secure"]) is secure_setting  # the False case is the control
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
