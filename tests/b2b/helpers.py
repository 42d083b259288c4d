"""Shared set-up for the b2b tests: a project walked through the real services."""

from __future__ import annotations

from datetime import date

from laoke.b2b import services as s


def customer(owner, *, level="A", name="华东电力集团"):
    return s.big_customer_create(
        name=name, level=level, owner_id=owner.pk, contact_name="王处长", actor=owner
    )


def project(owner, cust=None, *, amount=1_000_000_00, name="会议中心智能化改造"):
    cust = cust or customer(owner)
    return s.opportunity_create(
        customer_id=cust.pk,
        name=name,
        customer_lead="王处长",
        expected_amount_fen=amount,
        estimated_margin_bp=2500,
        sales_budget_fen=30_000_00,
        category="工程",
        expected_sign_on=date(2027, 3, 1),
        actor=owner,
    )


def to_initiation(opp, rep):
    s.opportunity_check(opportunity_id=opp.pk, stage="development", item=0, actor=rep)
    return s.opportunity_advance(opportunity_id=opp.pk, actor=rep)


def approve(opp, kind, rep, decider, **kw):
    req = s.approval_request(opportunity_id=opp.pk, kind=kind, actor=rep, **kw)
    return s.approval_decide(approval_id=req.pk, approve=True, actor=decider)


def to_delivery(opp, rep, manager, gm, *, schedule, signed_on=date(2027, 1, 10)):
    """Walk a project from 开发 to 工程实施 with every gate passed; returns the contract."""
    to_initiation(opp, rep)
    approve(opp, "project", rep, manager)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)  # → proposal
    s.opportunity_check(opportunity_id=opp.pk, stage="proposal", item=0, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)  # → bidding
    approve(opp, "bid", rep, manager, amount_fen=sum(a for _d, a in schedule), margin_bp=2200)
    s.opportunity_check(opportunity_id=opp.pk, stage="bidding", item=0, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)  # → negotiation
    approve(
        opp,
        "contract",
        rep,
        gm,
        amount_fen=sum(a for _d, a in schedule),
        installments=[{"due_on": d, "amount_fen": a} for d, a in schedule],
    )
    contract = s.contract_sign(opportunity_id=opp.pk, signed_on=signed_on, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)  # → delivery
    return contract
