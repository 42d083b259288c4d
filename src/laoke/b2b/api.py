"""/api/v1/b2b (thin adapters over services and selectors): big customers and their follow-up
sheet, opportunities through the six stages, approvals (立项, bid price, contract), contracts and
their collection schedule, the funnel (JSON and xlsx), charge accounts (签单/结账) and the
conference survey. Money-moving writes (collections, charges, settlements) require an
``Idempotency-Key``; other writes accept one where noted."""

from datetime import date, datetime
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from laoke.core.api import idempotent_write, paginate, require

from . import selectors, services, services_charges
from .models import BigCustomer, ChargeAccount, Contract, Installment, Opportunity, SurveyTemplate

router = Router(tags=["b2b"])
READ, WRITE, MONEY = "members:read", "members:write", "value:write"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PageQuery(Schema):
    cursor: str | None = None
    limit: int | None = None


# --- big customers -------------------------------------------------------------------------------


class CustomerIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    level: Literal["A", "B", "C", "D"]
    group_account_id: int | None = None
    member_id: int | None = None
    owner_id: int | None = None
    branch_id: int | None = None
    industry: str = Field("", max_length=60)
    contact_name: str = Field("", max_length=60)
    contact_phone: str = Field("", max_length=30)
    address: str = Field("", max_length=255)
    notes: str = Field("", max_length=2000)


class CustomerOut(Schema):
    id: int
    name: str
    level: str
    group_account_id: int | None
    member_id: int | None
    owner_id: int | None
    branch_id: int | None
    contact_name: str
    contact_phone: str
    created_at: datetime


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


@router.get("/customers", response=CustomerPage, summary="Big customers (level A–D)")
@require("b2b.view_bigcustomer", READ)
def customer_list(request, level: str | None = None, cursor: str | None = None, limit: int | None = None):
    items, nxt = paginate(selectors.customers(level=level), cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": nxt}


@router.post("/customers", response={201: CustomerOut}, summary="Add a big customer")
@require("b2b.add_bigcustomer", WRITE)
def customer_create(request, payload: CustomerIn):
    return Status(201, services.big_customer_create(**payload.dict(), actor=request.user))


class LevelIn(Schema):
    level: Literal["A", "B", "C", "D"]
    owner_id: int | None = None


@router.post("/customers/{int:customer_id}/level", response=CustomerOut, summary="Re-grade or re-assign")
@require("b2b.change_bigcustomer", WRITE)
def customer_level(request, customer_id: int, payload: LevelIn):
    return services.big_customer_set_level(customer_id=customer_id, **payload.dict(), actor=request.user)


class FollowUpIn(Schema):
    on: date
    contact_person: str = Field(..., min_length=1, max_length=60)
    method: Literal["visit", "phone", "meeting", "survey", "message", "other"]
    content: str = Field(..., min_length=1, max_length=2000)
    result: str = Field("", max_length=500)
    next_step: str = Field("", max_length=500)
    opportunity_id: int | None = None


class FollowUpOut(Schema):
    id: int
    customer_id: int
    opportunity_id: int | None
    on: date
    contact_person: str
    method: str
    content: str
    result: str
    next_step: str
    by_id: int | None


@router.get(
    "/customers/{int:customer_id}/follow-ups",
    response=list[FollowUpOut],
    summary="The follow-up sheet (大客户跟进表)",
)
@require("b2b.view_followup", READ)
def follow_up_list(request, customer_id: int):
    return list(selectors.get_or_404(BigCustomer, customer_id, "big customer").follow_ups.all()[:500])


@router.post(
    "/customers/{int:customer_id}/follow-ups", response={201: FollowUpOut}, summary="Add a follow-up row"
)
@require("b2b.add_followup", WRITE)
def follow_up_add(request, customer_id: int, payload: FollowUpIn):
    return Status(201, services.follow_up_add(customer_id=customer_id, **payload.dict(), actor=request.user))


# --- opportunities -------------------------------------------------------------------------------


class OpportunityIn(Schema):
    customer_id: int
    name: str = Field(..., min_length=1, max_length=200)
    owner_id: int | None = None
    customer_lead: str = Field("", max_length=60)
    expected_amount_fen: int = Field(0, ge=0)
    estimated_margin_bp: int | None = Field(None, ge=-10000, le=10000)
    sales_budget_fen: int = Field(0, ge=0)
    category: str = Field("", max_length=60)
    expected_sign_on: date | None = None
    next_action: str = Field("", max_length=200)
    next_action_on: date | None = None


class OpportunityPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    owner_id: int | None = None
    customer_lead: str | None = Field(None, max_length=60)
    expected_amount_fen: int | None = Field(None, ge=0)
    estimated_margin_bp: int | None = Field(None, ge=-10000, le=10000)
    sales_budget_fen: int | None = Field(None, ge=0)
    category: str | None = Field(None, max_length=60)
    expected_sign_on: date | None = None
    next_action: str | None = Field(None, max_length=200)
    next_action_on: date | None = None


class OpportunityOut(Schema):
    id: int
    number: str | None
    name: str
    customer_id: int
    stage: str
    status: str
    owner_id: int | None
    customer_lead: str
    expected_amount_fen: int
    estimated_margin_bp: int | None
    sales_budget_fen: int
    category: str
    expected_sign_on: date | None
    next_action: str
    next_action_on: date | None
    checklist: dict
    close_reason: str
    close_summary: str
    closed_at: datetime | None


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None


class StageChangeOut(Schema):
    from_stage: str
    to_stage: str
    status: str
    at: datetime
    by_id: int | None
    note: str


class ApprovalOut(Schema):
    id: int
    opportunity_id: int
    kind: str
    state: str
    amount_fen: int
    margin_bp: int | None
    details: dict
    note: str
    requested_by_id: int | None
    requester_roles: list[str]
    requested_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str


class InstallmentOut(Schema):
    id: int
    seq: int
    due_on: date
    amount_fen: int
    collected_fen: int
    collected_on: date | None
    overdue_since: datetime | None


class ContractOut(Schema):
    id: int
    number: str
    amount_fen: int
    signed_on: date | None
    installments: list[InstallmentOut]


class OpportunityDetail(OpportunityOut):
    history: list[StageChangeOut]
    approvals: list[ApprovalOut]
    contract: ContractOut | None


def _detail(opp: Opportunity) -> dict:
    out = OpportunityOut.from_orm(opp).dict()
    contract = Contract.objects.filter(opportunity=opp).first()
    out["history"] = list(opp.stage_changes.all())
    out["approvals"] = list(opp.approvals.all())
    out["contract"] = (
        None
        if contract is None
        else {
            "id": contract.pk,
            "number": contract.number,
            "amount_fen": contract.amount_fen,
            "signed_on": contract.signed_on,
            "installments": list(contract.installments.all()),
        }
    )
    return out


@router.get("/opportunities", response=OpportunityPage, summary="Opportunities (projects)")
@require("b2b.view_opportunity", READ)
def opportunity_list(
    request,
    status: str | None = None,
    stage: str | None = None,
    owner_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    qs = selectors.opportunities(status=status, stage=stage, owner_id=owner_id)
    items, nxt = paginate(qs, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": nxt}


@router.post("/opportunities", response={201: OpportunityOut}, summary="Open an opportunity at 客户开发")
@require("b2b.add_opportunity", WRITE)
def opportunity_create(request, payload: OpportunityIn):
    return Status(201, services.opportunity_create(**payload.dict(), actor=request.user))


@router.get(
    "/opportunities/{int:opportunity_id}", response=OpportunityDetail, summary="An opportunity in full"
)
@require("b2b.view_opportunity", READ)
def opportunity_get(request, opportunity_id: int):
    return _detail(selectors.get_or_404(Opportunity, opportunity_id, "opportunity"))


@router.patch(
    "/opportunities/{int:opportunity_id}", response=OpportunityOut, summary="Change the 立项 report fields"
)
@require("b2b.change_opportunity", WRITE)
def opportunity_update(request, opportunity_id: int, payload: OpportunityPatch):
    return services.opportunity_update(
        opportunity_id=opportunity_id, changes=payload.dict(exclude_unset=True), actor=request.user
    )


class CheckIn(Schema):
    stage: str
    item: int = Field(..., ge=0)
    done: bool = True


@router.post("/opportunities/{int:opportunity_id}/check", response=OpportunityOut, summary="Tick a key node")
@require("b2b.change_opportunity", WRITE)
def opportunity_check(request, opportunity_id: int, payload: CheckIn):
    return services.opportunity_check(opportunity_id=opportunity_id, **payload.dict(), actor=request.user)


class AdvanceIn(Schema):
    to_stage: str | None = None
    note: str = Field("", max_length=500)


@router.post("/opportunities/{int:opportunity_id}/advance", response=OpportunityOut, summary="Next stage")
@require("b2b.change_opportunity", WRITE)
def opportunity_advance(request, opportunity_id: int, payload: AdvanceIn):
    return services.opportunity_advance(opportunity_id=opportunity_id, **payload.dict(), actor=request.user)


class CloseIn(Schema):
    outcome: Literal["won", "lost", "abandoned"]
    reason: str
    summary: str = Field(..., min_length=1, max_length=4000)


@router.post("/opportunities/{int:opportunity_id}/close", response=OpportunityOut, summary="Close out")
@require("b2b.close_opportunity", WRITE)
def opportunity_close(request, opportunity_id: int, payload: CloseIn):
    return services.opportunity_close(opportunity_id=opportunity_id, **payload.dict(), actor=request.user)


class ScheduleRow(Schema):
    due_on: date
    amount_fen: int = Field(..., gt=0)


class ApprovalIn(Schema):
    kind: Literal["project", "bid", "contract"]
    amount_fen: int | None = Field(None, ge=0)
    margin_bp: int | None = Field(None, ge=-10000, le=10000)
    installments: list[ScheduleRow] | None = None
    note: str = Field("", max_length=1000)


@router.post(
    "/opportunities/{int:opportunity_id}/approvals", response={201: ApprovalOut}, summary="File a request"
)
@require("b2b.add_approval", WRITE)
def approval_request(request, opportunity_id: int, payload: ApprovalIn):
    data = payload.dict()
    if data["installments"] is not None:
        data["installments"] = [dict(r) for r in data["installments"]]
    return Status(201, services.approval_request(opportunity_id=opportunity_id, **data, actor=request.user))


@router.get("/approvals", response=list[ApprovalOut], summary="Requests waiting for a decision")
@require("b2b.view_approval", READ)
def approval_list(request, kind: str | None = None):
    return list(selectors.pending_approvals(kinds=[kind] if kind else None)[:500])


class DecideIn(Schema):
    approve: bool
    note: str = Field("", max_length=1000)


@router.post(
    "/approvals/{int:approval_id}/decide",
    response=ApprovalOut,
    summary="Approve or reject (never one's own request nor one's own role's)",
)
@require("b2b.approve_bid", WRITE)  # the deciders; each step's own permission is checked inside
def approval_decide(request, approval_id: int, payload: DecideIn):
    return services.approval_decide(approval_id=approval_id, **payload.dict(), actor=request.user)


class SignIn(Schema):
    signed_on: date


@router.post(
    "/opportunities/{int:opportunity_id}/contract/sign", response=ContractOut, summary="Contract signed"
)
@require("b2b.change_opportunity", WRITE)
def contract_sign(request, opportunity_id: int, payload: SignIn):
    contract = services.contract_sign(
        opportunity_id=opportunity_id, signed_on=payload.signed_on, actor=request.user
    )
    return {
        **ContractOut.from_orm(contract).dict(exclude={"installments"}),
        "installments": list(contract.installments.all()),
    }


class CollectIn(Schema):
    amount_fen: int = Field(..., gt=0)
    on: date
    note: str = Field("", max_length=200)


@router.post(
    "/installments/{int:installment_id}/collect",
    response={200: InstallmentOut},
    summary="Record money collected (Idempotency-Key required)",
)
@require("b2b.add_collection", MONEY)
def installment_collect(request, installment_id: int, payload: CollectIn):
    selectors.get_or_404(Installment, installment_id, "installment")

    def call(claim):
        return services.installment_collect(
            installment_id=installment_id, **payload.dict(), actor=request.user, idem=claim
        )

    return idempotent_write(
        request,
        scope="b2b.collect",
        payload={"installment": installment_id, **payload.dict()},
        call=call,
        render=lambda inst: (200, InstallmentOut.from_orm(inst).model_dump(mode="json")),
        required=True,
    )


@router.get("/installments/overdue", response=list[InstallmentOut], summary="Installments past due")
@require("b2b.view_installment", READ)
def overdue_list(request):
    return list(selectors.overdue_installments()[:1000])


# --- the funnel ----------------------------------------------------------------------------------


class FunnelStageOut(Schema):
    key: str
    name: str
    reached: int
    reached_amount_fen: int
    open: int
    open_amount_fen: int
    conversion_bp: int | None


class ReasonOut(Schema):
    status: str
    reason: str
    label: str
    count: int


class FunnelOut(Schema):
    stages: list[FunnelStageOut]
    outcomes: dict[str, int]
    reasons: list[ReasonOut]
    total: int
    won_amount_fen: int


@router.get(
    "/funnel", response=FunnelOut, summary="The funnel: count and amount by stage, conversion, reasons"
)
@require("b2b.view_opportunity", READ)
def funnel(
    request,
    created_from: date | None = None,
    created_to: date | None = None,
    owner_id: int | None = Query(None, ge=1, le=2**31 - 1),
):
    return selectors.funnel(created_from=created_from, created_to=created_to, owner_id=owner_id)


@router.get("/funnel.xlsx", summary="The funnel as an xlsx file")
@require("b2b.view_opportunity", READ)
def funnel_xlsx(request, created_from: date | None = None, created_to: date | None = None):
    data = selectors.funnel_xlsx(selectors.funnel(created_from=created_from, created_to=created_to))
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="b2b-funnel.xlsx"'
    return response


# --- charge accounts -----------------------------------------------------------------------------


class AccountIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    credit_limit_fen: int = Field(..., ge=0)
    signers: list[str] = Field(default_factory=list)
    group_account_id: int | None = None
    member_id: int | None = None
    discount_bp: int = Field(0, ge=0, le=10000)


class AccountPatch(Schema):
    credit_limit_fen: int | None = Field(None, ge=0)
    signers: list[str] | None = None
    is_active: bool | None = None


class AccountOut(Schema):
    id: int
    name: str
    group_account_id: int | None
    member_id: int | None
    credit_limit_fen: int
    outstanding_fen: int
    signers: list[str]
    discount_bp: int
    is_active: bool


class EntryOut(Schema):
    id: int
    account_id: int
    kind: str
    amount_fen: int
    outstanding_after: int
    signer: str
    reference: str
    at: datetime
    by_id: int | None


class ChargeIn(Schema):
    amount_fen: int = Field(..., gt=0)
    signer: str = Field("", max_length=60)
    reference: str = Field("", max_length=100)


class SettleIn(Schema):
    amount_fen: int = Field(..., gt=0)
    reference: str = Field("", max_length=100)


@router.get("/charge-accounts", response=list[AccountOut], summary="Charge-account customers (签单客户)")
@require("b2b.view_chargeaccount", READ)
def account_list(request):
    return list(selectors.charge_accounts()[:1000])


@router.post("/charge-accounts", response={201: AccountOut}, summary="Open a charge account")
@require("b2b.add_chargeaccount", WRITE)
def account_create(request, payload: AccountIn):
    return Status(201, services_charges.charge_account_create(**payload.dict(), actor=request.user))


@router.patch(
    "/charge-accounts/{int:account_id}", response=AccountOut, summary="Credit limit, signers, active"
)
@require("b2b.change_chargeaccount", WRITE)
def account_update(request, account_id: int, payload: AccountPatch):
    return services_charges.charge_account_update(account_id=account_id, **payload.dict(), actor=request.user)


@router.get(
    "/charge-accounts/{int:account_id}/entries", response=list[EntryOut], summary="Charges and settlements"
)
@require("b2b.view_chargeaccount", READ)
def account_entries(request, account_id: int):
    return list(selectors.get_or_404(ChargeAccount, account_id, "charge account").entries.all()[:1000])


def _money_write(request, account_id: int, scope: str, payload, fn):
    selectors.get_or_404(ChargeAccount, account_id, "charge account")

    def call(claim):
        return fn(account_id=account_id, **payload.dict(), actor=request.user, idem=claim)

    return idempotent_write(
        request,
        scope=scope,
        payload={"account": account_id, **payload.dict()},
        call=call,
        render=lambda entry: (201, EntryOut.from_orm(entry).model_dump(mode="json")),
        required=True,
    )


@router.post(
    "/charge-accounts/{int:account_id}/charges",
    response={201: EntryOut},
    summary="签单: charge to the account, within its credit limit (Idempotency-Key required)",
)
@require("b2b.charge_chargeaccount", MONEY)
def account_charge(request, account_id: int, payload: ChargeIn):
    return _money_write(request, account_id, "b2b.charge", payload, services_charges.charge_record)


@router.post(
    "/charge-accounts/{int:account_id}/settlements",
    response={201: EntryOut},
    summary="结账: the customer pays what they owe (Idempotency-Key required)",
)
@require("b2b.charge_chargeaccount", MONEY)
def account_settle(request, account_id: int, payload: SettleIn):
    return _money_write(request, account_id, "b2b.settle", payload, services_charges.charge_settle)


# --- the conference survey -----------------------------------------------------------------------


class TemplateOut(Schema):
    id: int
    name: str
    questions: list[dict]


class ResponseIn(Schema):
    event_name: str = Field(..., min_length=1, max_length=200)
    event_on: date
    answers: dict
    customer_id: int | None = None
    charge_account_id: int | None = None
    respondent: str = Field("", max_length=60)


class ResponseOut(Schema):
    id: int
    template_id: int
    event_name: str
    event_on: date
    customer_id: int | None
    charge_account_id: int | None
    respondent: str
    answers: dict
    created_at: datetime


@router.get("/surveys", response=list[TemplateOut], summary="Survey templates (会务活动调查表)")
@require("b2b.view_surveyresponse", READ)
def survey_templates(request):
    services_charges.survey_template_ensure()
    return list(SurveyTemplate.objects.order_by("pk"))


@router.get("/surveys/{int:template_id}/responses", response=list[ResponseOut], summary="Survey responses")
@require("b2b.view_surveyresponse", READ)
def survey_responses(request, template_id: int):
    return list(selectors.get_or_404(SurveyTemplate, template_id, "survey template").responses.all()[:1000])


@router.post("/surveys/{int:template_id}/responses", response={201: ResponseOut}, summary="Record a response")
@require("b2b.add_surveyresponse", WRITE)
def survey_respond(request, template_id: int, payload: ResponseIn):
    response = services_charges.survey_response_add(
        template_id=template_id, **payload.dict(), actor=request.user
    )
    return Status(201, response)
