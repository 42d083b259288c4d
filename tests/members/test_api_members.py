"""Members API: bad input gives a stable code and writes nothing; masking; object rule."""

import pytest

from laoke.core.models import AuditEntry
from laoke.members.models import Member
from laoke.members.services import group_account_create, member_create

J = "application/json"


def _post(client, body, **headers):
    return client.post("/api/v1/members", body, content_type=J, **headers)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "张三", "mobile": "12345"}, 422, "MEMBER_MOBILE_INVALID"),
        ({"name": "张三", "address": "随便写写"}, 422, "ADDRESS_UNPARSEABLE"),
        ({"name": "张" * 61}, 422, "VALIDATION_ERROR"),
        ({"name": "张三", "notes": "x" * 2001}, 422, "VALIDATION_ERROR"),
        ({"name": ["not", "a", "string"]}, 422, "VALIDATION_ERROR"),
        ({"name": "张三", "birthday": "yesterday"}, 422, "VALIDATION_ERROR"),
        ({"name": "张三", "consents": {"fax": True}}, 422, "VALIDATION_ERROR"),
        ({"name": "张三", "email": "not-an-email"}, 422, "MEMBER_EMAIL_INVALID"),
        ({"name": "张三", "id_number": "110105194912310021"}, 422, "ID_NUMBER_INVALID"),
        ({"name": "张三", "birthday": "2999-01-01"}, 422, "BIRTHDAY_INVALID"),
    ],
)
def test_bad_input_is_rejected_and_nothing_written(api, body, status, code):
    client = api("service_agent")
    before = (Member.objects.count(), AuditEntry.objects.count())
    r = _post(client, body)
    assert r.status_code == status, r.content
    data = r.json()
    assert data["code"] == code
    assert data["message"]
    assert (Member.objects.count(), AuditEntry.objects.count()) == before


def test_error_message_in_chinese_by_default(api):
    client = api("service_agent", lang="zh-hans")
    r = _post(client, {"name": "张三", "mobile": "12345"})
    assert r.json()["message"].startswith("手机号无效")


def test_duplicate_mobile_is_409_and_not_written(api):
    client = api("service_agent")
    assert _post(client, {"name": "甲", "mobile": "13800138000"}).status_code == 201
    n = Member.objects.count()
    r = _post(client, {"name": "乙", "mobile": "+86 138 0013 8000"})
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_MOBILE_TAKEN"
    assert Member.objects.count() == n


def test_create_parses_address_and_stores_e164(api):
    client = api("service_agent")
    r = _post(
        client,
        {
            "name": "王五",
            "mobile": "139 1234 5678",
            "address": "浙江省杭州市西湖区文三路1号",
            "consents": {"sms": True},
        },
    )
    assert r.status_code == 201, r.content
    m = Member.objects.get(pk=r.json()["id"])
    assert m.mobile == "+8613912345678"
    assert (m.province, m.city, m.district) == ("浙江省", "杭州市", "西湖区")
    assert m.consents.get(channel="sms").state == "granted"


def test_cashier_sees_masked_mobile_admin_sees_full_with_audit(api, db):
    member = member_create(name="李四", mobile="13812345678")
    cashier = api("cashier")
    r = cashier.get(f"/api/v1/members/{member.pk}")
    assert r.status_code == 200
    assert r.json()["mobile"] == "138****5678" and r.json()["pii_masked"] is True
    assert "13812345678" not in r.content.decode()
    assert not AuditEntry.objects.filter(action="pii.view", object_id=str(member.pk)).exists()

    admin = api("admin")
    r = admin.get(f"/api/v1/members/{member.pk}")
    assert r.json()["mobile"] == "13812345678" and r.json()["pii_masked"] is False
    row = AuditEntry.objects.get(action="pii.view", object_id=str(member.pk))
    assert row.actor == admin.user


def test_token_without_pii_scope_gets_masked(api, db):
    member = member_create(name="李四", mobile="13812345678")
    client = api("admin", scopes=["members:read"])
    assert client.get(f"/api/v1/members/{member.pk}").json()["mobile"] == "138****5678"


def test_agent_cannot_see_group_member_manager_can(api, db):
    group = group_account_create(name="某某公司")
    member = member_create(name="集体会员", group_account=group)
    assert api("service_agent").get(f"/api/v1/members/{member.pk}").status_code == 404
    assert api("service_manager").get(f"/api/v1/members/{member.pk}").status_code == 200
    listed = api("service_agent").get("/api/v1/members").json()["items"]
    assert member.pk not in [m["id"] for m in listed]


def test_search_by_mobile_in_any_format(api, db):
    member = member_create(name="赵六", mobile="13700001111")
    r = api("cashier").get("/api/v1/members", {"q": "137-0000-1111"})
    assert [m["id"] for m in r.json()["items"]] == [member.pk]


def test_cursor_pagination_walks_all(api, db):
    ids = {member_create(name=f"m{i}").pk for i in range(7)}
    client = api("cashier")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/members", params).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(seen) == ids and len(seen) == len(ids)
    assert client.get("/api/v1/members", {"cursor": "!!"}).json()["code"] == "INVALID_CURSOR"
