"""Member archive services: consent, tags, attributes, cards, merge, PIPL export and deletion."""

import json
import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from openpyxl import load_workbook

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.members.cards import card_policy_activate, membership_card_issue, membership_card_replace
from laoke.members.models import CardPolicy, ConsentEvent, Member, MemberRef, MembershipCard, MergeRecord
from laoke.members.privacy import member_forget, member_merge, member_pi_export, member_view
from laoke.members.services import (
    agreement_publish,
    attribute_definition_create,
    consent_set,
    group_account_create,
    member_attribute_set,
    member_create,
    member_lifecycle_set,
    member_mark_permanent,
    member_ref_add,
    member_tag_add,
    member_unsubscribe,
    tag_create,
)

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)


def _code(fn, *args, **kwargs):
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    return exc.value.code


@pytest.fixture
def policy(db):
    p = CardPolicy.objects.create(
        name="S2",
        validity_days=730,
        fee_fen=500,
        group_fee_bp=8000,
        waiver_threshold_fen=20_000,
        replacement_fee_fen=200,
        created_at=clock.now(),
    )
    return card_policy_activate(policy_id=p.pk)


def test_consent_history_and_unsubscribe(db):
    m = member_create(name="甲", mobile="13800000001", consents={"sms": True, "email": True})
    member_unsubscribe(member_id=m.pk, channel="sms", source="sms_reply", note="回复 TD")
    consent_set(
        member_id=m.pk, channel="sms", granted=True, source="operator"
    )  # re-opt-in, by the member's wish
    history = list(
        ConsentEvent.objects.filter(member=m, channel="sms").order_by("id").values_list("state", "source")
    )
    assert history == [("granted", "registration"), ("withdrawn", "sms_reply"), ("granted", "operator")]
    assert AuditEntry.objects.filter(action="consent.set", object_id=str(m.pk)).count() == 4
    consent_set(member_id=m.pk, channel="sms", granted=True, source="operator")  # no change, no new history
    assert ConsentEvent.objects.filter(member=m, channel="sms").count() == 3
    assert (
        _code(consent_set, member_id=m.pk, channel="fax", granted=True, source="x")
        == "CONSENT_CHANNEL_INVALID"
    )


def test_sensitive_tags_need_permission_and_separate_consent(staff, db):
    m = member_create(name="乙")
    tag = tag_create(name="三高人群", kind="sensitive")
    agent = staff("service_agent")
    manager = staff("service_manager")
    assert _code(member_tag_add, member_id=m.pk, tag_name=tag.name, actor=agent) == "TAG_SENSITIVE_PERMISSION"
    assert (
        _code(member_tag_add, member_id=m.pk, tag_name=tag.name, actor=manager)
        == "SENSITIVE_CONSENT_REQUIRED"
    )
    consent_set(member_id=m.pk, channel="sensitive_pi", granted=True, source="signed form")
    member_tag_add(member_id=m.pk, tag_name=tag.name, actor=manager)
    assert "三高人群" in member_view(viewer=manager, member_id=m.pk)["tags"]
    assert "三高人群" not in member_view(viewer=agent, member_id=m.pk)["tags"]


@pytest.mark.parametrize(
    ("type_", "choices", "good", "stored", "bad"),
    [
        ("integer", [], 8, 8, "eight"),
        ("boolean", [], True, True, "yes"),
        ("date", [], "2025-06-01", "2025-06-01", "June"),
        ("choice", ["S", "M"], "M", "M", "XL"),
        ("decimal", [], "1.25", "1.2500", "1.2.3"),
    ],
)
def test_typed_attributes(db, type_, choices, good, stored, bad):
    m = member_create(name="丙")
    attribute_definition_create(key="a", label="属性", type=type_, choices=choices)
    member_attribute_set(member_id=m.pk, key="a", value=good)
    assert member_view(viewer=None, member_id=m.pk)["attributes"] == [
        {"key": "a", "label": "属性", "value": stored}
    ]
    assert _code(member_attribute_set, member_id=m.pk, key="a", value=bad) in (
        "ATTRIBUTE_TYPE_MISMATCH",
        "ATTRIBUTE_CHOICE_INVALID",
    )
    assert _code(member_attribute_set, member_id=m.pk, key="nope", value=1) == "ATTRIBUTE_UNKNOWN"


def test_card_fee_waiver_group_rate_permanent_and_replacement(policy, db):
    plain = member_create(name="丁")
    card = membership_card_issue(member_id=plain.pk, purchase_fen=9_900)
    assert (card.fee_fen, card.fee_note) == (500, "standard fee")
    with clock.frozen(T0):
        waived = membership_card_issue(member_id=member_create(name="戊").pk, purchase_fen=20_000)
    assert waived.fee_fen == 0 and waived.valid_until == date(2028, 11, 10)  # 730 days, Shanghai date
    group = group_account_create(name="某公司")
    assert membership_card_issue(member_id=member_create(name="己", group_account=group).pk).fee_fen == 400
    vip = member_create(name="庚")
    member_mark_permanent(member_id=vip.pk, reason="8000 points gift redeemed")
    assert membership_card_issue(member_id=vip.pk).fee_fen == 0
    assert _code(membership_card_issue, member_id=plain.pk) == "CARD_ALREADY_ACTIVE"
    assert _code(membership_card_replace, member_id=plain.pk) == "CARD_REPLACEMENT_PROOF_REQUIRED"
    assert (
        _code(membership_card_replace, member_id=plain.pk, old_number="000")
        == "CARD_REPLACEMENT_PROOF_REQUIRED"
    )
    new = membership_card_replace(member_id=plain.pk, old_number=card.number)
    card.refresh_from_db()
    assert card.state == "void" and card.void_reason == "replaced" and new.replaces_id == card.pk
    assert new.fee_fen == 200 and new.valid_until == card.valid_until
    assert MembershipCard.objects.filter(member=plain, state="active").count() == 1


def test_merge_keeps_history_and_moves_identity(policy, db):
    target = member_create(name="王芳", source="store", consents={"sms": True})
    with clock.frozen(T0):
        source = member_create(
            name="王芳",
            mobile="13800000009",
            source="taobao",
            refs=[("taobao", "wf_2019")],
            consents={"sms": False},
        )
    tag_create(name="在意尺码")
    member_tag_add(member_id=source.pk, tag_name="在意尺码")
    membership_card_issue(member_id=source.pk)
    record = member_merge(source_id=source.pk, target_id=target.pk)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.status == "merged" and source.merged_into_id == target.pk and source.mobile is None
    assert target.mobile == "+8613800000009"
    assert MemberRef.objects.get(source="taobao", external_id="wf_2019").member_id == target.pk
    view = member_view(viewer=None, member_id=target.pk)
    assert view["tags"] == ["在意尺码"]
    assert {c["channel"]: c["state"] for c in view["consents"]} == {
        "sms": "granted"
    }  # the later decision wins
    assert ConsentEvent.objects.filter(member=target, channel="sms").count() == 2  # both histories kept
    assert MembershipCard.objects.get(member=target).state == "void"
    assert record.source_snapshot["mobile"] == "+8613800000009"
    assert MergeRecord.objects.count() == 1
    assert _code(member_merge, source_id=target.pk, target_id=target.pk) == "MERGE_SAME_MEMBER"
    other = member_create(name="其他", mobile="13800000010")
    assert _code(member_merge, source_id=other.pk, target_id=target.pk) == "MERGE_CONFLICT"


def test_pipl_export_and_forget(db, tmp_path):
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
    paths = member_pi_export(member_id=m.pk, out_dir=tmp_path)
    doc = json.loads(paths["json"].read_text())
    assert doc["member"]["mobile"] == "+8613800000011"
    assert {r["external_id"] for r in doc["external_ids"]} == {"A-1", "zhaomin"}
    assert doc["agreements"][0]["version"] == "1.0"
    wb = load_workbook(paths["xlsx"])
    assert {"member", "consents", "external_ids"} <= set(wb.sheetnames)
    assert any(row[1].value == "+8613800000011" for row in wb["member"].iter_rows())

    total_before = Member.objects.count()
    member_forget(member_id=m.pk, reason="member request")
    m.refresh_from_db()
    assert (m.name, m.mobile, m.email, m.address_raw, m.status) == ("已注销", None, None, "", "anonymised")
    assert m.province == "浙江省"  # aggregates by region still add up
    assert Member.objects.count() == total_before
    assert not MemberRef.objects.filter(member=m).exists()
    dumped = json.dumps(
        list(AuditEntry.objects.filter(object_id=str(m.pk)).values("before", "after")), ensure_ascii=False
    )
    assert "13800000011" not in dumped and "zm@example.com" not in dumped
    assert AuditEntry.objects.filter(action="member.forget", object_id=str(m.pk)).exists()
    assert _code(member_lifecycle_set, member_id=m.pk, state="active") == "MEMBER_NOT_ACTIVE"


@pytest.mark.pg
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_sixteen_registrations_of_one_mobile_make_one_member():
    barrier = threading.Barrier(16)
    codes = []
    lock = threading.Lock()

    def worker(i):
        try:
            barrier.wait(timeout=30)
            member_create(name=f"抢注{i}", mobile="13900001111")
            result = "ok"
        except DomainError as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            codes.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Member.objects.filter(mobile="+8613900001111").count() == 1
    assert sorted(codes) == ["MEMBER_MOBILE_TAKEN"] * 15 + ["ok"]
