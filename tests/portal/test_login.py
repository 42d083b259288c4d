"""One-time code login: hashed storage, expiry, attempts, rate limits, sessions, staff ≠ member."""

from __future__ import annotations

from datetime import timedelta

import pytest

from laoke.core import clock
from laoke.messaging.models import Message
from laoke.portal.models import LoginCode, MemberSession

from .conftest import H5, bearer, client, get, last_code, login, make_member, new_mobile, post, request_code


@pytest.fixture
def member(frozen):
    return make_member(name="甲")


def test_code_sent_through_the_outbox_and_stored_hashed(member):
    c = client()
    m = member.mobile[3:]  # stored as +86…; any accepted form works
    r = request_code(c, f"{m[:3]} {m[3:7]} {m[7:]}")
    assert r.status_code == 202, r.content
    row = LoginCode.objects.get()
    msg = Message.objects.get(purpose=f"login_code:{row.pk}")
    assert (msg.member_id, msg.kind, msg.channel) == (member.pk, "transactional", "sms")
    code = last_code(member.mobile)
    assert len(code) == 6 and code.isdigit()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at - row.created_at == timedelta(minutes=5)


def test_login_opens_a_session_cookie_and_bearer(member):
    c = client()
    r = login(c, member.mobile)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["member_id"] == member.pk and body["registered"] is False
    cookie = r.cookies["laoke_member"]
    assert cookie.value == body["token"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert MemberSession.objects.get().token_hash != body["token"]  # only the hash is stored
    assert get(c, "").json()["code"] == member.code
    assert get(bearer(body["token"]), "").json()["id"] == member.pk
    # the code is single use
    again = login(client(), member.mobile, code=last_code(member.mobile))
    assert again.status_code == 422 and again.json()["code"] == "LOGIN_CODE_INVALID"


def test_code_expires_after_five_minutes(member):
    c = client()
    request_code(c, member.mobile)
    code = last_code(member.mobile)
    clock.advance(timedelta(minutes=5, seconds=1))
    r = login(c, member.mobile, code=code)
    assert r.status_code == 422 and r.json()["code"] == "LOGIN_CODE_INVALID"


def test_five_attempts_per_code_then_even_the_right_code_fails(member):
    c = client()
    request_code(c, member.mobile)
    code = last_code(member.mobile)
    wrong = "000000" if code != "000000" else "111111"
    lefts = []
    for _ in range(5):
        r = login(c, member.mobile, code=wrong)
        assert r.status_code == 422
        lefts.append(r.json()["details"]["attempts_left"])
    assert lefts == [4, 3, 2, 1, 0]
    r = login(c, member.mobile, code=code)
    assert r.status_code == 429 and r.json()["code"] == "LOGIN_CODE_EXHAUSTED"
    assert not MemberSession.objects.exists()


def test_a_newer_code_voids_the_older_one(member):
    c = client()
    request_code(c, member.mobile)
    old = last_code(member.mobile)
    clock.advance(timedelta(seconds=61))
    request_code(c, member.mobile)
    new = last_code(member.mobile)
    if old != new:
        assert login(c, member.mobile, code=old).status_code == 422
    assert login(c, member.mobile, code=new).status_code == 200


def test_rate_limit_per_mobile_one_a_minute_five_an_hour(member):
    c = client()
    assert request_code(c, member.mobile).status_code == 202
    r = request_code(c, member.mobile)
    assert r.status_code == 429 and r.json()["code"] == "LOGIN_CODE_TOO_SOON"
    for _ in range(4):
        clock.advance(timedelta(seconds=61))
        assert request_code(c, member.mobile).status_code == 202
    clock.advance(timedelta(seconds=61))
    # 10:05 Shanghai: still the same hour window, the sixth code is refused
    r = request_code(c, member.mobile)
    assert r.status_code == 429 and r.json()["code"] == "RATE_LIMITED"
    assert LoginCode.objects.count() == 5


def test_rate_limit_per_ip(frozen):
    c = client(ip="10.9.9.9")
    codes = [request_code(c, new_mobile()).status_code for _ in range(21)]
    assert codes == [202] * 20 + [429]
    assert request_code(client(ip="10.9.9.10"), new_mobile()).status_code == 202


def test_wrong_codes_per_ip_are_limited(member, monkeypatch):
    from laoke.portal import services

    monkeypatch.setattr(services, "VERIFY_FAILURES_PER_IP_HOUR", 3)
    c = client(ip="10.7.7.7")
    request_code(c, member.mobile)
    code = last_code(member.mobile)
    bad = "000000" if code != "000000" else "111111"
    assert [login(c, member.mobile, code=bad).status_code for _ in range(3)] == [422] * 3
    r = login(c, member.mobile, code=code)
    assert r.status_code == 429 and r.json()["code"] == "RATE_LIMITED"
    assert login(client(ip="10.7.7.8"), member.mobile, code=code).status_code == 200


def test_unknown_mobile_registers_only_with_the_agreement(
    frozen, settings, tmp_path, django_capture_on_commit_callbacks
):
    from laoke.members.models import AgreementAcceptance, Member
    from laoke.members.services import agreement_publish

    settings.DATA_DIR = tmp_path
    agreement_publish(version="2026-1", title="会员协议", body="……")
    mobile = new_mobile()
    c = client()
    with django_capture_on_commit_callbacks(execute=True):
        assert request_code(c, mobile).status_code == 202
    assert not Message.objects.exists()  # no member, no outbox row: the SMS went straight out
    code = last_code(mobile)
    r = login(c, mobile, code=code)
    assert r.status_code == 422 and r.json()["code"] == "LOGIN_AGREEMENT_REQUIRED"
    assert not Member.objects.filter(mobile="+86" + mobile).exists()
    r = login(c, mobile, code=code, accept=True)  # the same code still works
    assert r.status_code == 200, r.content
    assert r.json()["registered"] is True
    member = Member.objects.get(mobile="+86" + mobile)
    assert AgreementAcceptance.objects.get(member=member).agreement.version == "2026-1"


def test_session_expires_and_logout_revokes(member):
    c = client()
    token = login(c, member.mobile).json()["token"]
    assert post(c, "/logout").status_code == 204
    assert get(c, "").status_code == 401
    assert get(bearer(token), "").status_code == 401
    clock.advance(timedelta(seconds=61))
    token = login(client(), member.mobile).json()["token"]
    clock.advance(timedelta(days=14, seconds=1))
    r = get(bearer(token), "")
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"


def test_staff_token_and_console_session_are_not_member_sessions(member, api, staff):
    assert get(api("admin"), "").status_code == 401
    admin = staff("admin")
    c = client()
    c.force_login(admin)
    assert get(c, "").status_code == 401


def test_cookie_writes_need_the_page_header_bearer_does_not(member):
    c = client()
    token = login(c, member.mobile).json()["token"]
    r = c.post("/api/v1/me/signin", {}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "MEMBER_CSRF_REQUIRED"
    r = c.post("/api/v1/me/login/code", {"mobile": member.mobile}, content_type="application/json")
    assert r.status_code == 403
    r = bearer(token).post("/api/v1/me/logout", {}, content_type="application/json")
    assert r.status_code == 204


def test_errors_in_the_members_language(member):
    c = client(lang="zh-hans")
    r = login(c, member.mobile, code="12345")
    assert r.status_code == 422 and "验证码" in r.json()["message"]
    c = client(lang="en")
    r = c.post(
        "/api/v1/me/login", {"mobile": member.mobile, "code": "12345"}, content_type="application/json", **H5
    )
    assert "code" in r.json()["message"]


def test_tick_drops_ended_codes_and_sessions(member):
    from laoke.portal.services import portal_tick

    login(client(), member.mobile)
    clock.advance(timedelta(seconds=61))
    request_code(client(), member.mobile)
    clock.advance(timedelta(days=2))
    assert portal_tick(clock.now()) == 2  # both codes ended > 1 day ago; the session (14 days) stays
    assert LoginCode.objects.count() == 0 and MemberSession.objects.count() == 1


def test_demo_hook(member):
    import random

    from laoke.portal.demo import demo_load

    out = demo_load(rng=random.Random(1), now=clock.now())
    assert out["sessions"] == 1 and MemberSession.objects.filter(member=member).count() == 1


def test_registration_by_a_friends_link_registers_the_referral(
    member, monkeypatch, django_capture_on_commit_callbacks
):
    import re

    from laoke.members.models import Member
    from laoke.portal import services
    from laoke.referrals.models import Referral
    from laoke.referrals.services import referrals_presets_install

    referrals_presets_install()
    sent = []  # the code of an unknown mobile goes straight to the provider: catch the call
    monkeypatch.setattr(services, "_send_direct", lambda mobile, body, code_id: sent.append(body))
    mobile = new_mobile()
    c = client()
    with django_capture_on_commit_callbacks(execute=True):
        assert request_code(c, mobile).status_code == 202
    code = re.search(r"\b(\d{6})\b", sent[0]).group(1)
    r = c.post(
        "/api/v1/me/login",
        {"mobile": mobile, "code": code, "accept_agreement": True, "referrer": member.code},
        content_type="application/json",
        **H5,
    )
    assert r.status_code == 200 and r.json()["registered"] is True
    new = Member.objects.get(mobile="+86" + mobile)
    assert Referral.objects.get(new_member=new).referrer_id == member.pk
