"""The signed unsubscribe link: confirm page (zh-hans/en), POST with CSRF, RFC 8058 one-click POST
without it, tampered tokens refused with a 400 page, and the effect: consent withdrawn, so a later
marketing message on that channel is suppressed while a transactional one still goes."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from laoke.channels.unsubscribe import one_click_url, unsubscribe_token, unsubscribe_url
from laoke.members.models import Consent, ConsentEvent
from laoke.members.services import consent_set, member_create
from laoke.messaging.services import message_enqueue


@pytest.fixture
def member(db, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    m = member_create(name="王五", mobile="13800005555", email="w@example.com")
    consent_set(member_id=m.pk, channel="email", granted=True, source="test")
    consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
    return m


def _path(url: str) -> str:
    return urlsplit(url).path


def _state(member, channel):
    return Consent.objects.get(member=member, channel=channel).state


def test_confirm_page_then_post_withdraws(member):
    client = Client(enforce_csrf_checks=True)
    path = _path(unsubscribe_url(member.pk, "email"))
    page = client.get(path + "?lang=en")
    assert page.status_code == 200
    assert b"Stop receiving marketing messages by email?" in page.content
    assert _state(member, "email") == "granted"  # a GET (a link preview, a scanner) changes nothing
    assert client.post(path).status_code == 403  # the page's form needs its CSRF token
    token = page.context["csrf_token"]
    done = client.post(path + "?lang=en", {"csrfmiddlewaretoken": str(token)})
    assert done.status_code == 200 and b"no longer receive" in done.content
    assert _state(member, "email") == "withdrawn"
    assert _state(member, "sms") == "granted"  # only the link's channel
    event = ConsentEvent.objects.filter(member=member, channel="email").first()
    assert (event.state, event.source) == ("withdrawn", "unsubscribe-link")
    zh = Client().get(path)  # the shop's language by default
    assert 'lang="zh-hans"' in zh.content.decode() and "邮件" in zh.content.decode()


def test_one_click_post_and_later_marketing_is_suppressed(member):
    client = Client(enforce_csrf_checks=True)  # a mail client: no cookie, no CSRF token
    url = one_click_url(member.pk, "email")
    pending = message_enqueue(
        purpose="wave-1", member=member, channel="email", kind="marketing", subject="s", body="b"
    )
    sms = message_enqueue(
        purpose="wave-1-sms", member=member, channel="sms", kind="marketing", body="b 回T退订"
    )
    assert pending.state == sms.state == "waiting"
    r = client.post(
        _path(url), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert r.status_code == 200
    assert _state(member, "email") == "withdrawn"
    assert (
        client.post(
            _path(url), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )  # twice is fine
    promo = message_enqueue(
        purpose="edm-after", member=member, channel="email", kind="marketing", subject="s", body="b"
    )
    assert (promo.state, promo.error) == ("suppressed", "unsubscribed")
    notice = message_enqueue(
        purpose="notice-after", member=member, channel="email", kind="transactional", subject="s", body="b"
    )
    assert notice.state == "waiting"
    assert client.get(_path(url)).status_code == 302  # a person opening it gets the confirm page


@pytest.mark.parametrize("how", ["flip", "other-member", "other-channel", "garbage", "empty-payload"])
def test_tampered_tokens_get_a_400_page(member, how):
    good = unsubscribe_token(member.pk, "email")
    token = {
        "flip": good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1],
        "other-member": f"{member.pk + 1}e." + good.split(".", 1)[1],
        "other-channel": f"{member.pk}s." + good.split(".", 1)[1],
        "garbage": "not-a-token",
        "empty-payload": "." + good.split(".", 1)[1],
    }[how]
    client = Client()
    r = client.get(f"/u/unsubscribe/{token}/?lang=en")
    assert r.status_code == 400 and b"not valid" in r.content
    assert (
        client.post(
            f"/u/unsubscribe/{token}/one-click/",
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        ).status_code
        == 400
    )
    assert Client().post(f"/u/unsubscribe/{token}/").status_code in (400, 403)
    assert _state(member, "email") == "granted"


def test_token_is_short_and_survives_key_rotation(member, settings):
    token = unsubscribe_token(member.pk, "email")
    assert len(token) <= len(str(member.pk)) + 24  # it goes into SMS bodies
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = [old_key]
    one_click = f"/u/unsubscribe/{token}/one-click/"
    form = "application/x-www-form-urlencoded"
    assert Client().post(one_click, "List-Unsubscribe=One-Click", content_type=form).status_code == 200
    assert _state(member, "email") == "withdrawn"
    settings.SECRET_KEY_FALLBACKS = []
    assert Client().post(one_click, "List-Unsubscribe=One-Click", content_type=form).status_code == 400


def test_phone_and_direct_mail_links_cancel_open_tasks(member):
    from django.db import transaction

    from laoke.channels.models import StaffTask
    from laoke.channels.services import TaskRow, _staff_tasks_create_bulk

    with transaction.atomic():
        _staff_tasks_create_bulk(
            [
                TaskRow(purpose="c:1:call", member_id=member.pk, kind="call"),
                TaskRow(purpose="c:1:mail", member_id=member.pk, kind="mail"),
            ]
        )
    r = Client().post(
        _path(one_click_url(member.pk, "call")),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200
    assert _state(member, "phone") == "withdrawn"
    states = dict(StaffTask.objects.values_list("kind", "state"))
    assert states == {"call": "cancelled", "mail": "open"}
