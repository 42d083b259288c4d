"""Member archive services: registration, profile changes, consent, tags, typed attributes,
lifecycle, agreements, group accounts and the corporate archive."""

from datetime import UTC, date, datetime

import pytest

from laoke.core import clock, context
from laoke.core.models import AuditEntry
from laoke.core.services import store_create
from laoke.members.models import (
    AgreementAcceptance,
    AttributeValue,
    Consent,
    ConsentEvent,
    LifecycleEvent,
    Member,
    MemberRef,
    MemberTag,
)
from laoke.members.services import (
    agreement_accept,
    agreement_draft_save,
    agreement_publish,
    attribute_definition_create,
    consent_set,
    corporate_account_create,
    corporate_account_update,
    group_account_create,
    group_account_update,
    member_attribute_set,
    member_create,
    member_lifecycle_set,
    member_ref_add,
    member_tag_add,
    member_tag_remove,
    member_unsubscribe,
    member_update,
    member_view,
    tag_create,
)

from .helpers import code_of

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)


def _rows():
    return (
        Member.objects.count(),
        MemberRef.objects.count(),
        Consent.objects.count(),
        ConsentEvent.objects.count(),
        LifecycleEvent.objects.count(),
        AgreementAcceptance.objects.count(),
        AuditEntry.objects.count(),
    )


# --- registration and profile ---------------------------------------------------------------------


def test_member_create_writes_everything_in_one_go(db):
    agreement_publish(version="2.0", title="会员协议", body="……")
    store = store_create(code="S1", name="一号店")
    with clock.frozen(T0):
        m = member_create(
            name=" 王芳 ",
            mobile="138 0000 0001",
            email="WF@Example.com",
            gender="F",
            birthday=date(1990, 5, 17),
            address="浙江省杭州市西湖区文三路1号",
            source="taobao",
            home_store=store,
            refs=[("taobao", "wf_2019")],
            consents={"sms": True, "email": False},
            consent_source="registration form",
            agreement_version="2.0",
        )
    m.refresh_from_db()
    assert (m.name, m.mobile, m.email, m.gender) == ("王芳", "+8613800000001", "WF@example.com", "F")
    assert (m.province, m.city, m.district, m.address_detail) == ("浙江省", "杭州市", "西湖区", "文三路1号")
    assert m.home_store == store and m.registered_at == T0 and m.code.startswith("M") and len(m.code) == 11
    assert list(m.refs.values_list("source", "external_id")) == [("taobao", "wf_2019")]
    assert dict(m.consents.values_list("channel", "state")) == {"sms": "granted", "email": "withdrawn"}
    assert set(m.consent_events.values_list("source", flat=True)) == {"registration form"}
    assert m.agreement_acceptances.get().agreement.version == "2.0"
    assert list(m.lifecycle_events.values_list("from_state", "to_state")) == [("", "registered")]
    create = AuditEntry.objects.get(action="member.create", object_id=str(m.pk))
    assert create.after["mobile"] == "+8613800000001"


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"mobile": "12345"}, "MEMBER_MOBILE_INVALID", "mobile"),
        ({"address": "随便写写"}, "ADDRESS_UNPARSEABLE", "address"),
        ({"email": "x@"}, "MEMBER_EMAIL_INVALID", "email"),
        ({"name": "张" * 61}, "FIELD_TOO_LONG", "name"),
        ({"notes": "x" * 2001}, "FIELD_TOO_LONG", "notes"),
        ({"name": 12}, "FIELD_INVALID", "name"),
        ({"gender": "X"}, "FIELD_INVALID", "gender"),
        ({"source": "fax"}, "FIELD_INVALID", "source"),
        ({"birthday": date(2999, 1, 1)}, "BIRTHDAY_INVALID", "birthday"),
        ({"birthday": "someday"}, "BIRTHDAY_INVALID", "birthday"),
        ({"id_number": "110105194912310021"}, "ID_NUMBER_INVALID", "id_number"),
        ({"home_store": 999_999}, "NOT_FOUND", "home_store"),
        ({"group_account": 999_999}, "NOT_FOUND", "group_account"),
        ({"exclude_personalised": "yes"}, "FIELD_INVALID", "exclude_personalised"),
        ({"consents": {"fax": True}}, "CONSENT_CHANNEL_INVALID", "consents"),
        ({"consents": {"sms": "yes"}}, "FIELD_INVALID", "consents"),
        ({"refs": [("taobao", "x" * 129)]}, "FIELD_TOO_LONG", "external_id"),
        ({"refs": [("taobao",)]}, "FIELD_INVALID", "refs"),
        ({"agreement_version": "9.9"}, "AGREEMENT_NOT_PUBLISHED", "agreement_version"),
    ],
)
def test_bad_registration_writes_nothing(db, kwargs, code, field):
    before = _rows()
    assert code_of(member_create, **{"name": "张三", **kwargs}) == (code, field)
    assert _rows() == before


def test_duplicate_mobile_email_and_ref_write_nothing(db):
    member_create(name="甲", mobile="13800000001", email="a@example.com", refs=[("pos", "A-1")])
    before = _rows()
    assert code_of(member_create, name="乙", mobile="+86 138-0000-0001") == ("MEMBER_MOBILE_TAKEN", "mobile")
    assert code_of(member_create, name="乙", email="a@EXAMPLE.com") == ("MEMBER_EMAIL_TAKEN", "email")
    assert code_of(member_create, name="乙", refs=[("pos", "A-1")]) == ("MEMBER_REF_TAKEN", "external_id")
    assert _rows() == before


def test_member_update_audits_a_diff_and_reparses_the_address(db):
    m = member_create(name="甲", mobile="13800000001")
    member_update(member_id=m.pk, data={"name": "甲乙", "address": "北京市朝阳区建国路88号", "notes": ""})
    m.refresh_from_db()
    assert (m.province, m.city, m.district) == ("北京市", "北京市", "朝阳区")
    row = AuditEntry.objects.get(action="member.update", object_id=str(m.pk))
    assert row.before == {"name": "甲", "address": "", "province": "", "city": "", "district": ""}
    assert row.after == {
        "name": "甲乙",
        "address": "北京市朝阳区建国路88号",
        "province": "北京市",
        "city": "北京市",
        "district": "朝阳区",
    }
    n = AuditEntry.objects.count()
    member_update(member_id=m.pk, data={"name": "甲乙"})  # no change, no audit row
    assert AuditEntry.objects.count() == n


def test_member_update_rejects_unknown_fields_taken_mobile_and_inactive(db):
    a = member_create(name="甲", mobile="13800000001")
    b = member_create(name="乙")
    assert code_of(member_update, member_id=b.pk, data={"mobil": "13800000002"}) == ("FIELD_INVALID", "mobil")
    assert code_of(member_update, member_id=b.pk, data={"mobile": "13800000001"}) == (
        "MEMBER_MOBILE_TAKEN",
        "mobile",
    )
    b.refresh_from_db()
    assert b.mobile is None
    member_update(member_id=a.pk, data={"mobile": None})  # a mobile can be removed …
    member_update(member_id=b.pk, data={"mobile": "13800000001"})  # … and then used by another
    assert Member.objects.get(mobile="+8613800000001") == b
    assert code_of(member_update, member_id=999_999, data={}) == ("NOT_FOUND", "member_id")


def test_ref_add_is_idempotent_for_the_same_member(db):
    a, b = member_create(name="甲"), member_create(name="乙")
    member_ref_add(member_id=a.pk, source="taobao", external_id="buyer1")
    member_ref_add(member_id=a.pk, source="taobao", external_id="buyer1")
    member_ref_add(member_id=b.pk, source="jd", external_id="buyer1")  # unique per source only
    assert MemberRef.objects.count() == 2
    assert (
        code_of(member_ref_add, member_id=b.pk, source="taobao", external_id="buyer1")[0]
        == "MEMBER_REF_TAKEN"
    )


def test_actor_comes_from_the_context_or_the_argument(staff, db):
    agent = staff("service_agent")
    with context.using(user=agent, ip="10.0.0.8", request_id="req-1"):
        m = member_create(name="甲")
    row = AuditEntry.objects.get(action="member.create", object_id=str(m.pk))
    assert (row.actor, row.ip, row.request_id) == (agent, "10.0.0.8", "req-1")
    manager = staff("service_manager")
    member_update(member_id=m.pk, data={"name": "乙"}, actor=manager)
    assert AuditEntry.objects.get(action="member.update").actor == manager


# --- consent --------------------------------------------------------------------------------------


def test_consent_history_and_unsubscribe(db):
    m = member_create(name="甲", mobile="13800000001", consents={"sms": True, "email": True})
    member_unsubscribe(member_id=m.pk, channel="sms", source="sms_reply", note="回复 TD")
    member_unsubscribe(member_id=m.pk, channel="email", source="email_link")
    consent_set(member_id=m.pk, channel="sms", granted=True, source="operator", note="会员来电要求恢复")
    history = list(
        ConsentEvent.objects.filter(member=m, channel="sms")
        .order_by("id")
        .values_list("state", "source", "note")
    )
    assert history == [
        ("granted", "registration", ""),
        ("withdrawn", "sms_reply", "回复 TD"),
        ("granted", "operator", "会员来电要求恢复"),
    ]
    assert dict(Consent.objects.filter(member=m).values_list("channel", "state")) == {
        "sms": "granted",
        "email": "withdrawn",
    }
    assert Consent.objects.get(member=m, channel="email").source == "email_link"
    assert AuditEntry.objects.filter(action="consent.set", object_id=str(m.pk)).count() == 5
    consent_set(member_id=m.pk, channel="sms", granted=True, source="operator")  # same state: no history
    member_unsubscribe(member_id=m.pk, channel="email", source="email_link")
    assert ConsentEvent.objects.filter(member=m).count() == 5
    assert code_of(consent_set, member_id=m.pk, channel="fax", granted=True, source="x")[0] == (
        "CONSENT_CHANNEL_INVALID"
    )
    assert code_of(consent_set, member_id=m.pk, channel="sms", granted=True, source="") == (
        "FIELD_REQUIRED",
        "source",
    )


def test_withdrawing_sensitive_consent_deletes_sensitive_data(staff, db):
    manager = staff("service_manager")
    m = member_create(name="乙", consents={"sensitive_pi": True}, consent_source="signed form")
    tag_create(name="三高人群", kind="sensitive")
    tag_create(name="在意尺码")
    attribute_definition_create(key="bp", label="血压", type="text", is_sensitive=True)
    member_tag_add(member_id=m.pk, tag_name="三高人群", actor=manager)
    member_tag_add(member_id=m.pk, tag_name="在意尺码", actor=manager)
    member_attribute_set(member_id=m.pk, key="bp", value="140/90", actor=manager)
    member_unsubscribe(member_id=m.pk, channel="sensitive_pi", source="operator", actor=manager)
    assert list(MemberTag.objects.filter(member=m).values_list("tag__name", flat=True)) == ["在意尺码"]
    assert not AttributeValue.objects.filter(member=m).exists()
    row = AuditEntry.objects.filter(action="consent.set", object_id=str(m.pk)).latest("id")
    assert row.after["deleted"] == {"sensitive_tags": 1, "sensitive_attributes": 1}


# --- tags -----------------------------------------------------------------------------------------


def test_sensitive_tags_need_permission_and_separate_consent(staff, db):
    m = member_create(name="乙")
    agent, manager, marketer = staff("service_agent"), staff("service_manager"), staff("marketer")
    assert (
        code_of(tag_create, name="糖尿病", kind="sensitive", actor=marketer)[0] == "TAG_SENSITIVE_PERMISSION"
    )
    tag = tag_create(name="三高人群", kind="sensitive", actor=manager)
    assert (
        code_of(member_tag_add, member_id=m.pk, tag_name=tag.name, actor=agent)[0]
        == "TAG_SENSITIVE_PERMISSION"
    )
    assert code_of(member_tag_add, member_id=m.pk, tag_name=tag.name, actor=manager)[0] == (
        "SENSITIVE_CONSENT_REQUIRED"
    )
    assert (
        code_of(member_tag_add, member_id=m.pk, tag_name=tag.name)[0] == "SENSITIVE_CONSENT_REQUIRED"
    )  # system
    consent_set(member_id=m.pk, channel="sensitive_pi", granted=True, source="signed form")
    member_tag_add(member_id=m.pk, tag_name=tag.name, actor=manager)
    assert "三高人群" in member_view(viewer=manager, member_id=m.pk)["tags"]
    assert "三高人群" not in member_view(viewer=agent, member_id=m.pk)["tags"]
    assert code_of(member_tag_remove, member_id=m.pk, tag_name=tag.name, actor=agent)[0] == (
        "TAG_SENSITIVE_PERMISSION"
    )
    assert member_tag_remove(member_id=m.pk, tag_name=tag.name, actor=manager) is True
    assert member_tag_remove(member_id=m.pk, tag_name=tag.name, actor=manager) is False


def test_tags_are_unique_and_tagging_is_idempotent(db):
    m = member_create(name="丙")
    tag_create(name="在意真品", kind="psychographic")
    assert code_of(tag_create, name=" 在意真品 ") == ("TAG_NAME_TAKEN", "name")
    member_tag_add(member_id=m.pk, tag_name="在意真品", source="chat_log")
    member_tag_add(member_id=m.pk, tag_name="在意真品")
    assert MemberTag.objects.get(member=m).source == "chat_log"
    assert AuditEntry.objects.filter(action="member.tag_add").count() == 1
    assert code_of(member_tag_add, member_id=m.pk, tag_name="nope") == ("NOT_FOUND", "tag")


# --- typed custom attributes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "choices", "good", "stored", "column", "bad"),
    [
        ("text", [], "喜欢红色", "喜欢红色", "value_text", 5),
        ("integer", [], 8, 8, "value_int", "eight"),
        ("integer", [], "12", 12, "value_int", 1.5),
        ("integer", [], -3, -3, "value_int", 2**63),
        ("boolean", [], True, True, "value_bool", "yes"),
        ("date", [], "2025-06-01", "2025-06-01", "value_date", "June"),
        ("date", [], date(2025, 6, 1), "2025-06-01", "value_date", datetime(2025, 6, 1, tzinfo=UTC)),
        ("choice", ["S", "M"], "M", "M", "value_text", "XL"),
        ("decimal", [], "1.25", "1.2500", "value_decimal", "1.2.3"),
        ("decimal", [], 0.1, "0.1000", "value_decimal", "NaN"),
        ("decimal", [], 7, "7.0000", "value_decimal", True),
    ],
)
def test_typed_attributes(db, type_, choices, good, stored, column, bad):
    m = member_create(name="丙")
    attribute_definition_create(key="a", label="属性", type=type_, choices=choices)
    member_attribute_set(member_id=m.pk, key="a", value=good)
    assert member_view(viewer=None, member_id=m.pk)["attributes"] == [
        {"key": "a", "label": "属性", "value": stored}
    ]
    row = AttributeValue.objects.get(member=m)
    assert [
        c
        for c in ("value_text", "value_int", "value_decimal", "value_date", "value_bool")
        if getattr(row, c) is not None
    ] == [column]
    n = AuditEntry.objects.count()
    assert code_of(member_attribute_set, member_id=m.pk, key="a", value=bad)[0] in (
        "ATTRIBUTE_TYPE_MISMATCH",
        "ATTRIBUTE_CHOICE_INVALID",
    )
    assert AuditEntry.objects.count() == n
    assert member_view(viewer=None, member_id=m.pk)["attributes"][0]["value"] == stored  # unchanged
    member_attribute_set(member_id=m.pk, key="a", value=None)  # cleared
    assert not AttributeValue.objects.filter(member=m).exists()
    assert code_of(member_attribute_set, member_id=m.pk, key="nope", value=1) == ("ATTRIBUTE_UNKNOWN", "key")


def test_attribute_definitions_are_validated(db):
    assert code_of(attribute_definition_create, key="尺码", label="x", type="text") == (
        "FIELD_INVALID",
        "key",
    )
    assert code_of(attribute_definition_create, key="k", label="x", type="colour") == (
        "FIELD_INVALID",
        "type",
    )
    assert (
        code_of(attribute_definition_create, key="k", label="x", type="choice")[0]
        == "ATTRIBUTE_CHOICE_INVALID"
    )
    assert code_of(attribute_definition_create, key="k", label="x", type="choice", choices=["S", "S"])[0] == (
        "ATTRIBUTE_CHOICE_INVALID"
    )
    attribute_definition_create(key="k", label="x", type="integer", choices=["ignored"])
    assert code_of(attribute_definition_create, key="k", label="y", type="text") == (
        "ATTRIBUTE_KEY_TAKEN",
        "key",
    )


def test_sensitive_attribute_values_need_permission_consent_and_are_hidden(staff, db):
    agent, manager = staff("service_agent"), staff("service_manager")
    attribute_definition_create(key="bp", label="血压", type="text", is_sensitive=True, actor=manager)
    m = member_create(name="丁")
    assert code_of(member_attribute_set, member_id=m.pk, key="bp", value="x", actor=agent)[0] == (
        "TAG_SENSITIVE_PERMISSION"
    )
    assert code_of(member_attribute_set, member_id=m.pk, key="bp", value="x", actor=manager)[0] == (
        "SENSITIVE_CONSENT_REQUIRED"
    )
    consent_set(member_id=m.pk, channel="sensitive_pi", granted=True, source="signed form")
    member_attribute_set(member_id=m.pk, key="bp", value="140/90", actor=manager)
    assert member_view(viewer=manager, member_id=m.pk)["attributes"][0]["value"] == "140/90"
    assert member_view(viewer=agent, member_id=m.pk)["attributes"] == []  # agent: view_pii but not sensitive
    row = AuditEntry.objects.get(action="member.attribute_set", object_id=str(m.pk))
    assert row.after == {"bp": "***"} and "140/90" not in str(row.after)


# --- lifecycle ------------------------------------------------------------------------------------


def test_lifecycle_history(db):
    m = member_create(name="戊")
    member_lifecycle_set(member_id=m.pk, state="recharged", reason="首次充值")
    member_lifecycle_set(member_id=m.pk, state="recharged")
    member_lifecycle_set(member_id=m.pk, state="dormant", reason="90 天未消费")
    assert list(m.lifecycle_events.order_by("id").values_list("from_state", "to_state")) == [
        ("", "registered"),
        ("registered", "recharged"),
        ("recharged", "dormant"),
    ]
    assert code_of(member_lifecycle_set, member_id=m.pk, state="vip") == ("FIELD_INVALID", "state")
    assert [e["to"] for e in member_view(viewer=None, member_id=m.pk)["lifecycle_history"]] == [
        "dormant",
        "recharged",
        "registered",
    ]


# --- agreements -----------------------------------------------------------------------------------


def test_agreement_draft_publish_and_acceptance(db):
    draft = agreement_draft_save(version="1.0", title="会员协议", body="草稿")
    m = member_create(name="己")
    assert code_of(agreement_accept, member_id=m.pk, version="1.0") == (
        "AGREEMENT_NOT_PUBLISHED",
        "agreement_version",
    )
    assert code_of(member_create, name="庚", agreement_version="1.0")[0] == "AGREEMENT_NOT_PUBLISHED"
    agreement_draft_save(version="1.0", title="会员协议", body="定稿")
    published = agreement_publish(version="1.0")
    assert published.pk == draft.pk and published.body == "定稿" and published.published_at is not None
    assert code_of(agreement_draft_save, version="1.0", title="t", body="改")[0] == "AGREEMENT_VERSION_TAKEN"
    assert code_of(agreement_publish, version="1.0", title="t", body="b")[0] == "AGREEMENT_VERSION_TAKEN"
    agreement_publish(version="1.1", title="会员协议", body="新版")
    acc = agreement_accept(member_id=m.pk, channel="h5")  # the latest published version
    assert (acc.agreement.version, acc.channel) == ("1.1", "h5")
    agreement_accept(member_id=m.pk, version="1.0")
    agreement_accept(member_id=m.pk, version="1.0")
    assert sorted(m.agreement_acceptances.values_list("agreement__version", flat=True)) == ["1.0", "1.1"]


# --- group accounts and corporate archive ---------------------------------------------------------


def test_group_account_create_update(staff, db):
    manager = staff("service_manager")
    g = group_account_create(
        name="某某科技", contact_name="刘经理", contact_mobile="139 1111 2222", manager=manager
    )
    assert g.contact_mobile == "+8613911112222" and g.manager == manager
    group_account_update(group_id=g.pk, data={"name": "某某科技有限公司", "kind": "company"})
    g.refresh_from_db()
    assert g.name == "某某科技有限公司"
    row = AuditEntry.objects.get(action="group_account.update")
    assert (row.before, row.after) == ({"name": "某某科技"}, {"name": "某某科技有限公司"})
    assert code_of(group_account_create, name=" ") == ("GROUP_NAME_REQUIRED", "name")
    assert (
        code_of(group_account_create, name="x", contact_mobile="010-12345678")[0] == "MEMBER_MOBILE_INVALID"
    )
    assert code_of(group_account_update, group_id=g.pk, data={"nmae": "x"}) == ("FIELD_INVALID", "nmae")
    assert code_of(group_account_update, group_id=999_999, data={}) == ("NOT_FOUND", "group_id")


def test_corporate_archive(db):
    c = corporate_account_create(
        data={
            "unit_name": "某某大酒店",
            "contact_name": "王总",
            "position": "采购经理",
            "phone": "0571-88881234",
            "annual_spend_fen": 86_000_000,
            "agreed_discount_bp": 9000,
            "klass": "key",
        }
    )
    assert (c.klass, c.annual_spend_fen, c.agreed_discount_bp) == ("key", 86_000_000, 9000)
    corporate_account_update(corporate_id=c.pk, data={"klass": "conference", "phone": "0571-88880000"})
    row = AuditEntry.objects.get(action="corporate.update")
    assert row.after == {"klass": "conference"}  # the phone changed too, but is not shown by value
    for bad in (
        {"unit_name": ""},
        {"unit_name": "x", "agreed_discount_bp": 10_001},
        {"unit_name": "x", "annual_spend_fen": -1},
        {"unit_name": "x", "klass": "vip"},
        {"unit_name": "x", "annual_spend_fen": "1000"},
        {"unit_name": "x", "colour": "red"},
    ):
        with pytest.raises(Exception) as exc:
            corporate_account_create(data=bad)
        assert exc.value.code in ("FIELD_REQUIRED", "FIELD_INVALID")
