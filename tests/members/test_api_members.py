"""Members API: bad input gives a stable code and writes nothing; masking and audit; object
rule; consent, tags, attributes, groups, cards, corporate archive, merge, PIPL export/forget."""

import io
import json

import pytest
from django.conf import settings
from openpyxl import load_workbook

from laoke.core.models import AuditEntry, IdempotencyRecord
from laoke.core.services import store_create
from laoke.members.models import (
    AttributeValue,
    Consent,
    ConsentEvent,
    CorporateAccount,
    GroupAccount,
    LifecycleEvent,
    Member,
    MemberRef,
    MembershipCard,
    MemberTag,
)
from laoke.members.services import (
    consent_set,
    group_account_create,
    member_create,
    member_lifecycle_set,
    member_mark_permanent,
    tag_create,
)

from .helpers import s2_policy

J = "application/json"
M = "/api/v1/members"


def _post(client, url, body, **headers):
    return client.post(url, body, content_type=J, **headers)


def _rows():
    return tuple(
        model.objects.count()
        for model in (
            Member,
            MemberRef,
            Consent,
            ConsentEvent,
            LifecycleEvent,
            MemberTag,
            AttributeValue,
            MembershipCard,
            GroupAccount,
            CorporateAccount,
            AuditEntry,
            IdempotencyRecord,
        )
    )


# --- registration: bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": "张三", "mobile": "12345"}, 422, "MEMBER_MOBILE_INVALID", "mobile"),
        ({"name": "张三", "mobile": "010-12345678"}, 422, "MEMBER_MOBILE_INVALID", "mobile"),
        ({"name": "张三", "address": "随便写写"}, 422, "ADDRESS_UNPARSEABLE", "address"),
        ({"name": "张三", "address": "中山路1号"}, 422, "ADDRESS_UNPARSEABLE", "address"),
        ({"name": "张三", "email": "not-an-email"}, 422, "MEMBER_EMAIL_INVALID", "email"),
        ({"name": "张三", "id_number": "110105194912310021"}, 422, "ID_NUMBER_INVALID", "id_number"),
        ({"name": "张三", "birthday": "2999-01-01"}, 422, "BIRTHDAY_INVALID", "birthday"),
        ({"name": "张三", "home_store_id": 999_999}, 404, "NOT_FOUND", "home_store"),
        ({"name": "张三", "agreement_version": "9.9"}, 409, "AGREEMENT_NOT_PUBLISHED", "agreement_version"),
        ({"name": "张三", "refs": [["taobao", "x" * 129]]}, 422, "FIELD_TOO_LONG", "external_id"),
    ],
)
def test_domain_errors_have_stable_codes_and_write_nothing(api, body, status, code, field):
    client = api("service_agent")
    before = _rows()
    r = _post(client, M, body)
    assert r.status_code == status, r.content
    data = r.json()
    assert (data["code"], data["details"].get("field")) == (code, field)
    assert data["message"]
    assert _rows() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "张" * 61}, "name"),  # oversize
        ({"name": "张三", "notes": "x" * 2001}, "notes"),
        ({"name": "张三", "mobile": "1" * 21}, "mobile"),
        ({"name": "张三", "address": "北京市" + "长" * 260}, "address"),
        ({"name": ["not", "a", "string"]}, "name"),  # wrong types
        ({"name": 12345}, "name"),
        ({"name": "张三", "birthday": "yesterday"}, "birthday"),
        ({"name": "张三", "exclude_personalised": {"x": 1}}, "exclude_personalised"),
        ({"name": "张三", "home_store_id": "one"}, "home_store_id"),
        ({"name": "张三", "gender": "X"}, "gender"),
        ({"name": "张三", "source": "fax"}, "source"),
        ({"name": "张三", "consents": {"fax": True}}, "consents.fax.[key]"),
        ({"name": "张三", "consents": ["sms"]}, "consents"),
        ({"name": "张三", "refs": "taobao:x"}, "refs"),
        ({"name": "张三", "mobil": "13800000000"}, "mobil"),  # unknown field (a typo) is not dropped
    ],
)
def test_schema_errors_are_422_and_write_nothing(api, body, field):
    client = api("service_agent")
    before = _rows()
    r = _post(client, M, body)
    assert r.status_code == 422, r.content
    data = r.json()
    assert data["code"] == "VALIDATION_ERROR"
    assert field in [e["field"] for e in data["details"]["errors"]], data
    assert _rows() == before


def test_malformed_json_is_a_4xx(api):
    client = api("service_agent")
    before = _rows()
    r = client.post(M, "{not json", content_type=J)
    assert 400 <= r.status_code < 500
    assert _rows() == before


def test_error_message_in_chinese_by_default_and_english_on_request(api):
    zh = _post(api("service_agent", lang="zh-hans"), M, {"name": "张三", "mobile": "12345"})
    en = _post(api("service_agent", lang="en"), M, {"name": "张三", "mobile": "12345"})
    assert zh.json()["message"].startswith("手机号无效")
    assert en.json()["message"].startswith("Invalid mobile")


def test_duplicate_mobile_and_email_are_409_and_not_written(api):
    client = api("service_agent")
    assert (
        _post(client, M, {"name": "甲", "mobile": "13800138000", "email": "Jia@example.com"}).status_code
        == 201
    )
    before = _rows()
    r = _post(client, M, {"name": "乙", "mobile": "+86 138 0013 8000"})
    assert (r.status_code, r.json()["code"]) == (409, "MEMBER_MOBILE_TAKEN")
    r = _post(client, M, {"name": "乙", "email": "jia@EXAMPLE.com"})
    assert (r.status_code, r.json()["code"]) == (409, "MEMBER_EMAIL_TAKEN")
    assert _rows() == before


def test_create_parses_address_and_stores_e164(api):
    client = api("service_agent")
    r = _post(
        client,
        M,
        {
            "name": "王五",
            "mobile": "139 1234 5678",
            "address": "浙江省杭州市西湖区文三路1号",
            "consents": {"sms": True},
            "refs": [["pos", "P-1"]],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    m = Member.objects.get(pk=body["id"])
    assert m.mobile == "+8613912345678" and m.source == "api"
    assert (m.province, m.city, m.district) == ("浙江省", "杭州市", "西湖区")
    assert m.consents.get(channel="sms").state == "granted"
    assert body["mobile"] == "13912345678" and body["pii_masked"] is False  # agents hold view_pii
    assert body["refs"] == [{"source": "pos", "external_id": "P-1"}]


def test_cashier_registers_and_gets_a_masked_response(api):
    r = _post(api("cashier"), M, {"name": "收银登记", "mobile": "13912345670"})
    assert r.status_code == 201
    assert r.json()["mobile"] == "139****5670" and r.json()["pii_masked"] is True


def test_idempotent_registration(api):
    client = api("service_agent")
    body = {"name": "幂等", "mobile": "13912340000"}
    first = _post(client, M, body, HTTP_IDEMPOTENCY_KEY="reg-1")
    again = _post(client, M, body, HTTP_IDEMPOTENCY_KEY="reg-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Member.objects.count() == 1
    other = _post(client, M, {**body, "name": "别的"}, HTTP_IDEMPOTENCY_KEY="reg-1")
    assert (other.status_code, other.json()["code"]) == (409, "IDEMPOTENCY_CONFLICT")
    failed = _post(client, M, {"name": "坏", "mobile": "123"}, HTTP_IDEMPOTENCY_KEY="reg-2")
    assert failed.status_code == 422
    # The failed attempt released its key, so the corrected request can use it.
    fixed = _post(client, M, {"name": "坏", "mobile": "13912340001"}, HTTP_IDEMPOTENCY_KEY="reg-2")
    assert fixed.status_code == 201 and Member.objects.count() == 2


# --- detail, masking, object rule -----------------------------------------------------------------


def test_cashier_sees_masked_mobile_admin_sees_full_with_audit(api, db):
    member = member_create(name="李四", mobile="13812345678", address="北京市朝阳区建国路88号")
    cashier = api("cashier")
    r = cashier.get(f"{M}/{member.pk}")
    assert r.status_code == 200
    assert r.json()["mobile"] == "138****5678" and r.json()["pii_masked"] is True
    assert r.json()["address"] == "北京市****"
    assert "13812345678" not in r.content.decode() and "建国路" not in r.content.decode()
    assert not AuditEntry.objects.filter(action="pii.view", object_id=str(member.pk)).exists()

    admin = api("admin")
    r = admin.get(f"{M}/{member.pk}")
    assert r.json()["mobile"] == "13812345678" and r.json()["pii_masked"] is False
    row = AuditEntry.objects.get(action="pii.view", object_id=str(member.pk))
    assert row.actor == admin.user


def test_token_without_pii_scope_gets_masked_and_no_audit(api, db):
    member = member_create(name="李四", mobile="13812345678")
    client = api("admin", scopes=["members:read"])
    assert client.get(f"{M}/{member.pk}").json()["mobile"] == "138****5678"
    assert not AuditEntry.objects.filter(action="pii.view").exists()


def test_list_is_always_masked(api, db):
    member_create(name="李四", mobile="13812345678")
    r = api("admin").get(M)
    assert [m["mobile"] for m in r.json()["items"]] == ["138****5678"]
    assert not AuditEntry.objects.filter(action="pii.view").exists()


def test_agent_cannot_see_or_touch_group_members_manager_can(api, db):
    group = group_account_create(name="某某公司")
    member = member_create(name="集体会员", group_account=group)
    agent, manager = api("service_agent"), api("service_manager")
    assert agent.get(f"{M}/{member.pk}").status_code == 404
    assert agent.get(f"{M}/{member.pk}/consents").status_code == 404
    individual = member_create(name="个人")
    before = _rows()
    assert client_patch(agent, member.pk, {"name": "改"}).status_code == 404
    assert _post(agent, f"{M}/{member.pk}/unsubscribe", {"channel": "sms"}).status_code == 404
    assert _post(agent, M, {"name": "入集体", "group_account_id": group.pk}).status_code == 404
    assert client_patch(agent, individual.pk, {"group_account_id": group.pk}).status_code == 404
    assert _rows() == before
    assert manager.get(f"{M}/{member.pk}").status_code == 200
    assert member.pk not in [m["id"] for m in agent.get(M).json()["items"]]
    assert member.pk in [m["id"] for m in manager.get(M).json()["items"]]


def client_patch(client, member_id, body):
    return client.patch(f"{M}/{member_id}", body, content_type=J)


def test_patch_changes_validates_and_audits(api, db):
    member = member_create(name="甲", mobile="13800000001")
    member_create(name="乙", mobile="13800000002")
    client = api("service_agent")
    r = client_patch(client, member.pk, {"name": "甲甲", "address": "上海市浦东新区世纪大道1号"})
    assert r.status_code == 200, r.content
    assert (r.json()["name"], r.json()["city"]) == ("甲甲", "上海市")
    before = _rows()
    for body, code in (
        ({"mobile": "13800000002"}, "MEMBER_MOBILE_TAKEN"),
        ({"mobile": "123"}, "MEMBER_MOBILE_INVALID"),
        ({"address": "随便写写"}, "ADDRESS_UNPARSEABLE"),
        ({"name": "x" * 61}, "VALIDATION_ERROR"),
        ({"status": "merged"}, "VALIDATION_ERROR"),
    ):
        r = client_patch(client, member.pk, body)
        assert r.json()["code"] == code
    assert _rows() == before
    member.refresh_from_db()
    assert (member.name, member.mobile, member.city) == ("甲甲", "+8613800000001", "上海市")


# --- list -----------------------------------------------------------------------------------------


def test_search_filters_and_pagination(api, db):
    store = store_create(code="S1", name="一号店")
    a = member_create(name="赵六", mobile="13700001111", home_store=store)
    b = member_create(name="钱七")
    member_lifecycle_set(member_id=b.pk, state="dormant")
    member_mark_permanent(member_id=b.pk, reason="gift redeemed")
    client = api("cashier")

    def ids(**params):
        r = client.get(M, params)
        assert r.status_code == 200, r.content
        return [m["id"] for m in r.json()["items"]]

    assert ids(q="137-0000-1111") == [a.pk]
    assert ids(q=a.code) == [a.pk]
    assert ids(lifecycle="dormant") == [b.pk]
    assert ids(store_id=store.pk) == [a.pk]
    assert ids(permanent="true") == [b.pk]
    assert client.get(M, {"lifecycle": "vip"}).json()["code"] == "VALIDATION_ERROR"
    assert client.get(M, {"limit": 0}).json()["code"] == "VALIDATION_ERROR"
    assert client.get(M, {"q": "x" * 101}).json()["code"] == "VALIDATION_ERROR"


def test_cursor_pagination_walks_all(api, db):
    ids = {member_create(name=f"m{i}").pk for i in range(7)}
    client = api("cashier")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(M, params).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(seen) == ids and len(seen) == len(ids)
    assert client.get(M, {"cursor": "!!"}).json()["code"] == "INVALID_CURSOR"


# --- refs, consent, unsubscribe -------------------------------------------------------------------


def test_refs_consent_and_unsubscribe(api, db):
    member = member_create(name="甲", mobile="13800000001", consents={"sms": True})
    other = member_create(name="乙")
    client = api("service_agent")
    r = _post(client, f"{M}/{member.pk}/refs", {"source": "taobao", "external_id": "buyer_1"})
    assert r.status_code == 201
    r = _post(client, f"{M}/{other.pk}/refs", {"source": "taobao", "external_id": "buyer_1"})
    assert (r.status_code, r.json()["code"]) == (409, "MEMBER_REF_TAKEN")

    r = client.put(f"{M}/{member.pk}/consents/email", {"granted": True, "source": "h5"}, content_type=J)
    assert (r.status_code, r.json()["state"], r.json()["source"]) == (200, "granted", "h5")
    r = _post(client, f"{M}/{member.pk}/unsubscribe", {"channel": "sms", "source": "sms_reply", "note": "TD"})
    assert (r.status_code, r.json()["state"]) == (200, "withdrawn")
    listed = {c["channel"]: c["state"] for c in client.get(f"{M}/{member.pk}/consents").json()}
    assert listed == {"sms": "withdrawn", "email": "granted"}
    assert list(
        ConsentEvent.objects.filter(member=member, channel="sms")
        .order_by("id")
        .values_list("state", "source")
    ) == [("granted", "registration"), ("withdrawn", "sms_reply")]
    bad = client.put(f"{M}/{member.pk}/consents/fax", {"granted": True}, content_type=J)
    assert bad.status_code == 422
    bad = client.put(f"{M}/{member.pk}/consents/sms", {"granted": "maybe"}, content_type=J)
    assert bad.status_code == 422
    assert Consent.objects.get(member=member, channel="sms").state == "withdrawn"


# --- tags and attributes --------------------------------------------------------------------------


def test_tags_through_the_api(api, staff, db):
    member = member_create(name="甲")
    manager = staff("service_manager")
    tag_create(name="三高人群", kind="sensitive", actor=manager)
    marketer = api("marketer")
    assert _post(marketer, f"{M}/tags", {"name": "在意尺码", "kind": "psychographic"}).status_code == 201
    r = _post(marketer, f"{M}/tags", {"name": "糖尿病", "kind": "sensitive"})
    assert (r.status_code, r.json()["code"]) == (403, "TAG_SENSITIVE_PERMISSION")
    assert [t["name"] for t in marketer.get(f"{M}/tags").json()] == ["在意尺码"]  # sensitive hidden
    assert _post(marketer, f"{M}/{member.pk}/tags", {"tag": "在意尺码"}).status_code == 201
    r = _post(marketer, f"{M}/{member.pk}/tags", {"tag": "三高人群"})
    assert r.json()["code"] == "TAG_SENSITIVE_PERMISSION"
    consent_set(member_id=member.pk, channel="sensitive_pi", granted=True, source="signed form")
    mgr = api("service_manager", user=manager)
    assert _post(mgr, f"{M}/{member.pk}/tags", {"tag": "三高人群"}).status_code == 201
    assert marketer.delete(f"{M}/{member.pk}/tags/在意尺码").status_code == 204
    assert list(MemberTag.objects.filter(member=member).values_list("tag__name", flat=True)) == ["三高人群"]
    assert mgr.get(f"{M}/{member.pk}").json()["tags"] == ["三高人群"]
    assert api("service_agent").get(f"{M}/{member.pk}").json()["tags"] == []


def test_attributes_through_the_api(api, db):
    member = member_create(name="甲")
    admin = api("admin")
    for body in (
        {"key": "size", "label": "尺码", "type": "choice", "choices": ["S", "M", "L"]},
        {"key": "kids", "label": "孩子数", "type": "integer"},
        {"key": "height", "label": "身高(m)", "type": "decimal"},
        {"key": "vip", "label": "贵宾", "type": "boolean"},
        {"key": "wedding", "label": "结婚纪念日", "type": "date"},
    ):
        assert _post(admin, f"{M}/attributes", body).status_code == 201
    r = _post(admin, f"{M}/attributes", {"key": "尺码", "label": "x", "type": "text"})
    assert r.status_code == 422
    r = _post(admin, f"{M}/attributes", {"key": "size", "label": "x", "type": "text"})
    assert (r.status_code, r.json()["code"]) == (409, "ATTRIBUTE_KEY_TAKEN")
    agent = api("service_agent")
    url = f"{M}/{member.pk}/attributes"
    for key, value, stored in (
        ("size", "M", "M"),
        ("kids", 2, 2),
        ("height", 1.72, "1.7200"),
        ("vip", True, True),
        ("wedding", "2015-10-01", "2015-10-01"),
    ):
        r = agent.put(f"{url}/{key}", {"value": value}, content_type=J)
        assert (r.status_code, r.json()) == (200, {"key": key, "value": stored}), r.content
    before = _rows()
    for key, value, code in (
        ("size", "XL", "ATTRIBUTE_CHOICE_INVALID"),
        ("kids", "two", "ATTRIBUTE_TYPE_MISMATCH"),
        ("kids", 2.5, "ATTRIBUTE_TYPE_MISMATCH"),
        ("vip", "yes", "ATTRIBUTE_TYPE_MISMATCH"),
        ("wedding", "十月一日", "ATTRIBUTE_TYPE_MISMATCH"),
        ("nope", 1, "ATTRIBUTE_UNKNOWN"),
    ):
        r = agent.put(f"{url}/{key}", {"value": value}, content_type=J)
        assert r.json()["code"] == code, (key, value, r.content)
    r = agent.put(f"{url}/kids", {"value": [1, 2]}, content_type=J)
    assert r.json()["code"] == "VALIDATION_ERROR"
    assert _rows() == before
    assert [a["key"] for a in agent.get(M + f"/{member.pk}").json()["attributes"]] == [
        "height",
        "kids",
        "size",
        "vip",
        "wedding",
    ]
    assert [d["key"] for d in agent.get(f"{M}/attributes").json()] == [
        "height",
        "kids",
        "size",
        "vip",
        "wedding",
    ]


# --- groups, cards, corporate ---------------------------------------------------------------------


def test_groups_through_the_api(api, db):
    manager = api("service_manager")
    r = _post(manager, f"{M}/groups", {"name": "某某科技", "contact_mobile": "139 1111 2222"})
    assert r.status_code == 201 and r.json()["contact_mobile"] == "13911112222"
    gid = r.json()["id"]
    r = manager.patch(f"{M}/groups/{gid}", {"name": "某某科技有限公司"}, content_type=J)
    assert r.json()["name"] == "某某科技有限公司"
    masked = api("api_client", scopes=["members:read"]).get(f"{M}/groups").json()
    assert masked[0]["contact_mobile"] == "139****2222"
    before = _rows()
    assert _post(manager, f"{M}/groups", {"name": ""}).status_code == 422
    assert _post(manager, f"{M}/groups", {"name": "x", "contact_mobile": "010-1234567"}).json()["code"] == (
        "MEMBER_MOBILE_INVALID"
    )
    assert _rows() == before


def test_cards_through_the_api(api, db):
    s2_policy()
    member = member_create(name="甲")
    cashier = api("cashier")
    r = _post(cashier, f"{M}/{member.pk}/card", {"purchase_fen": 25_000})
    assert r.status_code == 201 and (r.json()["fee_fen"], r.json()["state"]) == (0, "active")
    number = r.json()["number"]
    r = _post(cashier, f"{M}/{member.pk}/card", {})
    assert (r.status_code, r.json()["code"]) == (409, "CARD_ALREADY_ACTIVE")
    r = _post(cashier, f"{M}/{member.pk}/card/replace", {})
    assert (r.status_code, r.json()["code"]) == (422, "CARD_REPLACEMENT_PROOF_REQUIRED")
    assert _post(cashier, f"{M}/{member.pk}/card", {"purchase_fen": -1}).status_code == 422
    r = _post(cashier, f"{M}/{member.pk}/card/replace", {"old_number": number})
    assert r.status_code == 201 and r.json()["fee_fen"] == 200
    assert MembershipCard.objects.get(number=number).state == "void"


def test_corporate_archive_through_the_api(api, db):
    manager = api("service_manager")
    body = {
        "unit_name": "某某大酒店",
        "klass": "key",
        "annual_spend_fen": 86_000_000,
        "agreed_discount_bp": 9000,
    }
    r = _post(manager, f"{M}/corporate", body)
    assert r.status_code == 201 and r.json()["klass"] == "key"
    _post(manager, f"{M}/corporate", {"unit_name": "某某会展中心", "klass": "conference"})
    assert [c["unit_name"] for c in manager.get(f"{M}/corporate", {"klass": "key"}).json()] == ["某某大酒店"]
    before = _rows()
    for bad in ({"unit_name": "x", "agreed_discount_bp": 10_001}, {"unit_name": "x", "klass": "vip"}, {}):
        assert _post(manager, f"{M}/corporate", bad).status_code == 422
    assert _rows() == before


# --- merge and PIPL -------------------------------------------------------------------------------


def test_merge_through_the_api(api, db):
    target = member_create(name="王芳")
    source = member_create(name="王芳", mobile="13800000009", refs=[("taobao", "wf")])
    manager = api("service_manager")
    r = _post(manager, f"{M}/{target.pk}/merge", {"source_id": source.pk})
    assert r.status_code == 200 and r.json()["moved"]["refs"] == 1
    assert Member.objects.get(pk=target.pk).mobile == "+8613800000009"
    assert manager.get(M, {"q": "13800000009"}).json()["items"][0]["id"] == target.pk
    r = _post(manager, f"{M}/{target.pk}/merge", {"source_id": target.pk})
    assert r.json()["code"] in ("MERGE_SAME_MEMBER", "NOT_FOUND")


def test_pipl_export_json_and_xlsx_leave_no_file_behind(api, db):
    member = member_create(name="赵敏", mobile="13800000011", refs=[("pos", "A-1")])
    manager = api("service_manager")
    r = manager.get(f"{M}/{member.pk}/pi-export")
    assert r.status_code == 200
    assert r.json()["member"]["mobile"] == "+8613800000011"
    assert r.json()["external_ids"][0]["external_id"] == "A-1"
    r = manager.get(f"{M}/{member.pk}/pi-export", {"format": "xlsx"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    rows = {row[0]: row[1] for row in wb["member"].iter_rows(min_row=2, values_only=True)}
    assert rows["mobile"] == "+8613800000011" and rows["name"] == "赵敏"
    pipl_dir = settings.EXPORT_DIR / "pipl"
    assert not pipl_dir.exists() or not any(pipl_dir.iterdir())
    assert AuditEntry.objects.filter(action="member.pi_export", object_id=str(member.pk)).count() == 2
    no_pii = api("service_manager", scopes=["members:read", "members:write"])
    assert no_pii.get(f"{M}/{member.pk}/pi-export").json()["code"] == "TOKEN_SCOPE_MISSING"


def test_forget_through_the_api(api, db):
    member = member_create(name="赵敏", mobile="13800000011", consents={"sms": True})
    admin = api("admin")
    r = _post(admin, f"{M}/{member.pk}/forget", {"reason": "会员申请删除"})
    assert r.status_code == 200 and r.json() == {"id": member.pk, "status": "anonymised"}
    detail = admin.get(f"{M}/{member.pk}").json()
    assert (detail["name"], detail["mobile"], detail["status"]) == ("已注销", "", "anonymised")
    assert Member.objects.filter(pk=member.pk).exists()
    assert _post(admin, f"{M}/{member.pk}/forget", {}).status_code == 422
    dumped = json.dumps(list(AuditEntry.objects.values("before", "after")), ensure_ascii=False)
    assert "13800000011" not in dumped


def test_openapi_lists_the_member_paths(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        M,
        f"{M}/{{member_id}}",
        f"{M}/{{member_id}}/consents/{{channel}}",
        f"{M}/{{member_id}}/pi-export",
    ):
        assert path in paths, sorted(paths)
