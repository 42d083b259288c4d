"""Hotel charge accounts (签单客户, seed 000): the credit limit in the service and in the database,
immutable entries with an audit row each, idempotent API writes; the conference survey preset."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from laoke.b2b import presets
from laoke.b2b import services_charges as sc
from laoke.b2b.models import ChargeAccount, ChargeEntry, SurveyResponse
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _account(limit=10_000_00, signers=("张经理", "李秘书")):
    return sc.charge_account_create(name="市政府接待办", credit_limit_fen=limit, signers=list(signers))


def test_charges_up_to_the_limit_then_refused_and_settlements(staff):
    cashier = staff("cashier")
    acc = _account()
    sc.charge_record(
        account_id=acc.pk, amount_fen=6_000_00, signer="张经理", reference="房单 1208", actor=cashier
    )
    sc.charge_record(
        account_id=acc.pk, amount_fen=4_000_00, signer="李秘书", actor=cashier
    )  # exactly the limit
    with pytest.raises(DomainError) as exc:
        sc.charge_record(account_id=acc.pk, amount_fen=1, signer="张经理", actor=cashier)
    assert exc.value.code == "B2B_CREDIT_LIMIT"
    assert exc.value.params == {"limit": 10_000_00, "outstanding": 10_000_00}
    with pytest.raises(DomainError) as exc:
        sc.charge_record(account_id=acc.pk, amount_fen=1, signer="路人", actor=cashier)
    assert exc.value.code == "B2B_SIGNER_NOT_ALLOWED"
    with pytest.raises(DomainError) as exc:
        sc.charge_settle(account_id=acc.pk, amount_fen=10_000_01, actor=cashier)
    assert exc.value.code == "B2B_SETTLE_TOO_MUCH"
    entry = sc.charge_settle(account_id=acc.pk, amount_fen=7_500_00, reference="转账", actor=cashier)
    assert entry.outstanding_after == 2_500_00
    sc.charge_record(account_id=acc.pk, amount_fen=7_500_00, signer="张经理", actor=cashier)
    acc.refresh_from_db()
    entries = list(ChargeEntry.objects.filter(account=acc).order_by("pk").values_list("kind", "amount_fen"))
    assert entries == [
        ("charge", 6_000_00),
        ("charge", 4_000_00),
        ("settlement", 7_500_00),
        ("charge", 7_500_00),
    ]
    signed = sum(a if k == "charge" else -a for k, a in entries)
    assert acc.outstanding_fen == signed == 10_000_00
    assert (
        AuditEntry.objects.filter(action__in=["b2b.charge", "b2b.settle"], object_id=str(acc.pk)).count() == 4
    )


def test_the_database_refuses_an_outstanding_over_the_limit_or_below_zero():
    acc = _account(limit=100)
    for value in (101, -1):
        with pytest.raises(IntegrityError), transaction.atomic():
            ChargeAccount.objects.filter(pk=acc.pk).update(outstanding_fen=value)


def test_limit_cannot_drop_below_what_is_owed_and_inactive_accounts_refuse(staff):
    acc = _account(limit=1_000_00, signers=())
    sc.charge_record(account_id=acc.pk, amount_fen=800_00)
    with pytest.raises(DomainError) as exc:
        sc.charge_account_update(account_id=acc.pk, credit_limit_fen=799_99)
    assert exc.value.code == "B2B_LIMIT_BELOW_OUTSTANDING"
    assert sc.charge_account_update(account_id=acc.pk, credit_limit_fen=800_00).credit_limit_fen == 800_00
    sc.charge_account_update(account_id=acc.pk, is_active=False)
    with pytest.raises(DomainError) as exc:
        sc.charge_record(account_id=acc.pk, amount_fen=1)
    assert exc.value.code == "B2B_ACCOUNT_INACTIVE"


def test_api_charge_needs_an_idempotency_key_and_replays(api, staff, django_capture_on_commit_callbacks):
    acc = _account(limit=500_00, signers=())
    desk = api("cashier")
    url = f"/api/v1/b2b/charge-accounts/{acc.pk}/charges"
    body = {"amount_fen": 300_00, "reference": "宴会 A3"}
    r = desk.post(url, body, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    first = desk.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = desk.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert ChargeAccount.objects.get(pk=acc.pk).outstanding_fen == 300_00
    over = desk.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert over.status_code == 409 and over.json()["code"] == "B2B_CREDIT_LIMIT"
    settle = desk.post(
        f"/api/v1/b2b/charge-accounts/{acc.pk}/settlements",
        {"amount_fen": 300_00},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert settle.status_code == 201 and settle.json()["outstanding_after"] == 0


def test_survey_preset_and_responses(staff):
    assert presets.SURVEY_NAME == "会务活动调查表"
    template = sc.survey_template_ensure()
    assert sc.survey_template_ensure().pk == template.pk  # created once
    assert [q["key"] for q in template.questions] == [q["key"] for q in presets.SURVEY_QUESTIONS]
    acc = _account()
    resp = sc.survey_response_add(
        template_id=template.pk,
        event_name="年度工作会议",
        event_on=date(2026, 11, 20),
        charge_account_id=acc.pk,
        respondent="张经理",
        answers={
            "overall": 5,
            "catering": 4,
            "tracking": "是",
            "needs": " 投影更亮一些 ",
            "next_event": "会",
        },
        actor=staff("marketer"),
    )
    assert resp.answers["needs"] == "投影更亮一些"
    for bad in ({"overall": 6}, {"tracking": "也许"}, {"unknown": 1}, {"overall": True}):
        with pytest.raises(DomainError) as exc:
            sc.survey_response_add(
                template_id=template.pk, event_name="会", event_on=date(2026, 11, 20), answers=bad
            )
        assert exc.value.code == "B2B_SURVEY_ANSWER_INVALID"
    assert SurveyResponse.objects.count() == 1


def test_accounts_and_survey_over_the_api(api):
    gm, marketer = api("general_manager"), api("marketer")
    acc = gm.post(
        "/api/v1/b2b/charge-accounts",
        {"name": "会展中心", "credit_limit_fen": 20_000_00, "signers": ["周总"]},
        content_type="application/json",
    )
    assert acc.status_code == 201 and acc.json()["outstanding_fen"] == 0
    r = gm.patch(
        f"/api/v1/b2b/charge-accounts/{acc.json()['id']}",
        {"credit_limit_fen": 30_000_00},
        content_type="application/json",
    )
    assert r.json()["credit_limit_fen"] == 30_000_00
    templates = marketer.get("/api/v1/b2b/surveys").json()
    assert [t["name"] for t in templates] == ["会务活动调查表"]
    url = f"/api/v1/b2b/surveys/{templates[0]['id']}/responses"
    body = {"event_name": "年会", "event_on": "2026-11-28", "answers": {"overall": 4, "next_event": "不确定"}}
    created = marketer.post(url, body, content_type="application/json")
    assert created.status_code == 201 and created.json()["answers"] == {"overall": 4, "next_event": "不确定"}
    bad = marketer.post(url, {**body, "answers": {"overall": 9}}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "B2B_SURVEY_ANSWER_INVALID"
    assert len(marketer.get(url).json()) == 1
