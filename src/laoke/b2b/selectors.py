"""Reads of b2b: the pipeline board, the funnel report (and its xlsx), overdue installments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, F, Q, Sum

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.xlsx import workbook_bytes

from . import error_codes as E
from .models import (
    Approval,
    BigCustomer,
    ChargeAccount,
    Installment,
    Opportunity,
    OverdueNotice,
)
from .presets import CLOSE_REASON_BY_KEY, STAGES, stage_index


def get_or_404(model, pk: int, what: str):
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise DomainError(E.B2B_NOT_FOUND, what=what)
    return obj


def customers(*, level: str | None = None, owner_id: int | None = None):
    qs = BigCustomer.objects.select_related("owner", "branch")
    if level:
        qs = qs.filter(level=level)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs


def opportunities(*, status: str | None = None, stage: str | None = None, owner_id: int | None = None):
    qs = Opportunity.objects.select_related("customer", "owner")
    if status:
        qs = qs.filter(status=status)
    if stage:
        qs = qs.filter(stage=stage)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs


def board() -> list[dict]:
    """Open opportunities grouped by stage, in the seed's order."""
    rows = list(opportunities(status="open").order_by("next_action_on", "pk")[:500])
    return [{"stage": s, "items": [o for o in rows if o.stage == s.key]} for s in STAGES]


def checklist_of(opp: Opportunity) -> list[dict]:
    here = stage_index(opp.stage)
    out = []
    for i, s in enumerate(STAGES):
        ticked = set(opp.checklist.get(s.key, []))
        out.append(
            {
                "stage": s,
                "current": i == here,
                "reached": i <= here,
                "items": [{"index": k, "text": t, "done": k in ticked} for k, t in enumerate(s.checklist)],
            }
        )
    return out


def pending_approvals(*, kinds: list[str] | None = None):
    qs = Approval.objects.filter(state="pending").select_related("opportunity", "requested_by")
    if kinds is not None:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("requested_at", "pk")


def overdue_installments(*, today: date | None = None):
    today = today or clock.today()
    return (
        Installment.objects.filter(
            due_on__lt=today, collected_fen__lt=F("amount_fen"), contract__signed_on__isnull=False
        )
        .select_related("contract__opportunity__customer", "contract__opportunity__owner")
        .order_by("due_on", "pk")
    )


def notices_for(user):
    return OverdueNotice.objects.filter(owner=user, read_at__isnull=True).select_related("installment")


def charge_accounts():
    return ChargeAccount.objects.all()


# --- the funnel ----------------------------------------------------------------------------------


@dataclass
class FunnelStage:
    key: str
    name: str
    reached: int = 0
    reached_amount_fen: int = 0
    open: int = 0
    open_amount_fen: int = 0
    conversion_bp: int | None = None  # reached(next) / reached(this), basis points


@dataclass
class Funnel:
    stages: list[FunnelStage]
    outcomes: dict[str, int]
    reasons: list[dict] = field(default_factory=list)
    total: int = 0
    won_amount_fen: int = 0


def funnel(
    *, created_from: date | None = None, created_to: date | None = None, owner_id: int | None = None
) -> Funnel:
    """Count and expected amount by stage: how many ever reached each stage (stages only move forward
    one at a time, so "reached" = now at that stage or beyond), how many are open there now, the
    conversion from each stage to the next, and the close-out outcomes and reasons."""
    qs = Opportunity.objects.all()
    if created_from:
        qs = qs.filter(created_at__date__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__date__lte=created_to)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    by_stage = {
        r["stage"]: r
        for r in qs.values("stage").annotate(
            n=Count("pk"),
            amount=Sum("expected_amount_fen"),
            n_open=Count("pk", filter=Q(status="open")),
            amount_open=Sum("expected_amount_fen", filter=Q(status="open")),
        )
    }
    stages = []
    for s in STAGES:
        row = by_stage.get(s.key, {})
        stages.append(
            FunnelStage(
                s.key, s.name, open=row.get("n_open", 0) or 0, open_amount_fen=row.get("amount_open") or 0
            )
        )
    # reached(i) = Σ over stages j ≥ i
    n_acc = a_acc = 0
    for st in reversed(stages):
        row = by_stage.get(st.key, {})
        n_acc += row.get("n", 0) or 0
        a_acc += row.get("amount") or 0
        st.reached, st.reached_amount_fen = n_acc, a_acc
    for this, nxt in itertools.pairwise(stages):
        this.conversion_bp = (
            (nxt.reached * 10000 + this.reached // 2) // this.reached if this.reached else None
        )
    outcomes = {k: 0 for k in ("open", "won", "lost", "abandoned")}
    for r in qs.values("status").annotate(n=Count("pk")):
        outcomes[r["status"]] = r["n"]
    reasons = [
        {
            "status": r["status"],
            "reason": r["close_reason"],
            "label": CLOSE_REASON_BY_KEY.get(r["close_reason"], ("", r["close_reason"]))[1],
            "count": r["n"],
        }
        for r in qs.exclude(status="open")
        .values("status", "close_reason")
        .annotate(n=Count("pk"))
        .order_by("status", "-n", "close_reason")
    ]
    won = qs.filter(status="won").aggregate(s=Sum("contract__amount_fen"))["s"] or 0
    return Funnel(
        stages=stages, outcomes=outcomes, reasons=reasons, total=sum(outcomes.values()), won_amount_fen=won
    )


def funnel_xlsx(f: Funnel) -> bytes:
    return workbook_bytes(
        [
            (
                "漏斗",
                ["阶段", "到达数", "到达金额(分)", "在途数", "在途金额(分)", "到下一阶段转化率(%)"],
                [
                    [
                        s.name,
                        s.reached,
                        s.reached_amount_fen,
                        s.open,
                        s.open_amount_fen,
                        None if s.conversion_bp is None else s.conversion_bp / 100,
                    ]
                    for s in f.stages
                ],
            ),
            (
                "结项原因",
                ["结果", "原因", "数量"],
                [[r["status"], r["label"], r["count"]] for r in f.reasons],
            ),
        ]
    )
