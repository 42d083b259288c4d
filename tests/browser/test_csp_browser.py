"""The Content-Security-Policy in a real Chromium (docs/decisions/0042-security-pass.md): the console
dashboard, a plotly chart page, the cashier's checkout page, the payments list (its inline
``onchange`` handler, allowed by hash) and the H5 login page work with ZERO CSP violations —
collected both from the console messages and from ``securitypolicyviolation`` events. Negative
controls: an inline script without the nonce, an inline style attribute and ``eval`` on an H5 page
are refused and reported; the same script with the page's nonce runs."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


def _context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(LISTEN)
    return context


class Violations:
    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.console.append(m.text)
                if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
                else None
            ),
        )

    def all(self) -> list[str]:
        events = self.page.evaluate("window.__csp || []")
        return self.console + [f"event: {e}" for e in events]


def _login(browser, server, username):
    context = _context(browser)
    page = context.new_page()
    seen = Violations(page)
    page.goto(server["base"] + "/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")  # the login page itself needs Alpine (unfold's modal)
    page.wait_for_load_state("networkidle")
    assert "/admin/login/" not in page.url, page.content()[:500]
    return page, seen


def _open(page, seen, url):
    response = page.goto(url, wait_until="networkidle")
    assert response.status == 200, url
    assert seen.all() == [], (url, seen.all())
    return response


def test_headers(laoke_server, browser):
    page = browser.new_page()
    response = page.goto(laoke_server["base"] + "/m/login/")
    h = response.headers
    csp = h["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "style-src 'self'",
    ):
        assert directive in csp, (directive, csp)
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp  # the H5 pages need neither
    assert re.search(r"script-src 'self' 'nonce-[\w-]{20,}'", csp), csp
    assert h["x-frame-options"] == "DENY"
    assert h["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in h["permissions-policy"] and "geolocation=()" in h["permissions-policy"]
    assert h["x-content-type-options"] == "nosniff"
    again = page.goto(laoke_server["base"] + "/m/login/").headers["content-security-policy"]
    assert again != csp  # a fresh nonce for every response
    page.close()


def test_console_pages_have_no_csp_violations(laoke_server, browser):
    base = laoke_server["base"]
    page, seen = _login(browser, laoke_server, "boss")
    assert seen.all() == [], seen.all()
    _open(page, seen, base + "/admin/")  # dashboard (unfold, Alpine, Chart.js)
    # A plotly chart page: plotly.js from the package, an inline script with the nonce.
    _open(page, seen, base + "/admin/console/analytics/behaviour/lifecycle/")
    page.wait_for_selector("#chart-stages .main-svg", timeout=20_000)  # the chart was drawn
    assert seen.all() == [], seen.all()
    # An admin change form (unfold widgets) and the member list.
    _open(page, seen, base + f"/admin/members/member/{laoke_server['member_id']}/change/")
    _open(page, seen, base + "/admin/members/member/")
    # The payments list: its filter's inline onchange handler is allowed by hash and works.
    _open(page, seen, base + "/admin/console/payments/")
    options = page.eval_on_selector_all("select[name=state] option", "os => os.map(o => o.value)")
    with page.expect_navigation():
        page.select_option("select[name=state]", options[1])
    assert f"state={options[1]}" in page.url
    page.wait_for_load_state("networkidle")
    assert seen.all() == [], seen.all()
    page.context.close()


def test_cashier_checkout_page_has_no_csp_violations(laoke_server, browser):
    base = laoke_server["base"]
    page, seen = _login(browser, laoke_server, "till1")
    _open(page, seen, base + "/admin/console/checkout/")
    # The page's inline script (with the nonce) runs: "add line" adds a cart row without a reload.
    rows = page.locator("[name=sku]").count()
    page.click("#add-line")
    assert page.locator("[name=sku]").count() == rows + 1
    assert seen.all() == [], seen.all()
    page.context.close()


def test_h5_login_page_has_no_csp_violations(laoke_server, browser):
    page = _context(browser).new_page()
    seen = Violations(page)
    _open(page, seen, laoke_server["base"] + "/m/login/")
    # portal.js ran (it wires the form): the agreement box and the code button are there.
    assert page.locator("#login-form").count() == 1
    page.context.close()


def test_negative_controls_inline_script_style_and_eval_are_refused(laoke_server, browser):
    """The real H5 login response (its real CSP header) with an injected inline script without the
    nonce, an inline style attribute and an eval: each is refused and reported; a script carrying
    the response's nonce runs."""
    base = laoke_server["base"]
    context = _context(browser)

    def inject(route):
        response = route.fetch()
        nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
        body = response.text().replace(
            "</body>",
            "<script>window.__injected = 1;</script>"
            '<div id="styled" style="color: rgb(255, 0, 0)">x</div>'
            f'<script nonce="{nonce}">window.__nonced = 1; try {{ eval("1"); window.__eval = 1; }}'
            " catch (e) { window.__eval = 0; }</script></body>",
        )
        route.fulfill(response=response, body=body)

    context.route(base + "/m/login/", inject)
    page = context.new_page()
    seen = Violations(page)
    page.goto(base + "/m/login/", wait_until="networkidle")
    assert page.evaluate("window.__injected") is None  # the inline script did not run
    assert page.evaluate("window.__nonced") == 1  # the nonced one did
    assert page.evaluate("window.__eval") == 0  # eval refused
    colour = page.eval_on_selector("#styled", "e => getComputedStyle(e).color")
    assert colour != "rgb(255, 0, 0)"  # the inline style was not applied
    found = seen.all()
    assert any("script-src" in v and "inline" in v for v in found if v.startswith("event:")), found
    assert any("style-src" in v for v in found if v.startswith("event:")), found
    assert any("eval" in v for v in found), found
    assert any("Content Security Policy" in v for v in found), found  # the console path sees them too
    context.close()
