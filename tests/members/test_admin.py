"""Member archive in the console admin: masked PII, audited unmasked forms, the object rule,
search by mobile, the 360 link, and writes through the services."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from laoke.core.models import AuditEntry
from laoke.members.models import Agreement, AttributeDefinition, CardPolicy, CorporateAccount, Member, Tag
from laoke.members.services import (
    corporate_account_create,
    group_account_create,
    member_create,
    membership_card_issue,
)

from .helpers import s2_policy

A = "/admin/members"


def _client(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client()
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    client.user = user
    return client


@pytest.fixture
def member(db):
    return member_create(
        name="李雷",
        mobile="13912345678",
        email="lilei@example.com",
        id_number="11010519491231002X",
        address="上海市浦东新区世纪大道100号",
    )


SECRETS = ("13912345678", "+8613912345678", "lilei@example.com", "世纪大道", "11010519491231002X")


def test_list_is_masked_and_links_to_the_360_page(staff, member):
    html = _client(staff, "cashier").get(f"{A}/member/").content.decode()
    assert "139****5678" in html
    assert not [s for s in SECRETS if s in html]
    assert f'href="/admin/console/member/{member.pk}/"' in html


def test_change_form_shows_no_raw_pii_to_a_user_without_view_pii(staff, member):
    r = _client(staff, "cashier").get(f"{A}/member/{member.pk}/change/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "139****5678" in html and "上海市****" in html
    assert not [s for s in SECRETS if s in html]
    assert not AuditEntry.objects.filter(action="pii.view").exists()


def test_unmasked_change_form_is_audited(staff, member):
    client = _client(staff, "service_agent")
    html = client.get(f"{A}/member/{member.pk}/change/").content.decode()
    assert "13912345678" in html and "世纪大道" in html
    row = AuditEntry.objects.get(action="pii.view", object_id=str(member.pk))
    assert row.actor == client.user and row.after["where"] == "admin"


def test_object_rule_in_the_admin(staff, db):
    group = group_account_create(name="某公司")
    grouped = member_create(name="集体成员", group_account=group)
    single = member_create(name="个人会员")
    agent, manager = _client(staff, "service_agent"), _client(staff, "service_manager")
    html = agent.get(f"{A}/member/").content.decode()
    assert single.code in html and grouped.code not in html
    assert agent.get(f"{A}/member/{grouped.pk}/change/").status_code == 302  # "doesn't exist"
    assert grouped.code in manager.get(f"{A}/member/").content.decode()
    s2_policy()
    card = membership_card_issue(member_id=grouped.pk)
    _grant(agent, "view_membershipcard")
    assert card.number not in agent.get(f"{A}/membershipcard/").content.decode()
    assert card.number in _client(staff, "admin").get(f"{A}/membershipcard/").content.decode()


def test_search_by_mobile_in_any_format(staff, member):
    other = member_create(name="韩梅梅", mobile="13700002222")
    client = _client(staff, "cashier")
    for q in ("139-1234-5678", "+86 139 1234 5678", member.code, "李雷"):
        html = client.get(f"{A}/member/", {"q": q}).content.decode()
        assert member.code in html and other.code not in html, q


def test_edit_through_the_service_with_form_errors(staff, member):
    client = _client(staff, "service_agent")
    form = {
        "name": "李雷雷",
        "mobile": "13912345678",
        "email": "lilei@example.com",
        "gender": "",
        "birthday": "",
        "id_number": "11010519491231002X",
        "address_raw": "上海市浦东新区世纪大道100号",
        "source": "store",
        "notes": "",
    }
    r = client.post(f"{A}/member/{member.pk}/change/", form)
    assert r.status_code == 302, r.content.decode()[:3000]
    row = AuditEntry.objects.get(action="member.update", object_id=str(member.pk))
    assert (row.before, row.after, row.actor) == ({"name": "李雷"}, {"name": "李雷雷"}, client.user)
    n = AuditEntry.objects.filter(action="member.update").count()
    r = client.post(f"{A}/member/{member.pk}/change/", {**form, "address_raw": "随便写写"})
    assert r.status_code == 200 and "Cannot find the province/city" in r.content.decode()
    r = client.post(f"{A}/member/{member.pk}/change/", {**form, "mobile": "12345"})
    assert r.status_code == 200 and "Invalid mobile" in r.content.decode()
    assert AuditEntry.objects.filter(action="member.update").count() == n
    assert Member.objects.get(pk=member.pk).address_raw == "上海市浦东新区世纪大道100号"


def _grant(client, *codenames):
    client.user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="members", codename__in=codenames)
    )


def test_a_user_without_view_pii_cannot_see_or_change_pii_in_the_form(staff, member):
    cashier = _client(staff, "cashier")
    r = cashier.post(f"{A}/member/{member.pk}/change/", {"name": "x", "mobile": "13000000000"})
    assert r.status_code == 403  # cashiers register members but do not edit them
    _grant(cashier, "change_member")  # a user who may edit, but not see PII
    r = cashier.post(
        f"{A}/member/{member.pk}/change/",
        {
            "name": "李雷改",
            "source": "store",
            "gender": "",
            "notes": "",
            "mobile": "13000000000",
            "address_raw": "",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    member.refresh_from_db()
    assert member.name == "李雷改"
    assert (member.mobile, member.address_raw) == ("+8613912345678", "上海市浦东新区世纪大道100号")


def test_group_contact_mobile_is_masked(staff, db):
    group = group_account_create(name="某某科技", contact_mobile="13911112222")
    html = _client(staff, "cashier").get(f"{A}/groupaccount/{group.pk}/change/").content.decode()
    assert "139****2222" in html and "13911112222" not in html
    html = _client(staff, "service_manager").get(f"{A}/groupaccount/{group.pk}/change/").content.decode()
    assert "13911112222" in html or "+8613911112222" in html


def test_group_account_through_the_admin(staff, db):
    client = _client(staff, "service_manager")
    r = client.post(
        f"{A}/groupaccount/add/", {"name": "某某公司", "kind": "company", "contact_mobile": "010-1234"}
    )
    assert r.status_code == 200 and "Invalid mobile" in r.content.decode()
    r = client.post(
        f"{A}/groupaccount/add/", {"name": "某某公司", "kind": "company", "contact_mobile": "139 1111 2222"}
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert AuditEntry.objects.get(action="group_account.create").after["contact_mobile"] == "+8613911112222"


def test_corporate_archive_through_the_admin(staff, db):
    client = _client(staff, "service_manager")
    r = client.post(
        f"{A}/corporateaccount/add/",
        {
            "unit_name": "某某大酒店",
            "klass": "key",
            "contact_name": "王总",
            "position": "",
            "phone": "0571-88881234",
            "address": "",
            "annual_spend_yuan": "12345.67",
            "agreed_discount_bp": "9000",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    corp = CorporateAccount.objects.get()
    assert (corp.annual_spend_fen, corp.agreed_discount_bp, corp.phone) == (1_234_567, 9000, "0571-88881234")
    assert AuditEntry.objects.filter(action="corporate.create").count() == 1
    other = corporate_account_create(data={"unit_name": "某某会展中心", "phone": "13912345678"})
    cashier = _client(staff, "cashier")
    _grant(cashier, "view_corporateaccount")
    html = cashier.get(f"{A}/corporateaccount/").content.decode()
    assert "139****5678" in html and "13912345678" not in html and "0571-88881234" not in html
    assert other.unit_name in html


def test_tags_and_attributes_through_the_admin(staff, db):
    marketer = _client(staff, "marketer")
    r = marketer.post(f"{A}/tag/add/", {"name": "糖尿病", "kind": "sensitive"})
    assert r.status_code == 200 and "sensitive" in r.content.decode()
    assert not Tag.objects.exists()
    assert marketer.post(f"{A}/tag/add/", {"name": "在意尺码", "kind": "psychographic"}).status_code == 302
    assert AuditEntry.objects.get(action="tag.create").after == {"name": "在意尺码", "kind": "psychographic"}
    admin = _client(staff, "admin")
    r = admin.post(f"{A}/attributedefinition/add/", {"key": "size", "label": "尺码", "type": "choice"})
    assert r.status_code == 200 and not AttributeDefinition.objects.exists()
    r = admin.post(
        f"{A}/attributedefinition/add/",
        {"key": "size", "label": "尺码", "type": "choice", "choices_text": "S\nM\n\nL\n"},
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert AttributeDefinition.objects.get().choices == ["S", "M", "L"]


def test_card_policy_and_agreement_through_the_admin(staff, db):
    admin = _client(staff, "admin")
    form = {
        "name": "超市会员卡",
        "validity_days": "730",
        "fee_yuan": "5",
        "group_fee_bp": "8000",
        "waiver_threshold_yuan": "200.00",
        "replacement_fee_yuan": "2",
        "activate": "on",
    }
    assert admin.post(f"{A}/cardpolicy/add/", form).status_code == 302
    policy = CardPolicy.objects.get()
    assert (policy.fee_fen, policy.waiver_threshold_fen, policy.replacement_fee_fen) == (500, 20_000, 200)
    assert policy.is_active
    r = admin.post(f"{A}/cardpolicy/add/", {**form, "name": "商场会员卡", "fee_yuan": "0", "activate": ""})
    assert r.status_code == 302
    mall = CardPolicy.objects.get(name="商场会员卡")
    r = admin.post(f"{A}/cardpolicy/", {"action": "activate", "_selected_action": [mall.pk]})
    assert r.status_code == 302
    assert list(CardPolicy.objects.filter(is_active=True)) == [mall]
    assert AuditEntry.objects.filter(action="card_policy.activate").count() == 1

    r = admin.post(f"{A}/agreement/add/", {"version": "1.0", "title": "会员协议", "body": "草稿"})
    assert r.status_code == 302
    draft = Agreement.objects.get()
    assert draft.published_at is None
    r = admin.post(
        f"{A}/agreement/{draft.pk}/change/", {"title": "会员协议", "body": "定稿", "publish": "on"}
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    draft.refresh_from_db()
    assert draft.published_at is not None and draft.body == "定稿"
    r = admin.post(f"{A}/agreement/{draft.pk}/change/", {"title": "改", "body": "改"})
    assert r.status_code == 403  # a published text is frozen
