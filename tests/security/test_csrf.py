"""CSRF on every console form (docs/decisions/0042-security-pass.md).

Every URL pattern of the site is enumerated from Django's resolver (the console's own pages and
every admin page), turned into a concrete URL and checked to resolve back to the same view. Then:

- the CSRF-exempt views are exactly the allow-list below (provider notifications and the RFC 8058
  one-click unsubscribe, authenticated by signature or signed token; the API's views, whose auth
  classes check CSRF themselves — tested separately);
- a logged-in admin POSTing to any other URL without a token gets 403, and with a valid token does
  not (the view runs: a form error, 404, 405 or a redirect — anything but the CSRF refusal).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(600)]

# The only views outside /api/ that accept a POST without Django's CSRF token, and why.
CSRF_EXEMPT_ALLOWED = {
    # Payment providers' asynchronous notifications: signed (RSA2 / WeChat Pay APIv3), verified
    # before anything is believed.
    "laoke.payments.views.notify",
    # RFC 8058 List-Unsubscribe-Post from a mail client: the URL carries a signed token.
    "laoke.channels.views.unsubscribe_one_click",
}

_SAMPLE = {
    "int": "987654",
    "str": "x",
    "slug": "x",
    "path": "987654",
    "uuid": "00000000-0000-0000-0000-000000000000",
}
_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")


def _route_text(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        return _ROUTE_PARAM.sub(lambda m: _SAMPLE.get(m.group("conv") or "str", "x"), str(pattern._route))
    assert isinstance(pattern, RegexPattern)
    text = pattern._regex

    def group(m):
        body = m.group("body")
        if re.fullmatch(r"[\w|-]+", body):
            return body.split("|")[0]  # an alternation of names (the admin's app labels): the first
        return "987654" if r"\d" in body else "x"

    text = _REGEX_GROUP.sub(group, text)
    return re.sub(r"\\Z|\$|\^|\.\*", "", text).replace("\\", "")


def _view_name(func) -> str:
    inner = func
    while hasattr(inner, "__wrapped__"):
        inner = inner.__wrapped__
    view_class = getattr(func, "view_class", None) or getattr(inner, "view_class", None)
    if view_class is not None:
        return f"{view_class.__module__}.{view_class.__qualname__}"
    return f"{inner.__module__}.{inner.__qualname__}"


def site_urls() -> list[tuple[str, object]]:
    """(concrete URL, view function) for every pattern of the site that the sample arguments
    resolve back to the same view."""
    out = []

    def walk(patterns, prefix):
        for p in patterns:
            text = prefix + _route_text(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, text)
            elif isinstance(p, URLPattern):
                url = "/" + text
                try:
                    match = resolve(url)
                except Exception:
                    continue
                if match.func is p.callback:
                    out.append((url, p.callback))

    walk(get_resolver().url_patterns, "")
    return out


URLS = site_urls()
CONSOLE = [(u, f) for u, f in URLS if not u.startswith("/api/") and not getattr(f, "csrf_exempt", False)]


def test_the_enumeration_covers_the_console():
    """A guard against an enumeration that silently finds nothing: hundreds of admin pages and the
    console's own pages (checkout, recharge, segments, campaigns, …) are in the list."""
    urls = {u for u, _ in CONSOLE}
    assert len(CONSOLE) > 300, len(CONSOLE)
    for expected in (
        "/admin/login/",
        "/admin/console/checkout/",
        "/admin/console/cards/recharge/",
        "/admin/members/member/add/",
        "/admin/members/member/987654/change/",
    ):
        assert expected in urls, expected
    assert any(u.startswith("/admin/console/segments/") for u in urls)
    assert any(u.startswith("/admin/console/campaigns/") for u in urls)


def test_csrf_exempt_views_are_exactly_the_allow_list():
    exempt = {
        _view_name(f) for u, f in URLS if not u.startswith("/api/") and getattr(f, "csrf_exempt", False)
    }
    assert exempt == CSRF_EXEMPT_ALLOWED
    # Negative control: the detection sees a view made exempt.
    from django.views.decorators.csrf import csrf_exempt

    assert getattr(csrf_exempt(lambda r: None), "csrf_exempt", False)


@pytest.fixture
def admin_client(staff):
    user = staff("admin", username="csrf-admin")
    # raise_request_exception=False: a view failing on the sample ids (500) still passed the check.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(user)
    r = client.get("/admin/")  # the dashboard renders forms: the CSRF cookie is set
    assert r.status_code == 200
    client.user = user
    return client


def _token(client) -> str:
    return client.cookies["csrftoken"].value


def test_every_console_post_without_token_is_refused(admin_client):
    failures = []
    for url, _ in CONSOLE:
        r = admin_client.post(url, {"x": "1"})
        if r.status_code != 403 or b"CSRF" not in r.content:
            failures.append((url, r.status_code))
    assert not failures, failures


def test_every_console_post_with_token_passes_the_check(admin_client):
    """The same POSTs with the token pass the check. (The form field works the same way: see
    test_a_form_field_token_passes_too.)"""
    failures, server_errors = [], []
    logout = [(u, f) for u, f in CONSOLE if u == "/admin/logout/"]
    for url, _ in [p for p in CONSOLE if p not in logout] + logout:  # log out last
        # The token in the header (as htmx and the pages' fetch calls send it) and a JSON body, so
        # views reading request.body (the segment preview) can.
        r = admin_client.post(
            url, "{}", content_type="application/json", headers={"X-CSRFToken": _token(admin_client)}
        )
        if r.status_code == 403 and b"CSRF" in r.content:
            failures.append((url, r.status_code))
        elif r.status_code >= 500:
            server_errors.append(url)
    assert not failures, failures
    print("views failing on the sample arguments (500):", server_errors)


def test_a_form_field_token_passes_too(admin_client):
    r = admin_client.post("/admin/members/tag/add/", {"csrfmiddlewaretoken": _token(admin_client)})
    assert r.status_code == 200  # the add form again, with its errors: the view ran
    r = admin_client.post("/admin/members/tag/add/", {"csrfmiddlewaretoken": "x" * 32})
    assert r.status_code == 403  # negative control: a wrong token is refused


def test_api_session_writes_need_the_token(admin_client):
    """The API's views are csrf_exempt for Django (Bearer tokens need no CSRF), so its session
    auth (console htmx calls) checks the token itself."""
    body = {"name": "张三", "mobile": "13900001111"}
    r = admin_client.post("/api/v1/members", body, content_type="application/json")
    assert r.status_code == 403, r.content
    r = admin_client.post(
        "/api/v1/members",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": _token(admin_client)},
    )
    assert r.status_code in (200, 201), r.content
