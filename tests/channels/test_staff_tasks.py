"""Staff tasks: once per (purpose, member) — single and bulk; who sees and completes what
(agents: their own and unassigned; managers: all, assign, cancel); outcomes valid per kind; the
anonymisation tick; the direct-mail xlsx (opens with openpyxl, has the rows, is audited)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from openpyxl import load_workbook

from laoke.channels.exports import HEADERS, mail_export
from laoke.channels.models import StaffTask
from laoke.channels.services import (
    TaskRow,
    _staff_task_create,
    _staff_tasks_create_bulk,
    staff_task_assign,
    staff_task_cancel,
    staff_task_complete,
    staff_tasks_privacy_tick,
)
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.privacy import member_forget
from laoke.members.services import member_create

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
WAVE = "campaign:7:wave:3:loop:1"


@pytest.fixture
def members(db):
    with clock.frozen(T0):
        return [
            member_create(name="张三", mobile="13800000001", address="浙江省杭州市西湖区文三路 90 号"),
            member_create(name="李四", mobile="13800000002", address="上海市浦东新区世纪大道 100 号"),
            member_create(name="王五", mobile="13800000003"),
        ]


def test_create_is_idempotent_single_and_bulk(members):
    a, b, c = members
    with clock.frozen(T0), transaction.atomic():
        first = _staff_task_create(purpose=WAVE, member=a, kind="call", body="感谢回购，介绍新品", due_at=T0)
        again = _staff_task_create(purpose=WAVE, member=a, kind="call", body="另一段话术", due_at=None)
        assert again.pk == first.pk and again.body == "感谢回购，介绍新品"
        rows = [TaskRow(purpose=WAVE, member_id=m.pk, kind="call", body="话术", due_at=T0) for m in (a, b, c)]
        _staff_tasks_create_bulk(rows)
        _staff_tasks_create_bulk(rows)  # a restarted wave
    assert StaffTask.objects.filter(purpose=WAVE).count() == 3
    assert StaffTask.objects.get(purpose=WAVE, member=a).body == "感谢回购，介绍新品"


def _tasks(members, kind="call", purpose=WAVE):
    with clock.frozen(T0), transaction.atomic():
        _staff_tasks_create_bulk(
            [
                TaskRow(purpose=purpose, member_id=m.pk, kind=kind, body="话术", channel_code="DM11")
                for m in members
            ]
        )
    return list(StaffTask.objects.filter(purpose=purpose).order_by("pk"))


def test_agents_managers_and_outcomes(members, staff, api):
    t1, t2, t3 = _tasks(members)
    agent, other = staff("service_agent"), staff("service_agent")
    manager = staff("service_manager")
    staff_task_assign(task_id=t1.pk, assignee_id=agent.pk, actor=manager)
    staff_task_assign(task_id=t2.pk, assignee_id=other.pk, actor=manager)
    client = api("service_agent", user=agent)
    listed = client.get("/api/v1/channels/tasks?state=open").json()["items"]
    assert sorted(t["id"] for t in listed) == [t1.pk, t3.pk]  # own + unassigned, not the colleague's
    assert [t["id"] for t in client.get("/api/v1/channels/tasks?mine=true").json()["items"]] == [t1.pk]
    assert {t["id"]: t["mobile"] for t in listed}[t1.pk] == "+8613800000001"  # agents call: the full number
    P = "/api/v1/channels/tasks"
    r = client.post(f"{P}/{t2.pk}/complete", {"outcome": "reached"}, content_type="application/json")
    assert r.status_code == 404  # not visible to this agent at all
    with pytest.raises(DomainError) as err:  # and the service refuses it too
        staff_task_complete(task_id=t2.pk, outcome="reached", actor=agent)
    assert err.value.code == "STAFF_TASK_NOT_YOURS"
    with clock.frozen(T0 + timedelta(hours=1)):
        r = client.post(
            f"{P}/{t3.pk}/complete",
            {"outcome": "purchased", "note": "下单了"},
            content_type="application/json",
        )
    assert r.status_code == 200, r.content
    done = r.json()
    assert (done["state"], done["outcome"], done["assignee_id"]) == (
        "done",
        "purchased",
        agent.pk,
    )  # picked up
    again = client.post(f"{P}/{t3.pk}/complete", {"outcome": "reached"}, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "STAFF_TASK_NOT_OPEN")
    bad = client.post(f"{P}/{t1.pk}/complete", {"outcome": "mailed"}, content_type="application/json")
    assert (bad.status_code, bad.json()["code"]) == (422, "STAFF_TASK_OUTCOME_INVALID")
    assert (
        client.post(
            f"{P}/{t1.pk}/assign", {"assignee_id": agent.pk}, content_type="application/json"
        ).status_code
        == 403
    )
    boss = api("service_manager", user=manager)
    assert (
        boss.post(
            f"{P}/{t2.pk}/complete", {"outcome": "no_answer"}, content_type="application/json"
        ).status_code
        == 200
    )
    assert (
        boss.post(f"{P}/{t1.pk}/cancel", {"note": "重复"}, content_type="application/json").json()["state"]
        == "cancelled"
    )
    row = StaffTask.objects.get(pk=t3.pk)
    assert (row.done_by_id, row.done_at, row.note) == (agent.pk, T0 + timedelta(hours=1), "下单了")
    actions = list(
        AuditEntry.objects.filter(object_type="channels.stafftask")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "channels.task.assign",
        "channels.task.assign",
        "channels.task.complete",
        "channels.task.complete",
        "channels.task.cancel",
    ]


def test_anonymised_members_tasks_are_cancelled_and_scrubbed(members, staff):
    t1, t2, _ = _tasks(members)
    staff_task_complete(
        task_id=t2.pk, outcome="reached", note="客户说想要红色", actor=staff("service_manager")
    )
    member_forget(member_id=members[0].pk, reason="PIPL request")
    member_forget(member_id=members[1].pk, reason="PIPL request")
    assert staff_tasks_privacy_tick(T0) == 2
    t1.refresh_from_db()
    t2.refresh_from_db()
    assert (t1.state, t1.body, t1.note) == ("cancelled", "", "member anonymised")
    assert (t2.state, t2.outcome, t2.body, t2.note) == ("done", "reached", "", "")
    assert staff_tasks_privacy_tick(T0) == 0  # nothing left to do


def test_mail_export_xlsx(members, api):
    _tasks(members, kind="mail", purpose="campaign:9:wave:1:loop:1")
    _tasks(members[:1], kind="mail", purpose="campaign:10:wave:1:loop:1")
    cancelled = StaffTask.objects.get(purpose="campaign:9:wave:1:loop:1", member=members[2])
    staff_task_cancel(task_id=cancelled.pk)
    client = api("service_manager")
    r = client.get("/api/v1/channels/mail-export?purpose_prefix=campaign:9:")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    body = [dict(zip(HEADERS, row, strict=True)) for row in rows[1:]]
    assert [(x["name"], x["channel_code"]) for x in body] == [("张三", "DM11"), ("李四", "DM11")]
    assert [(x["full_address"], x["mobile"]) for x in body] == [
        ("浙江省杭州市西湖区文三路 90 号", "13800000001"),
        ("上海市浦东新区世纪大道 100 号", "13800000002"),  # the city 上海市 is not repeated
    ]
    audit = AuditEntry.objects.filter(action="channels.mail_export").get()
    assert audit.after["rows"] == 2 and audit.actor_id == client.user.pk
    by_id = load_workbook(io.BytesIO(mail_export(task_ids=[body[1]["task_id"]])), read_only=True).active
    assert [row[2] for row in by_id.iter_rows(min_row=2, values_only=True)] == ["李四"]
    empty = client.get("/api/v1/channels/mail-export")
    assert (empty.status_code, empty.json()["code"]) == (422, "DIRECT_MAIL_SELECTION_REQUIRED")
    assert (
        api("service_agent").get("/api/v1/channels/mail-export?purpose_prefix=campaign:9:").status_code == 403
    )
