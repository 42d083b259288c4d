"""The six-stage pipeline (seed 002): presets, stage gates and history, the 立项 report, each
approval step's four-eyes rule, close-out at any stage, the collection schedule and its tick."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from laoke.b2b import presets
from laoke.b2b import services as s
from laoke.b2b.models import Approval, Installment, Opportunity, OverdueNotice, StageChange
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry

from .helpers import approve, customer, project, to_delivery, to_initiation

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_stage_presets_are_the_seeds_six_stages_with_their_key_nodes():
    assert [(st.name, st.key_node) for st in presets.STAGES] == [
        ("客户开发", "准确的项目信息"),
        ("立项", "售前立项"),
        ("提案", "有效的客户关系推进"),
        ("招投标", "投标或议标"),
        ("商务谈判", "合同审批和合同签订"),
        ("工程实施", "工程验收和项目结项"),
    ]
    assert all(st.checklist[0] == st.key_node for st in presets.STAGES)
    assert {st.key: st.approval for st in presets.STAGES if st.approval} == {
        "initiation": "project",
        "bidding": "bid",
        "negotiation": "contract",
    }


def test_level_presets_a_to_d_and_the_report_fields():
    assert [lv.key for lv in presets.LEVELS] == ["A", "B", "C", "D"]
    assert [lv.name for lv in presets.LEVELS] == ["A级客户", "B级客户", "C级客户", "D级客户"]
    days = [lv.follow_up_days for lv in presets.LEVELS]
    assert days == sorted(days)  # the better the customer, the more often it is followed up
    assert [label for _k, label in presets.PROJECT_REPORT_FIELDS] == [
        "项目名称",
        "项目编号",
        "客户方负责人",
        "预计签约金额",
        "项目毛利率估计",
        "销售费用预算",
        "项目分类",
        "预计签约时间",
    ]


def test_customer_levels_are_checked(staff):
    rep = staff("sales_rep")
    for level in "ABCD":
        assert customer(rep, level=level, name=f"客户{level}").level == level
    with pytest.raises(DomainError) as exc:
        customer(rep, level="E")
    assert exc.value.code == "B2B_LEVEL_INVALID"
    cust = customer(rep, level="D", name="新客户")
    assert s.big_customer_set_level(customer_id=cust.pk, level="B", actor=rep).level == "B"
    for ref in ("group_account_id", "member_id", "branch_id"):
        with pytest.raises(DomainError) as exc:
            s.big_customer_create(name="错号", level="C", **{ref: 987654})
        assert (exc.value.code, exc.value.field) == ("B2B_FIELD_INVALID", ref)


def test_stages_move_forward_one_at_a_time_with_history(staff):
    rep, manager = staff("sales_rep"), staff("sales_manager")
    opp = project(rep)
    assert opp.number == f"XM{opp.created_at.astimezone(SH).year}{opp.pk:05d}"
    with pytest.raises(DomainError) as exc:  # key node not done
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    assert exc.value.code == "B2B_KEY_NODE_OPEN"
    s.opportunity_check(opportunity_id=opp.pk, stage="development", item=0, actor=rep)
    with pytest.raises(DomainError) as exc:  # no skipping
        s.opportunity_advance(opportunity_id=opp.pk, to_stage="proposal", actor=rep)
    assert exc.value.code == "B2B_STAGE_INVALID"
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    with pytest.raises(DomainError) as exc:  # 立项 needs its approval
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    assert exc.value.code == "B2B_APPROVAL_NEEDED"
    with pytest.raises(DomainError) as exc:  # the approval ticks 立项's key node, not the rep
        s.opportunity_check(opportunity_id=opp.pk, stage="initiation", item=0, actor=rep)
    assert exc.value.code == "B2B_FIELD_INVALID"
    approve(opp, "project", rep, manager)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    history = list(StageChange.objects.filter(opportunity=opp).values_list("from_stage", "to_stage", "by_id"))
    assert history == [
        ("", "development", rep.pk),
        ("development", "initiation", rep.pk),
        ("initiation", "proposal", rep.pk),
    ]
    assert AuditEntry.objects.filter(action="b2b.opportunity.advance", object_id=str(opp.pk)).count() == 2


def test_project_report_must_be_complete_and_is_snapshotted(staff):
    rep, manager = staff("sales_rep"), staff("sales_manager")
    opp = s.opportunity_create(customer_id=customer(rep).pk, name="酒店客房升级", actor=rep)
    to_initiation(opp, rep)
    with pytest.raises(DomainError) as exc:
        s.approval_request(opportunity_id=opp.pk, kind="project", actor=rep)
    assert exc.value.code == "B2B_PROJECT_REPORT_INCOMPLETE"
    assert "customer_lead" in exc.value.params["missing"]
    s.opportunity_update(
        opportunity_id=opp.pk,
        changes={
            "customer_lead": "李总",
            "expected_amount_fen": 500_000_00,
            "estimated_margin_bp": 1800,
            "sales_budget_fen": 20_000_00,
            "category": "客房",
            "expected_sign_on": date(2027, 5, 1),
        },
        actor=rep,
    )
    req = s.approval_request(opportunity_id=opp.pk, kind="project", actor=rep)
    assert req.details == {
        "name": "酒店客房升级",
        "number": opp.number,
        "customer_lead": "李总",
        "expected_amount_fen": 500_000_00,
        "estimated_margin_bp": 1800,
        "sales_budget_fen": 20_000_00,
        "category": "客房",
        "expected_sign_on": "2027-05-01",
    }
    assert req.requester_roles == ["sales_rep"]
    with pytest.raises(DomainError) as exc:
        s.approval_request(opportunity_id=opp.pk, kind="project", actor=rep)
    assert exc.value.code == "B2B_APPROVAL_PENDING"
    s.approval_decide(approval_id=req.pk, approve=False, note="毛利偏低", actor=manager)
    assert Approval.objects.get(pk=req.pk).state == "rejected"
    with pytest.raises(DomainError):
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)


def _pending(kind, staff):
    """A request of ``kind`` filed by a sales manager (a role that may itself decide that step)."""
    rep, requester, gm = staff("sales_rep"), staff("sales_manager"), staff("general_manager")
    opp = project(rep)
    to_initiation(opp, rep)
    if kind != "project":
        approve(opp, "project", rep, gm)
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
        s.opportunity_check(opportunity_id=opp.pk, stage="proposal", item=0, actor=rep)
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    if kind == "contract":
        approve(opp, "bid", rep, gm, amount_fen=900_000_00)
        s.opportunity_check(opportunity_id=opp.pk, stage="bidding", item=0, actor=rep)
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    extra = {
        "project": {},
        "bid": {"amount_fen": 900_000_00, "margin_bp": 2000},
        "contract": {
            "amount_fen": 900_000_00,
            "installments": [{"due_on": "2027-02-01", "amount_fen": 900_000_00}],
        },
    }[kind]
    return s.approval_request(opportunity_id=opp.pk, kind=kind, actor=requester, **extra), requester


@pytest.mark.parametrize(
    ("kind", "other_of_same_role"),
    [("project", "sales_manager"), ("bid", "sales_manager"), ("contract", "sales_manager")],
)
def test_every_approval_step_refuses_the_requester_and_the_requesting_role(staff, kind, other_of_same_role):
    req, requester = _pending(kind, staff)
    assert req.requester_roles == ["sales_manager"]
    with pytest.raises(DomainError) as exc:
        s.approval_decide(approval_id=req.pk, approve=True, actor=requester)
    expected_own = "APPROVAL_PERMISSION" if kind == "contract" else "APPROVAL_OWN_REQUEST"
    assert exc.value.code == expected_own  # a sales manager may not approve contracts at all
    with pytest.raises(DomainError) as exc:
        s.approval_decide(approval_id=req.pk, approve=True, actor=staff(other_of_same_role))
    assert exc.value.code == ("APPROVAL_PERMISSION" if kind == "contract" else "APPROVAL_OWN_ROLE")
    with pytest.raises(DomainError) as exc:
        s.approval_decide(approval_id=req.pk, approve=True, actor=staff("sales_rep"))
    assert exc.value.code == "APPROVAL_PERMISSION"
    assert Approval.objects.get(pk=req.pk).state == "pending"
    done = s.approval_decide(approval_id=req.pk, approve=True, actor=staff("general_manager"))
    assert done.state == "approved"


@pytest.mark.parametrize("kind", ["project", "bid", "contract"])
def test_a_general_managers_request_is_refused_to_another_general_manager(staff, kind):
    rep, gm1, gm2, manager = (
        staff("sales_rep"),
        staff("general_manager"),
        staff("general_manager"),
        staff("sales_manager"),
    )
    opp = project(rep)
    to_initiation(opp, rep)
    if kind != "project":
        approve(opp, "project", rep, manager)
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
        s.opportunity_check(opportunity_id=opp.pk, stage="proposal", item=0, actor=rep)
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    if kind == "contract":
        approve(opp, "bid", rep, manager, amount_fen=5_00)
        s.opportunity_check(opportunity_id=opp.pk, stage="bidding", item=0, actor=rep)
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    extra = {
        "project": {},
        "bid": {"amount_fen": 5_00},
        "contract": {"amount_fen": 5_00, "installments": [{"due_on": "2027-01-01", "amount_fen": 5_00}]},
    }[kind]
    req = s.approval_request(opportunity_id=opp.pk, kind=kind, actor=gm1, **extra)
    for actor, code in ((gm1, "APPROVAL_OWN_REQUEST"), (gm2, "APPROVAL_OWN_ROLE")):
        with pytest.raises(DomainError) as exc:
            s.approval_decide(approval_id=req.pk, approve=True, actor=actor)
        assert exc.value.code == code
    assert Approval.objects.get(pk=req.pk).state == "pending"


@pytest.mark.parametrize("stage_count", range(6))
def test_close_out_at_any_stage_with_reason_and_summary(staff, stage_count):
    rep, manager, gm = staff("sales_rep"), staff("sales_manager"), staff("general_manager")
    opp = project(rep)
    if stage_count == 5:
        to_delivery(opp, rep, manager, gm, schedule=[("2027-02-01", 1_000_000_00)])
    else:
        steps = [
            lambda: to_initiation(opp, rep),
            lambda: (
                approve(opp, "project", rep, manager),
                s.opportunity_advance(opportunity_id=opp.pk, actor=rep),
            ),
            lambda: (
                s.opportunity_check(opportunity_id=opp.pk, stage="proposal", item=0, actor=rep),
                s.opportunity_advance(opportunity_id=opp.pk, actor=rep),
            ),
            lambda: (
                approve(opp, "bid", rep, manager, amount_fen=9_00),
                s.opportunity_check(opportunity_id=opp.pk, stage="bidding", item=0, actor=rep),
                s.opportunity_advance(opportunity_id=opp.pk, actor=rep),
            ),
        ]
        for step in steps[:stage_count]:
            step()
    opp.refresh_from_db()
    assert opp.stage == presets.STAGE_KEYS[stage_count]
    with pytest.raises(DomainError) as exc:  # a reason that does not fit the outcome
        s.opportunity_close(
            opportunity_id=opp.pk, outcome="lost", reason="accepted", summary="x", actor=manager
        )
    assert exc.value.code == "B2B_CLOSE_REASON_INVALID"
    with pytest.raises(DomainError) as exc:  # no summary
        s.opportunity_close(
            opportunity_id=opp.pk, outcome="lost", reason="bid_lost", summary=" ", actor=manager
        )
    assert exc.value.code == "B2B_CLOSE_REASON_INVALID"
    if stage_count < 5:
        with pytest.raises(DomainError) as exc:  # won needs a signed contract
            s.opportunity_close(
                opportunity_id=opp.pk, outcome="won", reason="accepted", summary="验收", actor=manager
            )
        assert exc.value.code == "B2B_CONTRACT_UNSIGNED"
        closed = s.opportunity_close(
            opportunity_id=opp.pk,
            outcome="abandoned",
            reason="cost_too_high",
            summary="成本过高",
            actor=manager,
        )
    else:
        closed = s.opportunity_close(
            opportunity_id=opp.pk, outcome="won", reason="accepted", summary="工程验收通过", actor=manager
        )
    assert closed.status in ("abandoned", "won") and closed.closed_at is not None
    last = StageChange.objects.filter(opportunity=opp).last()
    assert (last.to_stage, last.status) == (presets.STAGE_KEYS[stage_count], closed.status)
    with pytest.raises(DomainError) as exc:
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    assert exc.value.code == "B2B_OPPORTUNITY_CLOSED"


def test_collection_schedule_overdue_tick_and_notice(staff):
    rep, manager, gm = staff("sales_rep"), staff("sales_manager"), staff("general_manager")
    opp = project(rep)
    with pytest.raises(DomainError) as exc:
        s.approval_request(opportunity_id=opp.pk, kind="contract", amount_fen=1, actor=rep)
    assert exc.value.code == "B2B_APPROVAL_WRONG_STAGE"
    schedule = [("2027-01-31", 300_000_00), ("2027-03-31", 500_000_00), ("2027-06-30", 200_000_00)]
    contract = to_delivery(opp, rep, manager, gm, schedule=schedule)
    insts = list(contract.installments.order_by("seq"))
    assert [(i.due_on.isoformat(), i.amount_fen) for i in insts] == schedule
    s.installment_collect(installment_id=insts[0].pk, amount_fen=100_000_00, on=date(2027, 1, 20), actor=rep)
    with pytest.raises(DomainError) as exc:
        s.installment_collect(
            installment_id=insts[0].pk, amount_fen=200_000_01, on=date(2027, 1, 21), actor=rep
        )
    assert exc.value.code == "B2B_COLLECT_TOO_MUCH" and exc.value.params["remaining"] == 200_000_00
    done = s.installment_collect(
        installment_id=insts[0].pk, amount_fen=200_000_00, on=date(2027, 1, 25), actor=rep
    )
    assert (done.collected_fen, done.collected_on) == (300_000_00, date(2027, 1, 25))
    # 2027-04-01 00:30 in Shanghai is still 2027-03-31 in UTC: the shop's day decides.
    now = datetime(2027, 4, 1, 0, 30, tzinfo=SH).astimezone(ZoneInfo("UTC"))
    assert s.b2b_tick(now) == {"overdue_flagged": 1}
    assert s.b2b_tick(now + timedelta(days=1)) == {"overdue_flagged": 0}  # once per installment
    notice = OverdueNotice.objects.get()
    assert notice.installment_id == insts[1].pk and notice.owner_id == rep.pk
    assert "50000000" in notice.text
    assert Installment.objects.get(pk=insts[1].pk).overdue_since == now
    assert s.b2b_tick(datetime(2027, 3, 30, tzinfo=SH)) == {"overdue_flagged": 0}


def test_schedule_must_add_up_to_the_contract(staff):
    rep, manager = staff("sales_rep"), staff("sales_manager")
    opp = project(rep)
    to_initiation(opp, rep)
    approve(opp, "project", rep, manager)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    s.opportunity_check(opportunity_id=opp.pk, stage="proposal", item=0, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    approve(opp, "bid", rep, manager, amount_fen=100)
    s.opportunity_check(opportunity_id=opp.pk, stage="bidding", item=0, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    with pytest.raises(DomainError) as exc:
        s.approval_request(
            opportunity_id=opp.pk,
            kind="contract",
            amount_fen=100,
            installments=[
                {"due_on": "2027-01-01", "amount_fen": 60},
                {"due_on": "2027-02-01", "amount_fen": 30},
            ],
            actor=rep,
        )
    assert exc.value.code == "B2B_SCHEDULE_INVALID" and exc.value.params == {"total": 90, "amount": 100}
    assert Opportunity.objects.get(pk=opp.pk).stage == "negotiation"


def test_follow_up_sheet_rows(staff):
    rep = staff("sales_rep")
    cust = customer(rep)
    opp = project(rep, cust)
    row = s.follow_up_add(
        customer_id=cust.pk,
        opportunity_id=opp.pk,
        on=date(2026, 12, 1),
        contact_person="王处长",
        method="visit",
        content="介绍会议中心方案",
        result="客户有意向",
        next_step="提交建议书",
        actor=rep,
    )
    assert (row.by_id, row.method, row.next_step) == (rep.pk, "visit", "提交建议书")
    with pytest.raises(DomainError):
        s.follow_up_add(
            customer_id=cust.pk, on=date(2026, 12, 1), contact_person="x", method="fax", content="y"
        )
