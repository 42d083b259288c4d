"""The console pages (each renders for a permitted role, 403 for one that is not; the handling
form records an outcome; the object rule: an agent sees no other agent's case) and the API (file,
contact, resolve; escalate; libraries search; a reactivation rule approved by the general
manager, refused for its requester)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from laoke.members.accounts import group_account_create
from laoke.service.models import ServiceCase
from laoke.service.presets import service_presets_install
from laoke.service.services import case_file

pytestmark = pytest.mark.django_db
PAGES = ("service_index", "service_libraries", "service_rules")


def _login(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "role,allowed",
    [
        ("service_agent", {"service_index", "service_libraries"}),
        ("service_manager", set(PAGES)),
        ("cashier", set()),
    ],
)
def test_pages_by_role(desk, role, allowed):
    service_presets_install()
    client = _login(desk.staff(role))
    for page in PAGES:
        response = client.get(reverse(page))
        assert response.status_code == (200 if page in allowed else 403), (role, page)
    if "service_rules" in allowed:
        body = client.get(reverse("service_rules")).content.decode()
        assert "春节" in body and "休眠30天唤醒" in body and "分公司负责人" in body


def test_queue_and_case_page_handle_a_case(desk):
    member = desk.customer(name="王女士")
    case = case_file(member_id=member.pk, level="dissatisfied", text="鞋子开胶")
    other = case_file(member_id=desk.customer().pk, level="neutral")
    ServiceCase.objects.filter(pk=other.pk).update(assignee=desk.staff("service_agent"))
    client = _login(desk.agent)
    queue = client.get(reverse("service_index")).content.decode()
    assert f'data-case="{case.pk}"' in queue and f'data-case="{other.pk}"' not in queue
    assert client.get(reverse("service_case", args=[other.pk])).status_code == 404  # not theirs
    page = reverse("service_case", args=[case.pk])
    assert "鞋子开胶" in client.get(page).content.decode()
    client.post(page, {"action": "contact", "outcome": "reached", "method": "phone", "note": "已致歉"})
    client.post(page, {"action": "resolve", "outcome": "补寄新鞋"})
    case.refresh_from_db()
    assert (case.state, case.outcome, case.contacts.count()) == ("resolved", "补寄新鞋", 1)
    # filing from the queue page
    response = client.post(
        reverse("service_case_new"), {"member_code": member.code, "level": "criticism", "source": "phone"}
    )
    assert response.status_code == 302
    assert ServiceCase.objects.filter(member=member, level="criticism", method="visit").exists()


def test_agents_do_not_see_group_members_cases(desk):
    group = group_account_create(name="某公司")
    case = case_file(member_id=desk.customer(group_account=group).pk, level="neutral")
    assert case.assignee_id == desk.manager.pk
    client = _login(desk.agent)
    assert client.get(reverse("service_case", args=[case.pk])).status_code == 404
    assert _login(desk.manager).get(reverse("service_case", args=[case.pk])).status_code == 200


def test_api_case_flow(desk, api):
    agent = api("service_agent", user=desk.agent)
    member = desk.customer()
    r = agent.post(
        "/api/v1/service/cases",
        {"member_id": member.pk, "level": "dissatisfied", "text": "物流太慢", "source": "phone"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["method"], body["assignee_id"], body["state"]) == ("phone", desk.agent.pk, "open")
    cid = body["id"]
    r = agent.post(
        f"/api/v1/service/cases/{cid}/contact", {"outcome": "reached"}, content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["state"] == "in_progress"
    r = agent.post(
        f"/api/v1/service/cases/{cid}/escalate", {"reason": "要求赔偿"}, content_type="application/json"
    )
    assert r.json()["escalation_level"] == 1 and r.json()["assignee_id"] == desk.branch.pk
    # the agent no longer owns it: the object rule hides it
    assert agent.get(f"/api/v1/service/cases/{cid}").status_code == 404
    boss = api("sales_manager", user=desk.branch)
    r = boss.post(
        f"/api/v1/service/cases/{cid}/resolve", {"outcome": "补偿10元券"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    r = boss.post(
        f"/api/v1/service/cases/{cid}/resolve", {"outcome": "again"}, content_type="application/json"
    )
    assert r.status_code == 409 and r.json()["code"] == "SERVICE_CASE_STATE"
    bad = agent.post(
        "/api/v1/service/cases", {"member_id": member.pk, "level": "x"}, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["code"] == "SERVICE_CASE_LEVEL"


def test_api_handling_table_change(desk, api):
    marketing = api("marketer", user=desk.marketer)
    r = marketing.put(
        "/api/v1/service/handling-rules/dissatisfied",
        {"method": "visit", "due_hours": 12},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    case = case_file(member_id=desk.customer().pk, level="dissatisfied")
    assert (case.method, (case.due_at - case.created_at).total_seconds()) == ("visit", 12 * 3600)
    r = marketing.put(
        "/api/v1/service/handling-rules/dissatisfied",
        {"method": "fax", "due_hours": 12},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["code"] == "SERVICE_HANDLING_INVALID"


def test_api_libraries_and_rule_approval(desk, api):
    service_presets_install()
    agent = api("service_agent", user=desk.agent)
    found = agent.get("/api/v1/service/care-articles", {"q": "奶粉"}).json()
    assert {a["title"] for a in found} == {"宝宝一天吃几次", "保质期与储存"}
    tree = agent.get("/api/v1/service/case-categories").json()
    assert [t["name"] for t in tree] == sorted(t["name"] for t in tree) and len(tree) == 4
    complaints = next(t for t in tree if t["name"] == "投诉录音")
    calls = agent.get("/api/v1/service/call-cases", {"category_id": complaints["id"]}).json()
    assert [c["category"] for c in calls] == ["投诉录音 / 越级投诉"]
    marketing = api("marketer", user=desk.marketer)
    templates = marketing.get("/api/v1/service/reactivation-rules").json()
    r = marketing.post(
        "/api/v1/service/reactivation-rules",
        {"name": "60天未购", "kind": "dormant", "idle_days": 60, "template_id": templates[0]["template_id"]},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["is_active"] is False
    rid = r.json()["id"]
    gm = api("general_manager", user=desk.gm)
    assert gm.post(f"/api/v1/service/reactivation-rules/{rid}/approve").json()["is_active"] is True
    r = gm.post(f"/api/v1/service/reactivation-rules/{rid}/approve")
    assert r.status_code == 409


def test_managers_and_the_admin_see_every_case_agents_their_own_and_the_unassigned(desk, django_user_model):
    mine = case_file(member_id=desk.customer().pk, level="dissatisfied")
    assert mine.assignee_id == desk.agent.pk
    other_agent = desk.staff("service_agent")
    theirs = case_file(member_id=desk.customer().pk, level="neutral")
    assert theirs.assignee_id == other_agent.pk
    admin = django_user_model.objects.create_superuser(username="boss", password="test-password-123")
    for user, expected in [
        (desk.manager, {mine.pk, theirs.pk}),
        (desk.gm, {mine.pk, theirs.pk}),
        (admin, {mine.pk, theirs.pk}),
        (desk.agent, {mine.pk}),
    ]:
        page = _login(user).get(reverse("service_index") + "?state=open&mine=0")
        shown = {row["case"].pk for row in page.context["rows"]}
        assert shown == expected, user.username
