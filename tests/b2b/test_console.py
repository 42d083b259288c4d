"""Console pages of b2b: every page renders for the roles allowed (CONSOLE in permission_matrix.py)
and is refused (403) to the others; the opportunity page walks a project by form posts."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from laoke.b2b import services as s
from laoke.b2b import services_charges as sc
from laoke.b2b.models import Approval, ChargeAccount, Opportunity

from .helpers import project, to_initiation
from .permission_matrix import CONSOLE

pytestmark = pytest.mark.django_db
ROLES = [
    "admin",
    "marketer",
    "analyst",
    "service_manager",
    "service_agent",
    "cashier",
    "redemption_clerk",
    "sales_rep",
    "sales_manager",
    "general_manager",
]


@pytest.mark.parametrize("role", ROLES)
def test_pages_render_for_allowed_roles_and_refuse_the_others(staff, role):
    rep = staff("sales_rep")
    opp = project(rep)
    s.follow_up_add(
        customer_id=opp.customer_id,
        on=date(2026, 11, 30),
        contact_person="王处长",
        method="phone",
        content="约拜访",
    )
    acc = sc.charge_account_create(name="市接待办", credit_limit_fen=100_000, signers=["张经理"])
    sc.charge_record(account_id=acc.pk, amount_fen=12_345, signer="张经理")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(staff(role))
    for (method, path), allowed in CONSOLE.items():
        url = path.replace("{opp}", str(opp.pk)).replace("{account}", str(acc.pk))
        r = client.get(url)
        expected = 200 if role in allowed else 403
        assert r.status_code == expected, (role, url, r.status_code)
        if expected == 200 and url.endswith("/b2b/"):
            body = r.content.decode()
            assert "客户开发" in body and 'data-stage="development"' in body and "chart-funnel" in body
        if expected == 200 and "/charge-accounts/" in url and url.rstrip("/").split("/")[-1].isdigit():
            assert "123.45" in r.content.decode()


def test_opportunity_page_actions_and_the_four_eyes_rule(staff):
    rep, manager = staff("sales_rep"), staff("sales_manager")
    opp = project(rep)
    to_initiation(opp, rep)
    req = s.approval_request(opportunity_id=opp.pk, kind="project", actor=manager)
    action = f"/admin/console/b2b/opportunities/{opp.pk}/action/"
    other_manager = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    other_manager.force_login(staff("sales_manager"))
    r = other_manager.post(action, {"action": "approve", "approval": req.pk}, follow=True)
    assert r.status_code == 200 and "不能审批此步骤" in r.content.decode()
    assert Approval.objects.get(pk=req.pk).state == "pending"
    gm = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    gm.force_login(staff("general_manager"))
    page = gm.get(f"/admin/console/b2b/opportunities/{opp.pk}/")
    assert f'data-testid="approve-{req.pk}"' in page.content.decode()
    gm.post(action, {"action": "approve", "approval": req.pk})
    assert Approval.objects.get(pk=req.pk).state == "approved"
    desk = Client()
    desk.force_login(rep)
    desk.post(action, {"action": "advance"})
    assert Opportunity.objects.get(pk=opp.pk).stage == "proposal"
    desk.post(action, {"action": "check", "stage": "proposal", "item": "0", "done": "1"})
    assert 0 in Opportunity.objects.get(pk=opp.pk).checklist["proposal"]
    assert (
        desk.post(
            action, {"action": "close", "outcome": "lost", "reason": "bid_lost", "summary": "x"}
        ).status_code
        == 403
    )


def test_front_desk_charge_form_records_once_and_refuses_over_the_limit(staff):
    acc = sc.charge_account_create(name="市接待办", credit_limit_fen=500_00, signers=["张经理"])
    desk = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    desk.force_login(staff("cashier"))
    page = desk.get(f"/admin/console/b2b/charge-accounts/{acc.pk}/").content.decode()
    assert 'data-testid="entry-form"' in page
    url = f"/admin/console/b2b/charge-accounts/{acc.pk}/entry/"
    form = {
        "key": "form-1",
        "kind": "charge",
        "amount_yuan": "300.50",
        "signer": "张经理",
        "reference": "宴会",
    }
    desk.post(url, form)
    desk.post(url, form)  # the same form submitted twice
    acc.refresh_from_db()
    assert acc.outstanding_fen == 300_50 and acc.entries.count() == 1
    r = desk.post(url, {**form, "key": "form-2"}, follow=True)
    assert "超出签单额度" in r.content.decode()
    assert ChargeAccount.objects.get(pk=acc.pk).outstanding_fen == 300_50
    rep = Client()
    rep.force_login(staff("sales_rep"))
    assert rep.post(url, {**form, "key": "form-3"}).status_code == 403


def test_console_files_requests_signs_and_adds_follow_ups(staff):
    rep, manager, gm = staff("sales_rep"), staff("sales_manager"), staff("general_manager")
    opp = project(rep)
    to_initiation(opp, rep)
    action = f"/admin/console/b2b/opportunities/{opp.pk}/action/"
    desk = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    desk.force_login(rep)
    assert (
        'data-testid="request-form"'
        in desk.get(f"/admin/console/b2b/opportunities/{opp.pk}/").content.decode()
    )
    desk.post(action, {"action": "request", "kind": "project"})
    req = Approval.objects.get(opportunity=opp, kind="project")
    assert req.requested_by_id == rep.pk and req.details["customer_lead"] == "王处长"
    s.approval_decide(approval_id=req.pk, approve=True, actor=manager)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    s.opportunity_check(opportunity_id=opp.pk, stage="proposal", item=0, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    desk.post(action, {"action": "request", "kind": "bid", "amount_yuan": "950000", "margin_pct": "21.5"})
    bid = Approval.objects.get(opportunity=opp, kind="bid")
    assert (bid.amount_fen, bid.margin_bp) == (950_000_00, 2150)
    s.approval_decide(approval_id=bid.pk, approve=True, actor=manager)
    s.opportunity_check(opportunity_id=opp.pk, stage="bidding", item=0, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    r = desk.post(
        action,
        {
            "action": "request",
            "kind": "contract",
            "amount_yuan": "950000",
            "schedule": "2027-03-31 500000\n2027-06-30 400000",
        },
        follow=True,
    )
    assert "收款计划各期金额之和须等于合同金额" in r.content.decode()
    desk.post(
        action,
        {
            "action": "request",
            "kind": "contract",
            "amount_yuan": "950000",
            "schedule": "2027-03-31 550000\n2027-06-30 400000.00",
        },
    )
    contract_req = Approval.objects.get(opportunity=opp, kind="contract")
    assert contract_req.details["installments"] == [
        {"due_on": "2027-03-31", "amount_fen": 550_000_00},
        {"due_on": "2027-06-30", "amount_fen": 400_000_00},
    ]
    s.approval_decide(approval_id=contract_req.pk, approve=True, actor=gm)
    desk.post(action, {"action": "sign", "signed_on": "2027-01-15"})
    desk.post(
        action,
        {
            "action": "follow_up",
            "on": "2027-01-16",
            "contact_person": "王处长",
            "method": "phone",
            "content": "确认开工",
        },
    )
    opp.refresh_from_db()
    assert opp.contract.signed_on == date(2027, 1, 15) and opp.follow_ups.get().content == "确认开工"
    desk.post(action, {"action": "advance"})
    assert Opportunity.objects.get(pk=opp.pk).stage == "delivery"
