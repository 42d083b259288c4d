"""The H5 pages at /m/: login is public, every other page needs a member session."""

from __future__ import annotations

import pytest

from laoke.portal.views import PAGES

from .conftest import client, make_member, signed_in


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_need_a_member_session(frozen, name):
    url = "/m/" if name == "home" else f"/m/{name}/"
    r = client().get(url)
    assert r.status_code == 302 and r["Location"] == "/m/login/"


def test_pages_render_for_a_member(frozen, api):
    c = signed_in(make_member())
    for name in PAGES:
        r = c.get("/m/" if name == "home" else f"/m/{name}/")
        assert r.status_code == 200, name
        assert b"portal/portal.js" in r.content and f'data-page="{name}"'.encode() in r.content
    staff_only = api("admin")  # a staff token is no member session
    assert staff_only.get("/m/").status_code == 302


def test_login_page_and_language_switch(db):
    c = client(lang="zh-hans")
    r = c.get("/m/login/?ref=M123")
    assert r.status_code == 200 and b'id="send-code"' in r.content and b'data-ref="M123"' in r.content
    r = c.get("/m/lang/en/?next=/m/login/")
    assert r.status_code == 302 and r["Location"] == "/m/login/"
    assert r.cookies["django_language"].value == "en"
    assert c.get("/m/lang/en/?next=https://evil.example/").headers["Location"] == "/m/"
    assert b'lang="en"' in c.get("/m/login/").content


def test_admin_pages_are_read_only(frozen, staff):
    from django.test import Client

    signed_in(make_member())
    c = Client()
    c.force_login(staff("admin"))
    for model in ("membersession", "logincode"):
        r = c.get(f"/admin/portal/{model}/")
        assert r.status_code == 200, model
        assert c.get(f"/admin/portal/{model}/add/").status_code == 403
    cashier = Client()
    cashier.force_login(staff("cashier"))
    assert cashier.get("/admin/portal/membersession/").status_code in (302, 403)
