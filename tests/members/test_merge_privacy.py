"""Duplicate merge keeping history; member_view masking and its audit rows; PIPL export and
deletion (anonymise, keep aggregates)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from laoke.core import clock
from laoke.core.models import AuditEntry
from laoke.members.models import (
    AgreementAcceptance,
    AttributeValue,
    Consent,
    ConsentEvent,
    LifecycleEvent,
    Member,
    MemberRef,
    MemberTag,
    MergeRecord,
)
from laoke.members.selectors import member_counts, new_members_per_day
from laoke.members.services import (
    agreement_publish,
    attribute_definition_create,
    consent_set,
    group_account_create,
    member_attribute_set,
    member_create,
    member_forget,
    member_lifecycle_set,
    member_mark_permanent,
    member_merge,
    member_pi_export,
    member_ref_add,
    member_tag_add,
    member_unsubscribe,
    member_update,
    member_view,
    membership_card_issue,
    tag_create,
)

from .helpers import code_of, s2_policy

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
CONTRACT_KEYS = {
    "id",
    "code",
    "name",
    "mobile",
    "email",
    "gender",
    "birthday",
    "province",
    "city",
    "district",
    "address",
    "id_number",
    "source",
    "registered_at",
    "lifecycle",
    "status",
    "group_account",
    "home_store",
    "is_permanent",
    "exclude_personalised",
    "tags",
    "attributes",
    "consents",
    "cards",
    "refs",
    "pii_masked",
}


# --- member_view ----------------------------------------------------------------------------------


@pytest.fixture
def person(db):
    return member_create(
        name="李四",
        mobile="13812345678",
        email="lisi@example.com",
        id_number="11010519491231002X",
        address="浙江省杭州市西湖区文三路1号",
        birthday=datetime(1990, 5, 17).date(),
        refs=[("pos", "P-9")],
        consents={"sms": True},
    )


def test_member_view_masks_without_view_pii_and_writes_no_audit(staff, person):
    cashier = staff("cashier")
    view = member_view(viewer=cashier, member_id=person.pk)
    assert CONTRACT_KEYS <= set(view)
    assert view["pii_masked"] is True
    assert view["mobile"] == "138****5678"
    assert view["email"] == "l***@example.com"
    assert view["address"] == "浙江省杭州市****" and view["district"] == ""
    assert view["id_number"] == "110***********002X"
    assert view["birthday"] == "****-05-17"
    assert (view["province"], view["city"]) == ("浙江省", "杭州市")
    blob = json.dumps(view, ensure_ascii=False)
    for secret in ("13812345678", "lisi@", "文三路", "1949123100", "1990"):
        assert secret not in blob
    assert not AuditEntry.objects.filter(action="pii.view").exists()


def test_every_unmasked_view_writes_one_audit_row(staff, person):
    admin = staff("admin")
    view = member_view(viewer=admin, member_id=person.pk)
    assert view["pii_masked"] is False
    assert (view["mobile"], view["email"], view["id_number"]) == (
        "13812345678",
        "lisi@example.com",
        "11010519491231002X",
    )
    assert view["address"] == "浙江省杭州市西湖区文三路1号" and view["birthday"] == "1990-05-17"
    assert view["refs"] == [{"source": "pos", "external_id": "P-9"}]
    assert view["consents"][0]["channel"] == "sms" and view["consents"][0]["state"] == "granted"
    rows = AuditEntry.objects.filter(action="pii.view", object_id=str(person.pk))
    assert rows.count() == 1 and rows.get().actor == admin
    member_view(viewer=admin, member_id=person.pk)
    assert rows.count() == 2


def test_object_rule_in_member_view(staff, db):
    group = group_account_create(name="某某公司")
    m = member_create(name="集体会员", group_account=group)
    assert code_of(member_view, viewer=staff("service_agent"), member_id=m.pk) == ("NOT_FOUND", "member_id")
    assert member_view(viewer=staff("service_manager"), member_id=m.pk)["group_account"] == "某某公司"
    assert code_of(member_view, viewer=None, member_id=999_999) == ("NOT_FOUND", "member_id")


# --- merge ----------------------------------------------------------------------------------------


def test_merge_keeps_history_and_moves_identity(db):
    s2_policy()
    agreement_publish(version="1.0", title="会员协议", body="…")
    attribute_definition_create(key="size", label="尺码", type="choice", choices=["S", "M", "L"])
    attribute_definition_create(key="kids", label="孩子数", type="integer")
    tag_create(name="在意尺码")
    tag_create(name="双11新客")
    target = member_create(name="王芳", source="store", consents={"sms": True, "email": True})
    member_attribute_set(member_id=target.pk, key="size", value="M")
    member_tag_add(member_id=target.pk, tag_name="双11新客")
    with clock.frozen(T0 - timedelta(days=400)):  # the source registered earlier
        source = member_create(
            name="王芳",
            mobile="13800000009",
            address="北京市朝阳区建国路88号",
            source="taobao",
            refs=[("taobao", "wf_2019")],
            consents={"sms": False},
            agreement_version="1.0",
            exclude_personalised=True,
            notes="喜欢蓝色",
        )
    member_attribute_set(member_id=source.pk, key="size", value="L")  # conflict: target wins
    member_attribute_set(member_id=source.pk, key="kids", value=2)
    member_tag_add(member_id=source.pk, tag_name="在意尺码")
    member_tag_add(member_id=source.pk, tag_name="双11新客")
    member_unsubscribe(member_id=source.pk, channel="email", source="email_link")  # newer than target's
    member_lifecycle_set(member_id=source.pk, state="recharged")
    card = membership_card_issue(member_id=source.pk)
    events_before = ConsentEvent.objects.count()
    lifecycle_before = LifecycleEvent.objects.count()

    record = member_merge(source_id=source.pk, target_id=target.pk)

    source.refresh_from_db()
    target.refresh_from_db()
    assert source.status == "merged" and source.merged_into_id == target.pk and source.mobile is None
    assert target.mobile == "+8613800000009" and target.province == "北京市" and target.exclude_personalised
    assert target.registered_at == T0 - timedelta(days=400)
    assert target.notes == f"[{source.code}] 喜欢蓝色"
    assert MemberRef.objects.get(source="taobao", external_id="wf_2019").member_id == target.pk
    view = member_view(viewer=None, member_id=target.pk)
    assert view["tags"] == ["双11新客", "在意尺码"]
    assert {a["key"]: a["value"] for a in view["attributes"]} == {"kids": 2, "size": "M"}
    # Per channel the more recent decision wins: sms — the target's later grant; email — the
    # source's later unsubscribe. Every event of both members is kept.
    assert {c["channel"]: c["state"] for c in view["consents"]} == {"sms": "granted", "email": "withdrawn"}
    assert ConsentEvent.objects.count() == events_before
    assert ConsentEvent.objects.filter(member=source).count() == 0
    assert LifecycleEvent.objects.count() == lifecycle_before
    assert LifecycleEvent.objects.filter(member=target, to_state="recharged").exists()
    assert AgreementAcceptance.objects.get().member_id == target.pk
    card.refresh_from_db()
    assert (card.member_id, card.state, card.void_reason) == (target.pk, "void", "merged")
    assert not Consent.objects.filter(member=source).exists() and not MemberTag.objects.filter(member=source)
    assert not AttributeValue.objects.filter(member=source).exists()
    assert record.source_snapshot["mobile"] == "+8613800000009"
    assert record.moved["refs"] == 1 and record.moved["tags"] == 1 and record.moved["attributes"] == 1
    assert AuditEntry.objects.get(action="member.merge").before["source"] == source.pk
    # The merged source is hidden from lists and statistics, still reachable by id.
    assert member_view(viewer=None, member_id=source.pk)["merged_into"] == target.pk
    assert member_counts()["total"] == 1


def test_merge_refusals(db):
    a = member_create(name="甲", mobile="13800000001")
    b = member_create(name="乙", mobile="13800000002")
    c = member_create(name="丙")
    before = (MergeRecord.objects.count(), AuditEntry.objects.count())
    assert code_of(member_merge, source_id=a.pk, target_id=a.pk) == ("MERGE_SAME_MEMBER", "source_id")
    assert code_of(member_merge, source_id=a.pk, target_id=b.pk) == ("MERGE_CONFLICT", "mobile")
    assert (MergeRecord.objects.count(), AuditEntry.objects.count()) == before  # nothing written
    member_merge(source_id=c.pk, target_id=a.pk)
    assert code_of(member_merge, source_id=c.pk, target_id=b.pk) == ("MEMBER_NOT_ACTIVE", None)
    assert (MergeRecord.objects.count(), AuditEntry.objects.count()) == (before[0] + 1, before[1] + 1)


def test_merge_chains_stay_one_hop_and_unsubscribe_reaches_the_survivor(db):
    a, b, c = (
        member_create(name="甲"),
        member_create(name="乙"),
        member_create(name="丙", mobile="13800000003"),
    )
    member_merge(source_id=a.pk, target_id=b.pk)
    member_merge(source_id=b.pk, target_id=c.pk)
    assert Member.objects.get(pk=a.pk).merged_into_id == c.pk
    member_unsubscribe(member_id=a.pk, channel="sms", source="sms_reply")  # an old id in an SMS reply
    assert Consent.objects.get(member=c, channel="sms").state == "withdrawn"


def test_merge_drops_sensitive_data_without_the_survivors_consent(staff, db):
    manager = staff("service_manager")
    tag_create(name="三高人群", kind="sensitive", actor=manager)
    target = member_create(name="甲")
    with clock.frozen(T0):
        source = member_create(name="甲", consents={"sensitive_pi": True})
    member_tag_add(member_id=source.pk, tag_name="三高人群", actor=manager)
    consent_set(member_id=target.pk, channel="sensitive_pi", granted=False, source="operator")  # later
    record = member_merge(source_id=source.pk, target_id=target.pk)
    assert not MemberTag.objects.filter(member=target).exists()
    assert record.moved["sensitive_deleted"] == {"sensitive_tags": 1, "sensitive_attributes": 0}


def test_merge_keeps_the_permanent_flag(db):
    target, source = member_create(name="甲"), member_create(name="甲")
    member_mark_permanent(member_id=source.pk, reason="8000 points gift redeemed")
    member_merge(source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    assert target.is_permanent and target.permanent_since is not None


# --- PIPL export ----------------------------------------------------------------------------------


def test_pipl_export_json_and_xlsx(db, tmp_path):
    agreement_publish(version="1.0", title="会员协议", body="…")
    m = member_create(
        name="赵敏",
        mobile="13800000011",
        email="zm@example.com",
        address="浙江省杭州市西湖区文三路1号",
        refs=[("pos", "A-1")],
        consents={"sms": True},
        agreement_version="1.0",
    )
    member_ref_add(member_id=m.pk, source="taobao", external_id="zhaomin")
    member_lifecycle_set(member_id=m.pk, state="active", reason="first order")
    tag_create(name="在意保质期")
    member_tag_add(member_id=m.pk, tag_name="在意保质期")
    paths = member_pi_export(member_id=m.pk, out_dir=tmp_path / "out")
    assert paths["json"].name == f"member-{m.code}.json"
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc["member"]["mobile"] == "+8613800000011" and doc["member"]["email"] == "zm@example.com"
    assert doc["member"]["address"] == "浙江省杭州市西湖区文三路1号"
    assert {r["external_id"] for r in doc["external_ids"]} == {"A-1", "zhaomin"}
    assert doc["agreements"][0]["version"] == "1.0"
    assert [t["tag"] for t in doc["tags"]] == ["在意保质期"]
    assert [e["to"] for e in doc["lifecycle_history"]] == ["registered", "active"]

    wb = load_workbook(paths["xlsx"])
    assert {"member", "external_ids", "tags", "consents", "consent_history", "agreements"} <= set(
        wb.sheetnames
    )
    member_rows = {row[0]: row[1] for row in wb["member"].iter_rows(min_row=2, values_only=True)}
    assert member_rows["mobile"] == "+8613800000011" and member_rows["name"] == "赵敏"
    refs = list(wb["external_ids"].iter_rows(values_only=True))
    assert refs[0][:2] == ("source", "external_id")
    assert {r[1] for r in refs[1:]} == {"A-1", "zhaomin"}
    assert AuditEntry.objects.filter(action="member.pi_export", object_id=str(m.pk)).count() == 1
    assert code_of(member_pi_export, member_id=999_999, out_dir=tmp_path) == ("NOT_FOUND", "member_id")


# --- PIPL deletion --------------------------------------------------------------------------------


def test_forget_erases_the_person_and_keeps_aggregates(db):
    s2_policy()
    attribute_definition_create(key="size", label="尺码", type="text")
    tag_create(name="在意尺码")
    with clock.frozen(T0):
        m = member_create(
            name="赵敏",
            mobile="13800000011",
            email="zm@example.com",
            gender="F",
            id_number="11010519491231002X",
            birthday=datetime(1990, 5, 17).date(),
            address="浙江省杭州市西湖区文三路1号",
            notes="住在西湖边",
            refs=[("pos", "A-1")],
            consents={"sms": True, "email": True},
        )
        other = member_create(name="路人", mobile="13800000012")
    member_attribute_set(member_id=m.pk, key="size", value="M")
    member_tag_add(member_id=m.pk, tag_name="在意尺码")
    card = membership_card_issue(member_id=m.pk)
    with clock.frozen(T0 + timedelta(days=3)):
        counts_before, per_day_before = member_counts(), new_members_per_day(days=10)

    forgotten = member_forget(member_id=m.pk, reason="member request (PIPL art. 47)")

    m.refresh_from_db()
    assert forgotten.status == "anonymised"
    assert (m.name, m.mobile, m.email, m.id_number, m.birthday) == ("已注销", None, None, "", None)
    assert (m.address_raw, m.address_detail, m.district, m.notes) == ("", "", "", "")
    assert (m.province, m.city, m.gender, m.registered_at) == (
        "浙江省",
        "杭州市",
        "F",
        T0,
    )  # aggregate dimensions
    assert m.exclude_personalised and m.code
    assert not MemberRef.objects.filter(member=m) and not AttributeValue.objects.filter(member=m)
    assert not MemberTag.objects.filter(member=m) and not ConsentEvent.objects.filter(member=m)
    assert set(Consent.objects.filter(member=m).values_list("state", flat=True)) == {"withdrawn"}
    assert Consent.objects.filter(member=m).count() == 6  # every channel, once
    card.refresh_from_db()
    assert (card.member_id, card.fee_fen) == (m.pk, 500)  # the row and the fee paid stay …
    assert (card.state, card.void_reason) == ("void", "pipl_deletion")  # … but it is no longer valid
    with clock.frozen(T0 + timedelta(days=3)):
        assert member_counts()["total"] == counts_before["total"] == 2
        assert member_counts()["with_mobile"] == counts_before["with_mobile"] - 1
        assert new_members_per_day(days=10) == per_day_before
    dumped = json.dumps(list(AuditEntry.objects.values("before", "after")), ensure_ascii=False)
    for secret in ("13800000011", "zm@example.com", "赵敏", "文三路", "1002X", "西湖边"):
        assert secret not in dumped
    assert "13800000012" in dumped  # other members' audit rows are untouched
    row = AuditEntry.objects.get(action="member.forget", object_id=str(m.pk))
    assert row.after == {"reason": "member request (PIPL art. 47)", "members": 1}
    assert code_of(member_lifecycle_set, member_id=m.pk, state="active") == ("MEMBER_NOT_ACTIVE", None)
    assert code_of(member_update, member_id=m.pk, data={"name": "x"}) == ("MEMBER_NOT_ACTIVE", None)
    member_forget(member_id=m.pk, reason="again")  # safe to call twice
    assert AuditEntry.objects.filter(action="member.forget").count() == 1
    assert Member.objects.get(pk=other.pk).mobile == "+8613800000012"


def test_forget_also_erases_merged_duplicates_and_merge_snapshots(db):
    target = member_create(name="王芳", mobile="13800000020")
    source = member_create(name="王芳", email="wf@example.com", refs=[("taobao", "wf_2019")])
    member_merge(source_id=source.pk, target_id=target.pk)
    member_forget(member_id=target.pk, reason="member request")
    source.refresh_from_db()
    assert source.status == "merged" and source.name == "已注销" and source.email is None
    assert MergeRecord.objects.get().source_snapshot == {"anonymised": True}
    dumped = json.dumps(list(AuditEntry.objects.values("before", "after")), ensure_ascii=False)
    assert "wf@example.com" not in dumped and "13800000020" not in dumped and "wf_2019" not in dumped
    assert AuditEntry.objects.get(action="member.forget").after["members"] == 2


def test_forget_needs_a_reason(db):
    m = member_create(name="甲")
    assert code_of(member_forget, member_id=m.pk, reason=" ") == ("FIELD_REQUIRED", "reason")
    assert Member.objects.get(pk=m.pk).status == "active"
