"""The console in a real Chromium: masking by role, the audited unmasked view, the dashboard."""

from __future__ import annotations

import sqlite3

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _login(browser, server, username):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server["base"] + "/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/admin/login/" not in page.url, page.content()[:500]
    return page


def _pii_views(server) -> int:
    with sqlite3.connect(server["data_dir"] / "laoke.sqlite3") as db:
        return db.execute(
            "SELECT count(*) FROM core_auditentry WHERE action='pii.view' AND object_id=?",
            (str(server["member_id"]),),
        ).fetchone()[0]


def test_chromium_launches(browser):
    page = browser.new_page()
    page.set_content("<p id=x>ok</p>")
    assert page.inner_text("#x") == "ok"
    page.close()


def test_cashier_sees_masked_mobile(browser, laoke_server, shot):
    page = _login(browser, laoke_server, "till1")
    page.goto(f"{laoke_server['base']}/admin/console/member/{laoke_server['member_id']}/")
    assert page.inner_text("[data-testid=mobile]").strip() == "138****5678"
    html = page.content()
    assert "13812345678" not in html and "建国路88号" not in html
    shot(page, "member360-cashier-masked")
    page.goto(f"{laoke_server['base']}/admin/members/member/")
    assert "138****5678" in page.content() and "13812345678" not in page.content()
    shot(page, "member-list-cashier")
    assert _pii_views(laoke_server) == 0
    page.context.close()


def test_admin_sees_full_mobile_and_is_audited(browser, laoke_server, shot):
    before = _pii_views(laoke_server)
    page = _login(browser, laoke_server, "boss")
    page.goto(f"{laoke_server['base']}/admin/console/member/{laoke_server['member_id']}/")
    assert page.inner_text("[data-testid=mobile]").strip() == "13812345678"
    assert "建国路88号" in page.inner_text("[data-testid=address]")
    shot(page, "member360-admin-unmasked")
    assert _pii_views(laoke_server) == before + 1
    page.context.close()


def test_dashboard_chart_and_language_switch(browser, laoke_server, shot):
    page = _login(browser, laoke_server, "boss")
    page.goto(laoke_server["base"] + "/admin/")
    assert page.locator("#new-members-chart canvas").count() == 1
    assert "会员" in page.inner_text("[data-testid=kpis]")  # zh-hans by default
    shot(page, "dashboard-zh")
    page.get_by_text("boss", exact=True).first.click()  # the account menu holds the language forms
    page.locator("form:has(input[name=language][value=en]) button").click()
    page.wait_for_load_state("networkidle")
    assert "Members" in page.inner_text("[data-testid=kpis]")
    assert "New members per day (last 30 days)" in page.inner_text("body")
    assert "1 new member in 30 days" in page.inner_text("body")
    shot(page, "dashboard-en")
    page.context.close()


def test_core_admin_pages_render(browser, laoke_server, shot):
    page = _login(browser, laoke_server, "boss")
    for path, name in (
        ("/admin/core/auditentry/", "audit-log"),
        ("/admin/auth/user/add/", "staff-user-add"),
        ("/admin/core/apitoken/add/", "api-token-add"),
        ("/admin/auth/group/", "roles"),
    ):
        response = page.goto(laoke_server["base"] + path)
        assert response.status == 200, path
        assert page.locator("#nav-sidebar, nav").count() >= 1
        shot(page, name)
    page.context.close()


def test_login_lockout_message(browser, laoke_server, shot):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    for i in range(6):
        page.goto(laoke_server["base"] + "/admin/login/")
        page.fill("input[name=username]", "ghost")
        page.fill("input[name=password]", f"guess-{i}")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    assert "登录失败次数过多" in page.inner_text("body")
    shot(page, "login-locked")
    context.close()
