"""Console pages through Django's test client (the browser tests cover the same in Chromium)."""

import pytest
from django.test import Client

from laoke.core.models import AuditEntry
from laoke.members.services import group_account_create, member_create


def _client(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client()
    assert client.login(username=user.username, password="console-pass-1")
    return client


@pytest.fixture
def member(db):
    return member_create(name="李雷", mobile="13912345678", address="上海市浦东新区世纪大道100号")


def test_dashboard_shows_kpis_and_chart(staff, member):
    r = _client(staff, "marketer").get("/admin/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="kpis"' in html and "new-members-chart" in html
    assert "每日新增会员" in html  # zh-hans by default


def test_member_360_masks_for_cashier_and_audits_admin(staff, member):
    r = _client(staff, "cashier").get(f"/admin/console/member/{member.pk}/")
    html = r.content.decode()
    assert r.status_code == 200 and "139****5678" in html and "13912345678" not in html
    assert "世纪大道" not in html
    assert not AuditEntry.objects.filter(action="pii.view").exists()
    r = _client(staff, "admin").get(f"/admin/console/member/{member.pk}/")
    assert "13912345678" in r.content.decode()
    assert AuditEntry.objects.filter(action="pii.view", object_id=str(member.pk)).count() == 1


def test_agent_gets_404_for_group_member(staff, db):
    group = group_account_create(name="某公司")
    m = member_create(name="集体成员", group_account=group)
    assert _client(staff, "service_agent").get(f"/admin/console/member/{m.pk}/").status_code == 404
    assert _client(staff, "service_manager").get(f"/admin/console/member/{m.pk}/").status_code == 200


def test_member_list_in_admin_is_masked_for_cashier(staff, member):
    html = _client(staff, "cashier").get("/admin/members/member/").content.decode()
    assert "139****5678" in html and "13912345678" not in html


def test_admin_can_register_a_member_through_the_service(staff, db):
    client = _client(staff, "admin")
    r = client.post(
        "/admin/members/member/add/",
        {
            "name": "韩梅梅",
            "mobile": "137 0000 2222",
            "source": "store",
            "gender": "",
            "address_raw": "",
            "notes": "",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    row = AuditEntry.objects.get(action="member.create")
    assert row.after["mobile"] == "+8613700002222"
    r = client.post(
        "/admin/members/member/add/",
        {
            "name": "重复",
            "mobile": "13700002222",
            "source": "store",
            "gender": "",
            "address_raw": "",
            "notes": "",
        },
    )
    assert r.status_code == 200 and "该手机号已被其他会员使用" in r.content.decode()


def test_english_when_chosen(staff, member):
    client = _client(staff, "marketer")
    client.cookies["django_language"] = "en"
    assert "New members per day" in client.get("/admin/").content.decode()


def test_anonymous_is_sent_to_login(db):
    r = Client().get("/admin/console/member/1/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
