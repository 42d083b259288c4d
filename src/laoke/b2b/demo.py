"""Demo data of b2b: big customers A–D with projects at every stage of the seed's pipeline (one
won with its contract and collections, one lost, one overdue), follow-up rows, hotel charge
accounts with 签单 and 结账, and conference-survey responses. Called by laoke/demo.py."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model

from laoke.core import clock
from laoke.core.services import staff_user_create

from . import services as s
from . import services_charges as sc

CUSTOMERS = [  # name, level, contact, type
    ("华东电力集团培训中心", "A", "王处长", "国企"),
    ("市政府接待办公室", "A", "张主任", "政府机关"),
    ("恒信医药有限公司", "B", "李经理", "企业"),
    ("新锐科技股份有限公司", "C", "陈总监", "企业"),
    ("滨江商会", "D", "刘秘书长", "社团"),
]
PROJECTS = [  # customer index, name, amount (yuan), stage to reach, outcome
    (0, "年度培训会议包场", 860_000, "delivery", "collect"),
    (1, "春季招商会议", 240_000, "delivery", "won"),
    (1, "年终客户答谢联络会", 320_000, "negotiation", ""),
    (2, "新品发布会及客房团购", 450_000, "bidding", ""),
    (3, "员工年会", 180_000, "proposal", ""),
    (4, "商会年会", 120_000, "initiation", ""),
    (2, "学术研讨会", 260_000, "development", ""),
    (3, "季度经销商大会", 150_000, "bidding", "lost"),
]


def _user(role: str):
    User = get_user_model()
    found = User.objects.filter(username=f"demo_{role}").first()
    return found or staff_user_create(username=f"demo_{role}", password=secrets.token_urlsafe(16), role=role)


def _walk(opp, target: str, rep, manager, gm, amount_fen: int, today) -> None:
    order = ["development", "initiation", "proposal", "bidding", "negotiation", "delivery"]
    for stage in order[: order.index(target)]:
        if stage == "initiation":
            s.approval_decide(
                approval_id=s.approval_request(opportunity_id=opp.pk, kind="project", actor=rep).pk,
                approve=True,
                actor=manager,
            )
        elif stage == "bidding":
            req = s.approval_request(
                opportunity_id=opp.pk, kind="bid", amount_fen=amount_fen, margin_bp=2200, actor=rep
            )
            s.approval_decide(approval_id=req.pk, approve=True, actor=manager)
            s.opportunity_check(opportunity_id=opp.pk, stage=stage, item=0, actor=rep)
        elif stage == "negotiation":
            first = amount_fen * 3 // 10
            req = s.approval_request(
                opportunity_id=opp.pk,
                kind="contract",
                amount_fen=amount_fen,
                installments=[
                    {"due_on": today - timedelta(days=20), "amount_fen": first},
                    {"due_on": today + timedelta(days=40), "amount_fen": amount_fen - first},
                ],
                actor=rep,
            )
            s.approval_decide(approval_id=req.pk, approve=True, actor=gm)
            s.contract_sign(opportunity_id=opp.pk, signed_on=today - timedelta(days=45), actor=rep)
        else:
            s.opportunity_check(opportunity_id=opp.pk, stage=stage, item=0, actor=rep)
        s.opportunity_advance(opportunity_id=opp.pk, actor=rep)


def demo_load(*, rng, now) -> dict:
    rep, manager, gm = _user("sales_rep"), _user("sales_manager"), _user("general_manager")
    today = clock.to_local(now).date()
    customers = [
        s.big_customer_create(name=n, level=lv, owner_id=rep.pk, contact_name=c, industry=t, actor=rep)
        for n, lv, c, t in CUSTOMERS
    ]
    opps = []
    for i, (ci, name, yuan, stage, outcome) in enumerate(PROJECTS):
        cust = customers[ci]
        opp = s.opportunity_create(
            customer_id=cust.pk,
            name=name,
            customer_lead=CUSTOMERS[ci][2],
            expected_amount_fen=yuan * 100,
            estimated_margin_bp=int(rng.integers(1500, 3500)) if hasattr(rng, "integers") else 2500,
            sales_budget_fen=yuan * 3,
            category="会议" if "会" in name else "客房",
            expected_sign_on=today + timedelta(days=30 + 10 * i),
            next_action="拜访客户决策人",
            next_action_on=today + timedelta(days=3 + i),
            actor=rep,
        )
        s.follow_up_add(
            customer_id=cust.pk,
            opportunity_id=opp.pk,
            on=today - timedelta(days=7),
            contact_person=CUSTOMERS[ci][2],
            method="visit",
            content=f"介绍{name}方案",
            result="客户有意向",
            next_step="提交建议书",
            actor=rep,
        )
        _walk(opp, stage, rep, manager, gm, yuan * 100, today)
        if outcome == "collect":  # half of the first (overdue) installment collected
            inst = opp.contract.installments.order_by("seq").first()
            s.installment_collect(
                installment_id=inst.pk, amount_fen=inst.amount_fen // 2, on=today, actor=rep
            )
        elif outcome == "won":
            for inst in opp.contract.installments.order_by("seq"):
                s.installment_collect(installment_id=inst.pk, amount_fen=inst.amount_fen, on=today, actor=rep)
            s.opportunity_close(
                opportunity_id=opp.pk,
                outcome="won",
                reason="accepted",
                summary="工程验收，项目结项",
                actor=manager,
            )
        elif outcome == "lost":
            s.opportunity_close(
                opportunity_id=opp.pk,
                outcome="lost",
                reason="bid_lost",
                summary="价格高于竞争对手",
                actor=manager,
            )
        opps.append(opp)
    flagged = s.b2b_tick(now)
    accounts = []
    for name, limit, signers in (
        ("市政府接待办公室（签单）", 50_000_00, ["张主任", "赵科长"]),
        ("华东电力集团培训中心（签单）", 100_000_00, ["王处长"]),
    ):
        acc = sc.charge_account_create(
            name=name, credit_limit_fen=limit, signers=signers, discount_bp=1200, actor=manager
        )
        for k in range(3):
            sc.charge_record(
                account_id=acc.pk,
                amount_fen=int(rng.integers(800, 6000)) * 100 if hasattr(rng, "integers") else 3000_00,
                signer=signers[k % len(signers)],
                reference=f"房单 {1200 + k}",
            )
        sc.charge_settle(account_id=acc.pk, amount_fen=1000_00, reference="转账")
        accounts.append(acc)
    template = sc.survey_template_ensure()
    for k, (overall, needs) in enumerate(((5, "投影更亮一些"), (4, "茶歇品种多一些"), (3, "停车位不够"))):
        sc.survey_response_add(
            template_id=template.pk,
            event_name="年度培训会议",
            event_on=today - timedelta(days=5),
            customer_id=customers[0].pk,
            respondent=f"参会代表{k + 1}",
            answers={
                "overall": overall,
                "venue": 4,
                "catering": overall,
                "tracking": "是",
                "needs": needs,
                "next_event": "会",
            },
        )
    return {
        "b2b_customers": len(customers),
        "b2b_opportunities": len(opps),
        "b2b_overdue": flagged["overdue_flagged"],
        "b2b_charge_accounts": len(accounts),
        "b2b_survey_responses": 3,
    }
