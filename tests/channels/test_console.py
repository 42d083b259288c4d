"""Console pages: the template editor (errors shown, preview with counts, save), 客服's call list
with outcome buttons, the direct-mail download for managers only."""

from __future__ import annotations

import io

import pytest
from django.db import transaction
from django.test import Client
from openpyxl import load_workbook

from laoke.channels.models import MessageTemplate, StaffTask
from laoke.channels.services import TaskRow, _staff_tasks_create_bulk
from laoke.members.services import member_create

OPT = "回T退订"


def _login(staff, role):
    user = staff(role)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_template_editor(staff, db):
    c = _login(staff, "marketer")
    page = c.get("/admin/console/channels/templates/new/")
    assert page.status_code == 200 and b'id="sms-counter"' in page.content
    form = {
        "name": "回购提醒",
        "channel": "sms",
        "kind": "marketing",
        "signature": "老客",
        "body": "{name}您好",
        "is_active": "on",
    }
    bad = c.post("/admin/console/channels/templates/new/", {**form, "action": "save"})
    assert bad.status_code == 422 and b'data-testid="template-errors"' in bad.content
    assert not MessageTemplate.objects.exists()
    m = member_create(name="周七", mobile="13800007777")
    prev = c.post(
        "/admin/console/channels/templates/new/",
        {**form, "body": "{name}您好，" + OPT, "member": m.code, "action": "preview"},
    )
    assert prev.status_code == 200
    assert "【老客】周七您好，回T退订".encode() in prev.content
    assert prev.context["preview"]["out"].segments == 1 and prev.context["preview"]["out"].cost_fen == 5
    live = c.post("/admin/console/channels/templates/preview/", {**form, "body": "字" * 70})  # htmx partial
    assert live.status_code == 200 and b"<html" not in live.content
    assert (live.context["preview"]["out"].segments, live.context["preview"]["chars"]) == (2, 74)
    assert b'data-testid="preview-problems"' in live.content  # no opt-out at the end
    assert c.get("/admin/console/channels/templates/preview/").status_code == 405
    ok = c.post(
        "/admin/console/channels/templates/new/", {**form, "body": "{name}您好，" + OPT, "action": "save"}
    )
    assert ok.status_code == 302
    t = MessageTemplate.objects.get()
    assert ok["Location"].endswith(f"/admin/console/channels/templates/{t.pk}/")
    assert c.get("/admin/console/channels/templates/").status_code == 200
    analyst = _login(staff, "analyst")
    assert analyst.get(f"/admin/console/channels/templates/{t.pk}/").status_code == 200  # may read
    denied = analyst.post(f"/admin/console/channels/templates/{t.pk}/", {**form, "action": "save"})
    assert denied.status_code == 403
    assert _login(staff, "cashier").get("/admin/console/channels/templates/").status_code == 403


def test_call_list_outcome_and_mail_export(staff, db):
    m1 = member_create(name="吴八", mobile="13800008888", address="浙江省杭州市西湖区文三路 1 号")
    m2 = member_create(name="郑九", mobile="13800009999", address="浙江省杭州市西湖区文三路 2 号")
    with transaction.atomic():
        _staff_tasks_create_bulk(
            [
                TaskRow(purpose="campaign:1:wave:1:loop:1", member_id=m1.pk, kind="call", body="回访话术"),
                TaskRow(purpose="campaign:1:wave:2:loop:1", member_id=m2.pk, kind="mail", channel_code="DM1"),
            ]
        )
    agent = _login(staff, "service_agent")
    page = agent.get("/admin/console/channels/tasks/")
    assert page.status_code == 200 and "回访话术".encode() in page.content
    assert b'data-testid="mail-export"' not in page.content  # agents cannot export addresses
    call = StaffTask.objects.get(kind="call")
    r = agent.post(
        "/admin/console/channels/tasks/",
        {"action": "complete", "task_id": call.pk, "outcome": "reached", "note": "ok"},
    )
    assert r.status_code == 302
    call.refresh_from_db()
    assert (call.state, call.outcome, call.done_by_id) == ("done", "reached", agent.user.pk)
    assert agent.get("/admin/console/channels/mail-export/?purpose_prefix=campaign:1:").status_code == 403
    manager = _login(staff, "service_manager")
    assert b'data-testid="mail-export"' in manager.get("/admin/console/channels/tasks/?kind=mail").content
    xlsx = manager.get("/admin/console/channels/mail-export/?purpose_prefix=campaign:1:")
    assert xlsx.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(xlsx.content), read_only=True).active.iter_rows(min_row=2, values_only=True)
    )
    assert [(r[2], r[9]) for r in rows] == [("郑九", "DM1")]


@pytest.mark.parametrize("path", ["/admin/console/channels/templates/", "/admin/console/channels/tasks/"])
def test_console_pages_need_login(client, db, path):
    assert client.get(path).status_code == 302


def test_admin_lists_are_read_only_and_scoped(staff, db):
    m1 = member_create(name="甲", mobile="13800001201")
    m2 = member_create(name="乙", mobile="13800001202")
    manager = staff("service_manager")
    with transaction.atomic():
        _staff_tasks_create_bulk(
            [
                TaskRow(purpose="c:9", member_id=m1.pk, kind="call", assignee_id=manager.pk),
                TaskRow(purpose="c:9", member_id=m2.pk, kind="call"),
            ]
        )
    agent = _login(staff, "service_agent")
    page = agent.get("/admin/channels/stafftask/")
    assert page.status_code == 200
    assert [t.member_id for t in page.context["cl"].result_list] == [m2.pk]  # not the manager's task
    assert agent.get(
        f"/admin/channels/stafftask/{StaffTask.objects.get(member=m1).pk}/change/"
    ).status_code in (302, 404)
    marketer = _login(staff, "marketer")
    assert marketer.get("/admin/channels/messagetemplate/").status_code == 200
    assert marketer.get("/admin/channels/messagetemplate/add/").status_code == 403
