"""Fixtures of the member-page tests: members signed in through the real login flow (the code is
read from the outbox row the SMS is sent from), cards and points through their services."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from laoke.core import clock

_n = itertools.count(1)

# Tuesday 2 June 2026, 10:00 in Shanghai: inside the preset 1–4 gift redemption window.
IN_WINDOW = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)
H5 = {"HTTP_X_LAOKE_H5": "1"}


@pytest.fixture
def frozen(db):
    with clock.frozen(IN_WINDOW):
        yield clock


@pytest.fixture
def programme(db, frozen):
    from laoke.points.presets import points_presets_install

    return points_presets_install()


def new_mobile() -> str:
    return f"1391{next(_n):07d}"


def make_member(name: str = "", **kw):
    from laoke.members.services import member_create

    return member_create(name=name or f"会员{next(_n)}", mobile=kw.pop("mobile", None) or new_mobile(), **kw)


def client(ip: str = "10.0.0.1", lang: str = "en") -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=lang)


def last_code(mobile: str) -> str:
    """The code from the outbox row (registered member) or the SMS file (unknown mobile)."""
    from django.conf import settings

    from laoke.members.validation import normalize_mobile
    from laoke.messaging.models import Message
    from laoke.portal.models import LoginCode

    row = LoginCode.objects.filter(mobile=normalize_mobile(mobile)).latest("pk")
    msg = Message.objects.filter(purpose=f"login_code:{row.pk}").first()
    if msg is not None:
        body = msg.body
    else:
        lines = (settings.DATA_DIR / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
        body = next(json.loads(x)["body"] for x in reversed(lines) if f'"login_code:{row.pk}"' in x)
    return re.search(r"\b(\d{6})\b", body).group(1)


def request_code(c: Client, mobile: str):
    return c.post("/api/v1/me/login/code", {"mobile": mobile}, content_type="application/json", **H5)


def login(c: Client, mobile: str, *, accept: bool = False, code: str | None = None):
    if code is None:
        r = request_code(c, mobile)
        assert r.status_code == 202, r.content
        code = last_code(mobile)
    return c.post(
        "/api/v1/me/login",
        {"mobile": mobile, "code": code, "accept_agreement": accept},
        content_type="application/json",
        **H5,
    )


def signed_in(member, *, ip: str | None = None) -> Client:
    """A client holding the member's session cookie (as the H5 pages do)."""
    c = client(ip or f"10.1.{next(_n) % 250}.{next(_n) % 250}")
    r = login(c, member.mobile)
    assert r.status_code == 200, r.content
    c.token = r.json()["token"]
    c.member = member
    return c


def bearer(token: str, lang: str = "en") -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE=lang)


def get(c, path, **kw):
    return c.get(f"/api/v1/me{path}", **kw)


def post(c, path, body=None, **headers):
    return c.post(f"/api/v1/me{path}", body or {}, content_type="application/json", **H5, **headers)
