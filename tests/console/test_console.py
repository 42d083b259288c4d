"""Console pages through Django's test client (the browser tests cover the same in Chromium)."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from laoke.core import clock
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


# --- login throttling -------------------------------------------------------------------------

LOCKED_ZH = "登录失败次数过多，请 15 分钟后再试"


def _login_post(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_login_locks_after_five_failures_and_refuses_the_right_password(staff, settings):
    from datetime import timedelta

    settings.LAOKE_LOGIN_WINDOW_SECONDS = 900
    settings.LAOKE_LOGIN_MAX_FAILURES = 5
    staff("admin", username="boss", password="right-pass-1")
    staff("admin", username="other", password="right-pass-2")
    with clock.frozen(datetime(2026, 3, 1, 2, 0, 30, tzinfo=UTC)):
        client = Client()
        for _ in range(4):
            r = _login_post(client, "other", "wrong")
            assert r.status_code == 200 and LOCKED_ZH not in r.content.decode()
        # negative control: four failures do not lock; the right password still works
        assert _login_post(client, "other", "right-pass-2").status_code == 302

        client = Client()
        for i in range(5):
            r = _login_post(client, "boss", f"wrong-{i}")
            assert r.status_code == 200 and LOCKED_ZH not in r.content.decode()
        r = _login_post(client, "boss", "right-pass-1")
        html = r.content.decode()
        assert r.status_code == 200 and LOCKED_ZH in html
        assert "_auth_user_id" not in client.session
        assert 'name="csrfmiddlewaretoken"' in html  # CSRF stays on the form

        en = Client()
        en.cookies["django_language"] = "en"
        r = _login_post(en, "boss", "right-pass-1")
        assert "Too many failed logins; try again in 15 minutes" in r.content.decode()

        clock.advance(timedelta(minutes=15))
        assert _login_post(Client(), "boss", "right-pass-1").status_code == 302


def test_signing_in_at_the_bare_login_page_lands_on_the_console(staff):
    staff("admin", username="bare", password="right-pass-1")
    r = Client().post("/admin/login/", {"username": "bare", "password": "right-pass-1"})
    assert r.status_code == 302 and r.url == "/admin/", r.get("Location")  # not /accounts/profile/ (404)


def test_login_form_enforces_csrf(staff):
    staff("admin", username="csrfboss", password="right-pass-1")
    client = Client(enforce_csrf_checks=True)
    r = _login_post(client, "csrfboss", "right-pass-1")
    assert r.status_code == 403 and "_auth_user_id" not in client.session


# --- core admin pages -------------------------------------------------------------------------


def test_api_token_created_in_console_shows_secret_once_and_can_be_revoked(staff):
    from laoke.core.models import ApiToken
    from laoke.core.services import api_token_lookup

    client = _client(staff, "admin")
    owner = staff("api_client")
    r = client.post(
        "/admin/core/apitoken/add/",
        {"user": owner.pk, "name": "POS 同步", "scopes": ["members:read"], "expires_at": ""},
        follow=True,
    )
    html = r.content.decode()
    token = ApiToken.objects.get(name="POS 同步")
    secret = html.split("lk_", 1)[1].split("<", 1)[0].split()[0].rstrip("。.")
    secret = "lk_" + secret
    assert api_token_lookup(secret).pk == token.pk  # the shown secret is the real one
    assert token.digest not in html
    # shown once: the list and the detail page never show it again, nor the digest
    for url in ("/admin/core/apitoken/", f"/admin/core/apitoken/{token.pk}/change/"):
        page = client.get(url).content.decode()
        assert secret not in page and token.digest not in page
    assert AuditEntry.objects.filter(action="api_token.create", object_id=str(token.pk)).count() == 1

    r = client.post(
        "/admin/core/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    token.refresh_from_db()
    assert token.revoked_at is not None and api_token_lookup(secret) is None
    assert AuditEntry.objects.filter(action="api_token.revoke", object_id=str(token.pk)).count() == 1


def test_audit_log_is_read_only_and_filterable(staff, db):
    # 2026-03-01 17:30 UTC is 2026-03-02 01:30 in Shanghai: the day differs between the two zones
    with clock.frozen(datetime(2026, 3, 1, 17, 30, 20, tzinfo=UTC)):
        member = member_create(name="韩梅梅", mobile="13700001111")
    client = _client(staff, "admin")
    entry = AuditEntry.objects.get(action="member.create", object_id=str(member.pk))
    assert client.get(f"/admin/core/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    assert client.post(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    html = client.get("/admin/core/auditentry/?action=member.create").content.decode()
    assert "member.create" in html
    assert "delete_selected" not in html  # bulk delete is off site-wide

    def count(day, start, end):
        query = f"at_from_0={day}&at_from_1={start}&at_to_0={day}&at_to_1={end}"
        return client.get("/admin/core/auditentry/?" + query).context["cl"].result_count

    assert client.get("/admin/core/auditentry/?action=user.create").context["cl"].result_count == 1
    # the range is read as shop (Asia/Shanghai) wall-clock time
    assert count("2026-03-02", "01:30", "01:31") == 1
    assert count("2026-03-02", "01:31", "01:40") == 0
    assert count("2026-03-01", "17:00", "18:00") == 0  # the UTC reading would have matched
    assert AuditEntry.objects.filter(action="member.create").count() == 1  # nothing deleted


def test_staff_user_added_in_console_goes_through_the_service(staff, db):
    from django.contrib.auth import get_user_model

    from laoke.core.models import StaffProfile
    from laoke.core.services import store_create

    store = store_create(code="SH01", name="上海一店", kind="store")
    client = _client(staff, "admin")
    r = client.post(
        "/admin/auth/user/add/",
        {
            "username": "till9",
            "password1": "Till-pass-9876",
            "password2": "Till-pass-9876",
            "role": "cashier",
            "store": store.pk,
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    user = get_user_model().objects.get(username="till9")
    assert list(user.groups.values_list("name", flat=True)) == ["cashier"]
    assert user.is_staff and not user.is_superuser and user.check_password("Till-pass-9876")
    assert StaffProfile.objects.get(user=user).store == store
    assert AuditEntry.objects.filter(action="user.create", object_id=str(user.pk)).count() == 1

    # deactivating the user in the console is audited with before/after
    r = client.get(f"/admin/auth/user/{user.pk}/change/")
    assert r.status_code == 200
    data = {
        "username": "till9",
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_staff": "on",
        "groups": [g.pk for g in user.groups.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "staff_profile-TOTAL_FORMS": "1",
        "staff_profile-INITIAL_FORMS": "1",
        "staff_profile-MIN_NUM_FORMS": "0",
        "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-id": StaffProfile.objects.get(user=user).pk,
        "staff_profile-0-user": user.pk,
        "staff_profile-0-store": store.pk,
    }
    r = client.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    row = AuditEntry.objects.get(action="user.change", object_id=str(user.pk))
    assert row.before["is_active"] is True and row.after["is_active"] is False
    assert row.after["groups"] == ["cashier"]


def test_role_groups_are_read_only_in_console(staff):
    from django.contrib.auth.models import Group

    client = _client(staff, "admin")
    group = Group.objects.get(name="cashier")
    assert client.get("/admin/auth/group/").status_code == 200
    assert client.get("/admin/auth/group/add/").status_code == 403
    assert client.post(f"/admin/auth/group/{group.pk}/delete/").status_code == 403


def test_cashier_cannot_open_audit_log_or_tokens(staff):
    client = _client(staff, "cashier")
    assert client.get("/admin/core/auditentry/").status_code == 403
    assert client.get("/admin/core/apitoken/").status_code == 403


def test_member_360_shows_the_whole_member_with_labels_in_shop_time(staff, db):
    from laoke.members.cards import card_policy_activate, membership_card_issue
    from laoke.members.models import CardPolicy
    from laoke.members.services import consent_set, member_lifecycle_set, member_ref_add
    from laoke.members.tagging import (
        attribute_definition_create,
        member_attribute_set,
        member_tag_add,
        tag_create,
    )

    # 2026-03-01 16:30 UTC is 2026-03-02 00:30 in Shanghai
    with clock.frozen(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)):
        m = member_create(name="周杰", mobile="13600001234", gender="M", source="taobao")
        consent_set(member_id=m.pk, channel="sms", granted=True, source="pos")
        consent_set(member_id=m.pk, channel="sms", granted=False, source="sms_reply", note="回复TD")
        tag_create(name="爱喝茶")
        member_tag_add(member_id=m.pk, tag_name="爱喝茶")
        attribute_definition_create(key="shoe_size", label="鞋码", type="integer")
        member_attribute_set(member_id=m.pk, key="shoe_size", value=42)
        member_ref_add(member_id=m.pk, source="taobao", external_id="tb-778899")
        policy = CardPolicy.objects.create(
            name="P",
            validity_days=365,
            fee_fen=0,
            group_fee_bp=10000,
            replacement_fee_fen=0,
            created_at=clock.now(),
        )
        card_policy_activate(policy_id=policy.pk)
        card = membership_card_issue(member_id=m.pk)
        member_lifecycle_set(member_id=m.pk, state="dormant", reason="半年未消费")

    html = _client(staff, "cashier").get(f"/admin/console/member/{m.pk}/").content.decode()
    assert "136****1234" in html and "13600001234" not in html
    for text in ("男", "淘宝/天猫", "爱喝茶", "鞋码", "42", "短信", "已撤回/已退订", "回复TD", "已同意"):
        assert text in html, text
    assert card.number in html and "tb-778899" in html
    assert "注册 → 沉睡 (半年未消费)" in html
    assert "2026-03-02 00:30" in html  # registration shown in shop time
    assert "2026-03-01 16:30" not in html
    assert "sms_reply" in html  # the consent source is kept verbatim


def test_language_switch_through_set_language(staff, member):
    client = _client(staff, "marketer")
    assert "每日新增会员" in client.get("/admin/").content.decode()
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert r.status_code == 302 and r["Location"] == "/admin/"
    html = client.get("/admin/").content.decode()
    assert "New members per day" in html and "每日新增会员" not in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})
    assert "每日新增会员" in client.get("/admin/").content.decode()
