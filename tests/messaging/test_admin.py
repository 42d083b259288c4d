"""The outbox in the console: read-only, recipient masked without the PII permission, an audit
row for each unmasked view, group members' messages only for those who may see group members."""

import pytest
from django.test import Client

from laoke.core.models import AuditEntry
from laoke.members.services import group_account_create, member_create
from laoke.messaging.models import Message
from laoke.messaging.services import message_enqueue

URL = "/admin/messaging/message/"


@pytest.fixture(autouse=True)
def _no_kick(settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}


def login(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client()
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    return client


@pytest.fixture
def message(db):
    m = member_create(name="收信人", mobile="13800001111")
    return message_enqueue(
        purpose="balance:1", member=m, channel="sms", kind="transactional", body="余额变动"
    )


def test_marketer_sees_masked_recipient_and_writes_no_pii_audit(staff, message):
    client = login(staff, "marketer")
    listing = client.get(URL).content.decode()
    assert "balance:1" in listing and "138****1111" in listing and "13800001111" not in listing
    detail = client.get(f"{URL}{message.pk}/change/").content.decode()
    assert "138****1111" in detail and "13800001111" not in detail
    assert not AuditEntry.objects.filter(action="pii.view").exists()


def test_manager_sees_the_number_and_the_view_is_audited(staff, message):
    client = login(staff, "service_manager")
    assert "13800001111" not in client.get(URL).content.decode()  # the list stays masked
    detail = client.get(f"{URL}{message.pk}/change/").content.decode()
    assert "13800001111" in detail
    row = AuditEntry.objects.get(action="pii.view")
    assert row.object_id == str(message.member_id) and row.after == {
        "fields": ["mobile"],
        "message": message.pk,
    }


def test_outbox_is_read_only(staff, message):
    client = login(staff, "admin")
    assert client.post(f"{URL}add/", {"purpose": "x"}).status_code == 403
    assert client.post(f"{URL}{message.pk}/change/", {"state": "sent"}).status_code == 403
    assert client.post(f"{URL}{message.pk}/delete/", {"post": "yes"}).status_code == 403
    r = client.post(URL, {"action": "delete_selected", "_selected_action": [message.pk], "post": "yes"})
    assert Message.objects.get(pk=message.pk).state == "waiting"
    assert r.status_code in (200, 302)


def test_group_members_messages_need_the_group_permission(staff, db):
    group = group_account_create(name="某公司")
    m = member_create(name="集体成员", mobile="13800002222", group_account=group)
    msg = message_enqueue(purpose="group:1", member=m, channel="sms", kind="transactional", body="通知")
    assert "group:1" not in login(staff, "marketer").get(URL).content.decode()
    assert login(staff, "marketer").get(f"{URL}{msg.pk}/change/").status_code == 302  # not found → list
    assert "group:1" in login(staff, "service_manager").get(URL).content.decode()


@pytest.mark.parametrize("role", ["service_agent", "cashier", "analyst"])
def test_roles_without_the_outbox_permission(staff, message, role):
    assert login(staff, role).get(URL).status_code == 403


def test_service_desk_reads_replies_with_the_number_masked(staff, db):
    from django.db import transaction

    from laoke.core import clock
    from laoke.messaging.services import _inbound_record

    m = member_create(name="回复人", mobile="13800002222")
    with transaction.atomic():
        _inbound_record(
            provider="aliyun",
            from_address=m.mobile,
            text="什么时候发货",
            member_id=m.pk,
            action="stored",
            received_at=clock.now(),
        )
    listing = login(staff, "service_agent").get("/admin/messaging/inboundmessage/").content.decode()
    assert "什么时候发货" in listing and "138****2222" in listing and "13800002222" not in listing
    assert login(staff, "marketer").get("/admin/messaging/inboundmessage/").status_code == 403
