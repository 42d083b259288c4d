"""Writes of the sales pipeline (SPEC 14, seed 002; decision 0036).

The pipeline only moves forward, one stage at a time, and only when the current stage's key node
is ticked and — at 立项, 招投标 and 商务谈判 — its approval (project, bid price, contract) has been
approved. An approval request stores the requester and the roles they held when filing; the
deciding service calls ``core.approvals.approval_check`` before writing, so neither the requester
nor anyone sharing a role with them can decide it. Close-out is possible at any stage; "won" needs
a signed contract. Every change writes a ``StageChange`` or an audit row in its own transaction.
Charge accounts and surveys are in ``services_charges``.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from laoke.core import clock, idempotency
from laoke.core.approvals import approval_check, roles_of
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError
from laoke.core.models import Store
from laoke.members.models import GroupAccount, Member

from . import error_codes as E
from .models import (
    Approval,
    BigCustomer,
    Collection,
    Contract,
    FollowUp,
    Installment,
    Opportunity,
    OverdueNotice,
    StageChange,
)
from .presets import (
    CLOSE_REASON_BY_KEY,
    FOLLOW_UP_METHODS,
    LEVEL_BY_KEY,
    STAGE_BY_KEY,
    STAGE_KEYS,
    stage_index,
)

APPROVAL_PERMISSION = {
    "project": "b2b.approve_project",
    "bid": "b2b.approve_bid",
    "contract": "b2b.approve_contract",
}
APPROVAL_STAGE = {"project": "initiation", "bid": "bidding", "contract": "negotiation"}
APPROVAL_LABEL = {"project": "立项", "bid": "投标价格", "contract": "合同"}
REPORT_UPDATABLE = (
    "name",
    "customer_lead",
    "expected_amount_fen",
    "estimated_margin_bp",
    "sales_budget_fen",
    "category",
    "expected_sign_on",
    "next_action",
    "next_action_on",
    "owner_id",
)
TICK_CHUNK = 2000


def _get(model, pk, what: str, *, lock: bool = False):
    qs = model.objects.select_for_update() if lock else model.objects
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise DomainError(E.B2B_NOT_FOUND, what=what)
    return obj


def _refs(**refs: int | None) -> None:
    """Each given id names an existing row (a bad id is a 422, not a foreign-key error at commit)."""
    models = {"group_account_id": GroupAccount, "member_id": Member, "branch_id": Store, "owner_id": None}
    for field, pk in refs.items():
        model = models[field] or get_user_model()
        if pk is not None and not model.objects.filter(pk=pk).exists():
            raise DomainError(E.B2B_FIELD_INVALID, field=field)


def _text(field: str, value: str | None, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        raise DomainError(E.B2B_FIELD_INVALID, field=field)
    return value


def _amount(field: str, value: int | None, *, positive: bool = False) -> int:
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 10**13:
        raise DomainError(E.B2B_FIELD_INVALID, field=field)
    if positive and value == 0:
        raise DomainError(E.B2B_FIELD_INVALID, field=field)
    return value


def _margin(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -10000 <= value <= 10000:
        raise DomainError(E.B2B_FIELD_INVALID, field="estimated_margin_bp")
    return value


# --- big customers and the follow-up sheet -------------------------------------------------------


def big_customer_create(
    *,
    name: str,
    level: str,
    group_account_id: int | None = None,
    member_id: int | None = None,
    owner_id: int | None = None,
    branch_id: int | None = None,
    industry: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    address: str = "",
    notes: str = "",
    actor=None,
) -> BigCustomer:
    if level not in LEVEL_BY_KEY:
        raise DomainError(E.B2B_LEVEL_INVALID, field="level")
    with transaction.atomic(durable=True):
        _refs(group_account_id=group_account_id, member_id=member_id, branch_id=branch_id, owner_id=owner_id)
        customer = BigCustomer.objects.create(
            name=_text("name", name, 120, required=True),
            level=level,
            group_account_id=group_account_id,
            member_id=member_id,
            owner_id=owner_id if owner_id is not None else getattr(actor, "pk", None),
            branch_id=branch_id,
            industry=_text("industry", industry, 60),
            contact_name=_text("contact_name", contact_name, 60),
            contact_phone=_text("contact_phone", contact_phone, 30),
            address=_text("address", address, 255),
            notes=_text("notes", notes, 2000),
            created_at=clock.now(),
        )
        audit_write(action="b2b.customer.create", obj=customer, after={"name": customer.name, "level": level})
    return customer


def big_customer_set_level(
    *, customer_id: int, level: str, owner_id: int | None = None, actor=None
) -> BigCustomer:
    if level not in LEVEL_BY_KEY:
        raise DomainError(E.B2B_LEVEL_INVALID, field="level")
    with transaction.atomic(durable=True):
        customer = _get(BigCustomer, customer_id, "big customer", lock=True)
        _refs(owner_id=owner_id)
        before = {"level": customer.level, "owner_id": customer.owner_id}
        customer.level = level
        if owner_id is not None:
            customer.owner_id = owner_id
        customer.save(update_fields=["level", "owner"])
        audit_write(
            action="b2b.customer.level",
            obj=customer,
            before=before,
            after={"level": level, "owner_id": customer.owner_id},
        )
    return customer


def follow_up_add(
    *,
    customer_id: int,
    on: date,
    contact_person: str,
    method: str,
    content: str,
    result: str = "",
    next_step: str = "",
    opportunity_id: int | None = None,
    actor=None,
) -> FollowUp:
    if method not in dict(FOLLOW_UP_METHODS):
        raise DomainError(E.B2B_FIELD_INVALID, field="method")
    with transaction.atomic(durable=True):
        customer = _get(BigCustomer, customer_id, "big customer")
        if opportunity_id is not None:
            opp = _get(Opportunity, opportunity_id, "opportunity")
            if opp.customer_id != customer.pk:
                raise DomainError(E.B2B_FIELD_INVALID, field="opportunity_id")
        row = FollowUp.objects.create(
            customer=customer,
            opportunity_id=opportunity_id,
            on=on,
            contact_person=_text("contact_person", contact_person, 60, required=True),
            method=method,
            content=_text("content", content, 2000, required=True),
            result=_text("result", result, 500),
            next_step=_text("next_step", next_step, 500),
            by=actor if getattr(actor, "pk", None) else None,
            created_at=clock.now(),
        )
        audit_write(action="b2b.followup.add", obj=row, after={"customer": customer.pk, "on": str(on)})
    return row


# --- opportunities: create, report fields, key nodes, advance, close ----------------------------


def _history(opp: Opportunity, *, from_stage: str, actor, note: str = "") -> None:
    StageChange.objects.create(
        opportunity=opp,
        from_stage=from_stage,
        to_stage=opp.stage,
        status=opp.status,
        at=clock.now(),
        by=actor if getattr(actor, "pk", None) else None,
        note=note[:500],
    )


def _tick(opp: Opportunity, stage: str, index: int, done: bool = True) -> None:
    items = STAGE_BY_KEY[stage].checklist
    if not 0 <= index < len(items):
        raise DomainError(E.B2B_FIELD_INVALID, field="item")
    ticked = set(opp.checklist.get(stage, []))
    ticked.add(index) if done else ticked.discard(index)
    opp.checklist = {**opp.checklist, stage: sorted(ticked)}


def _require_open(opp: Opportunity) -> None:
    if opp.status != Opportunity.Status.OPEN:
        raise DomainError(E.B2B_OPPORTUNITY_CLOSED)


def opportunity_create(
    *,
    customer_id: int,
    name: str,
    owner_id: int | None = None,
    customer_lead: str = "",
    expected_amount_fen: int = 0,
    estimated_margin_bp: int | None = None,
    sales_budget_fen: int = 0,
    category: str = "",
    expected_sign_on: date | None = None,
    next_action: str = "",
    next_action_on: date | None = None,
    actor=None,
) -> Opportunity:
    now = clock.now()
    with transaction.atomic(durable=True):
        customer = _get(BigCustomer, customer_id, "big customer")
        _refs(owner_id=owner_id)
        opp = Opportunity.objects.create(
            customer=customer,
            name=_text("name", name, 200, required=True),
            owner_id=owner_id or customer.owner_id or getattr(actor, "pk", None),
            customer_lead=_text("customer_lead", customer_lead, 60),
            expected_amount_fen=_amount("expected_amount_fen", expected_amount_fen),
            estimated_margin_bp=_margin(estimated_margin_bp),
            sales_budget_fen=_amount("sales_budget_fen", sales_budget_fen),
            category=_text("category", category, 60),
            expected_sign_on=expected_sign_on,
            next_action=_text("next_action", next_action, 200),
            next_action_on=next_action_on,
            created_at=now,
            updated_at=now,
        )
        # 项目编号: XM + the year in shop time + the row id (unique, never reused).
        opp.number = f"XM{clock.to_local(now).year}{opp.pk:05d}"
        opp.save(update_fields=["number"])
        _history(opp, from_stage="", actor=actor)
        audit_write(action="b2b.opportunity.create", obj=opp, after={"number": opp.number, "name": opp.name})
    return opp


def opportunity_update(*, opportunity_id: int, changes: dict, actor=None) -> Opportunity:
    unknown = set(changes) - set(REPORT_UPDATABLE)
    if unknown:
        raise DomainError(E.B2B_FIELD_INVALID, field=sorted(unknown)[0])
    clean = dict(changes)
    for key in ("expected_amount_fen", "sales_budget_fen"):
        if key in clean:
            clean[key] = _amount(key, clean[key])
    if "estimated_margin_bp" in clean:
        clean["estimated_margin_bp"] = _margin(clean["estimated_margin_bp"])
    for key, limit in (("name", 200), ("customer_lead", 60), ("category", 60), ("next_action", 200)):
        if key in clean:
            clean[key] = _text(key, clean[key], limit, required=key == "name")
    with transaction.atomic(durable=True):
        opp = _get(Opportunity, opportunity_id, "opportunity", lock=True)
        _require_open(opp)
        _refs(owner_id=clean.get("owner_id"))
        before = {k: getattr(opp, k) for k in clean}
        for key, value in clean.items():
            setattr(opp, key, value)
        opp.updated_at = clock.now()
        opp.save()
        audit_write(
            action="b2b.opportunity.update",
            obj=opp,
            before={k: str(v) for k, v in before.items()},
            after={k: str(v) for k, v in clean.items()},
        )
    return opp


def opportunity_check(
    *, opportunity_id: int, stage: str, item: int, done: bool = True, actor=None
) -> Opportunity:
    """Tick (or untick) an item of a stage's key-node checklist. Items settled by an approval or by
    signing (立项's key node, the bid-price decision, contract signing) are ticked by those steps."""
    if stage not in STAGE_BY_KEY:
        raise DomainError(E.B2B_FIELD_INVALID, field="stage")
    with transaction.atomic(durable=True):
        opp = _get(Opportunity, opportunity_id, "opportunity", lock=True)
        _require_open(opp)
        if stage_index(stage) > stage_index(opp.stage) or _settled_by_step(stage, item):
            raise DomainError(E.B2B_FIELD_INVALID, field="item")
        _tick(opp, stage, item, done)
        opp.updated_at = clock.now()
        opp.save(update_fields=["checklist", "updated_at"])
        audit_write(
            action="b2b.opportunity.check", obj=opp, after={"stage": stage, "item": item, "done": done}
        )
    return opp


def _settled_by_step(stage: str, item: int) -> bool:
    return (stage, item) in {("initiation", 0), ("bidding", 2), ("negotiation", 0)}


def opportunity_advance(
    *, opportunity_id: int, to_stage: str | None = None, note: str = "", actor=None
) -> Opportunity:
    with transaction.atomic(durable=True):
        opp = _get(Opportunity, opportunity_id, "opportunity", lock=True)
        _require_open(opp)
        i = stage_index(opp.stage)
        if i + 1 >= len(STAGE_KEYS) or (to_stage is not None and to_stage != STAGE_KEYS[i + 1]):
            raise DomainError(E.B2B_STAGE_INVALID, field="to_stage", stage=opp.stage)
        preset = STAGE_BY_KEY[opp.stage]
        if preset.approval and not opp.approvals.filter(kind=preset.approval, state="approved").exists():
            raise DomainError(E.B2B_APPROVAL_NEEDED, kind=APPROVAL_LABEL[preset.approval])
        if 0 not in opp.checklist.get(opp.stage, []):
            raise DomainError(E.B2B_KEY_NODE_OPEN, node=preset.key_node)
        from_stage = opp.stage
        opp.stage = STAGE_KEYS[i + 1]
        opp.updated_at = clock.now()
        opp.save(update_fields=["stage", "updated_at"])
        _history(opp, from_stage=from_stage, actor=actor, note=note)
        audit_write(
            action="b2b.opportunity.advance",
            obj=opp,
            before={"stage": from_stage},
            after={"stage": opp.stage},
        )
    return opp


def opportunity_close(
    *, opportunity_id: int, outcome: str, reason: str, summary: str, actor=None
) -> Opportunity:
    expected = CLOSE_REASON_BY_KEY.get(reason)
    summary = (summary or "").strip()
    if (
        outcome not in ("won", "lost", "abandoned")
        or expected is None
        or (expected[0] and expected[0] != outcome)
        or not summary
        or len(summary) > 4000
    ):
        raise DomainError(E.B2B_CLOSE_REASON_INVALID, field="reason")
    with transaction.atomic(durable=True):
        opp = _get(Opportunity, opportunity_id, "opportunity", lock=True)
        _require_open(opp)
        if (
            outcome == "won"
            and not Contract.objects.filter(opportunity=opp, signed_on__isnull=False).exists()
        ):
            raise DomainError(E.B2B_CONTRACT_UNSIGNED)
        if outcome == "won" and opp.stage == "delivery":
            _tick(opp, "delivery", 0)
        opp.status = outcome
        opp.close_reason = reason
        opp.close_summary = summary
        opp.closed_at = opp.updated_at = clock.now()
        opp.save()
        # Pending requests die with the opportunity.
        opp.approvals.filter(state="pending").update(
            state="rejected", decided_at=opp.closed_at, decision_note="closed"
        )
        _history(opp, from_stage=opp.stage, actor=actor, note=f"{reason}: {summary}")
        audit_write(action="b2b.opportunity.close", obj=opp, after={"status": outcome, "reason": reason})
    return opp


# --- approvals: 立项, bid price, contract --------------------------------------------------------


def _report_missing(opp: Opportunity) -> list[str]:
    missing = []
    for field, ok in (
        ("customer_lead", bool(opp.customer_lead)),
        ("expected_amount_fen", opp.expected_amount_fen > 0),
        ("estimated_margin_bp", opp.estimated_margin_bp is not None),
        ("category", bool(opp.category)),
        ("expected_sign_on", opp.expected_sign_on is not None),
    ):
        if not ok:
            missing.append(field)
    return missing


def _schedule(amount_fen: int, installments: list[dict] | None) -> list[dict]:
    rows = []
    for i, row in enumerate(installments or []):
        due = row.get("due_on")
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due)
            except ValueError as exc:
                raise DomainError(E.B2B_FIELD_INVALID, field=f"installments[{i}].due_on") from exc
        if not isinstance(due, date):
            raise DomainError(E.B2B_FIELD_INVALID, field=f"installments[{i}].due_on")
        rows.append(
            {
                "due_on": due.isoformat(),
                "amount_fen": _amount(f"installments[{i}]", row.get("amount_fen"), positive=True),
            }
        )
    total = sum(r["amount_fen"] for r in rows)
    if not rows or total != amount_fen:
        raise DomainError(E.B2B_SCHEDULE_INVALID, field="installments", total=total, amount=amount_fen)
    return sorted(rows, key=lambda r: r["due_on"])


def approval_request(
    *,
    opportunity_id: int,
    kind: str,
    amount_fen: int | None = None,
    margin_bp: int | None = None,
    installments: list[dict] | None = None,
    note: str = "",
    actor=None,
) -> Approval:
    """File a request: 立项 (the report's fields are snapshotted), a bid price or a contract (with
    its collection schedule). The requester and their roles are stored for the four-eyes rule."""
    if kind not in APPROVAL_STAGE:
        raise DomainError(E.B2B_FIELD_INVALID, field="kind")
    with transaction.atomic(durable=True):
        opp = _get(Opportunity, opportunity_id, "opportunity", lock=True)
        _require_open(opp)
        if opp.stage != APPROVAL_STAGE[kind]:
            raise DomainError(
                E.B2B_APPROVAL_WRONG_STAGE,
                kind=APPROVAL_LABEL[kind],
                stage=STAGE_BY_KEY[APPROVAL_STAGE[kind]].name,
            )
        if opp.approvals.filter(kind=kind, state__in=["pending", "approved"]).exists():
            raise DomainError(E.B2B_APPROVAL_PENDING, kind=APPROVAL_LABEL[kind])
        details: dict = {}
        if kind == "project":
            missing = _report_missing(opp)
            if missing:
                raise DomainError(E.B2B_PROJECT_REPORT_INCOMPLETE, missing=", ".join(missing))
            amount_fen, margin_bp = opp.expected_amount_fen, opp.estimated_margin_bp
            details = {
                "name": opp.name,
                "number": opp.number,
                "customer_lead": opp.customer_lead,
                "expected_amount_fen": opp.expected_amount_fen,
                "estimated_margin_bp": opp.estimated_margin_bp,
                "sales_budget_fen": opp.sales_budget_fen,
                "category": opp.category,
                "expected_sign_on": opp.expected_sign_on.isoformat(),
            }
        elif kind == "bid":
            amount_fen = _amount("amount_fen", amount_fen, positive=True)
            margin_bp = _margin(margin_bp)
        else:
            amount_fen = _amount("amount_fen", amount_fen, positive=True)
            margin_bp = _margin(margin_bp)
            details = {"installments": _schedule(amount_fen, installments)}
        approval = Approval.objects.create(
            opportunity=opp,
            kind=kind,
            amount_fen=amount_fen,
            margin_bp=margin_bp,
            details=details,
            note=_text("note", note, 1000),
            requested_by=actor if getattr(actor, "pk", None) else None,
            requester_roles=roles_of(actor),
            requested_at=clock.now(),
        )
        audit_write(action=f"b2b.approval.{kind}.request", obj=approval, after={"amount_fen": amount_fen})
    return approval


def approval_decide(*, approval_id: int, approve: bool, note: str = "", actor=None) -> Approval:
    with transaction.atomic(durable=True):
        approval = _get(Approval, approval_id, "approval", lock=True)
        approval_check(
            actor=actor,
            permission=APPROVAL_PERMISSION[approval.kind],
            requested_by_id=approval.requested_by_id,
            requester_roles=approval.requester_roles,
            step=approval.kind,
        )
        if approval.state != Approval.State.PENDING:
            raise DomainError(E.B2B_APPROVAL_DONE)
        opp = Opportunity.objects.select_for_update().get(pk=approval.opportunity_id)
        _require_open(opp)
        now = clock.now()
        approval.state = Approval.State.APPROVED if approve else Approval.State.REJECTED
        approval.decided_by = actor
        approval.decided_at = now
        approval.decision_note = _text("note", note, 1000)
        approval.save()
        if approve:
            if approval.kind == "project":
                _tick(opp, "initiation", 0)
            elif approval.kind == "bid":
                _tick(opp, "bidding", 2)
            else:
                _contract_create(opp, approval, now)
            opp.updated_at = now
            opp.save(update_fields=["checklist", "updated_at"])
        audit_write(
            action=f"b2b.approval.{approval.kind}.{'approve' if approve else 'reject'}",
            obj=approval,
            before={"state": Approval.State.PENDING.value},
            after={"state": approval.state},
            actor=actor,
        )
    return approval


def _contract_create(opp: Opportunity, approval: Approval, now: datetime) -> Contract:
    contract = Contract.objects.create(
        opportunity=opp,
        number=f"HT{clock.to_local(now).year}{opp.pk:05d}",
        amount_fen=approval.amount_fen,
        approval=approval,
        created_at=now,
    )
    Installment.objects.bulk_create(
        [
            Installment(
                contract=contract,
                seq=i + 1,
                due_on=date.fromisoformat(r["due_on"]),
                amount_fen=r["amount_fen"],
            )
            for i, r in enumerate(approval.details["installments"])
        ]
    )
    return contract


def contract_sign(*, opportunity_id: int, signed_on: date, actor=None) -> Contract:
    with transaction.atomic(durable=True):
        opp = _get(Opportunity, opportunity_id, "opportunity", lock=True)
        _require_open(opp)
        contract = Contract.objects.filter(opportunity=opp).first()
        if contract is None:
            raise DomainError(E.B2B_APPROVAL_NEEDED, kind=APPROVAL_LABEL["contract"])
        if contract.signed_on is not None:
            raise DomainError(E.B2B_APPROVAL_DONE)
        contract.signed_on = signed_on
        contract.save(update_fields=["signed_on"])
        _tick(opp, "negotiation", 0)
        opp.updated_at = clock.now()
        opp.save(update_fields=["checklist", "updated_at"])
        audit_write(
            action="b2b.contract.sign",
            obj=contract,
            before={"signed_on": None},
            after={"signed_on": signed_on.isoformat()},
            actor=actor,
        )
    return contract


# --- payment collection --------------------------------------------------------------------------


def installment_collect(
    *, installment_id: int, amount_fen: int, on: date, note: str = "", actor=None, idem=None
) -> Installment:
    amount_fen = _amount("amount_fen", amount_fen, positive=True)
    with transaction.atomic(durable=True):
        inst = _get(Installment, installment_id, "installment")
        if inst.contract.signed_on is None:
            raise DomainError(E.B2B_CONTRACT_UNSIGNED)
        # Guarded UPDATE: never more than the installment's amount, whoever collects at once.
        done = Installment.objects.filter(pk=inst.pk, collected_fen__lte=F("amount_fen") - amount_fen).update(
            collected_fen=F("collected_fen") + amount_fen
        )
        inst.refresh_from_db()
        if not done:
            raise DomainError(E.B2B_COLLECT_TOO_MUCH, remaining=inst.amount_fen - inst.collected_fen)
        if inst.collected_fen == inst.amount_fen:
            inst.collected_on = on
            inst.save(update_fields=["collected_on"])
        Collection.objects.create(
            installment=inst,
            amount_fen=amount_fen,
            on=on,
            at=clock.now(),
            by=actor if getattr(actor, "pk", None) else None,
            note=_text("note", note, 200),
        )
        audit_write(
            action="b2b.installment.collect",
            obj=inst,
            before={"collected_fen": inst.collected_fen - amount_fen},  # the guarded UPDATE's row
            after={"amount_fen": amount_fen, "collected_fen": inst.collected_fen},
            actor=actor,
        )
        idempotency.complete(idem, inst)
    return inst


def b2b_tick(now: datetime) -> dict[str, int]:
    """Flag installments past their due date (shop time) with money still owed, once each, and leave
    the opportunity's owner an ``OverdueNotice`` (the console shows it; unique per installment)."""
    today = clock.to_local(now).date()
    flagged = 0
    while True:
        with transaction.atomic(durable=True):
            ids = list(
                Installment.objects.filter(
                    due_on__lt=today,
                    overdue_since__isnull=True,
                    collected_fen__lt=F("amount_fen"),
                    contract__signed_on__isnull=False,
                )
                .order_by("pk")
                .values_list("pk", flat=True)[:TICK_CHUNK]
            )
            if not ids:
                break
            rows = list(
                Installment.objects.select_for_update()
                .filter(pk__in=ids, overdue_since__isnull=True)
                .select_related("contract__opportunity")
                .order_by("pk")
            )
            Installment.objects.filter(pk__in=[r.pk for r in rows]).update(overdue_since=now)
            OverdueNotice.objects.bulk_create(
                [
                    OverdueNotice(
                        installment=r,
                        owner_id=r.contract.opportunity.owner_id,
                        text=(
                            f"{r.contract.number} 第{r.seq}期 应收 {r.amount_fen - r.collected_fen} 分"
                            f"（{r.due_on.isoformat()} 到期）逾期未收"
                        )[:300],
                        created_at=now,
                    )
                    for r in rows
                ],
                ignore_conflicts=True,
            )
            audit_write(
                action="b2b.tick.overdue", object_type="b2b.installment", after={"ids": [r.pk for r in rows]}
            )
            flagged += len(rows)
    return {"overdue_flagged": flagged}
