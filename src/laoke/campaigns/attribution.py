"""Attribution (SPEC 9): which orders a campaign's runs earned, for both arms.

An order of a campaign member is attributed to a run
- by **code**: it used a coupon the run issued (the run's offer, keyed ``{purpose}:{member}``);
- else, when the campaign attributes by **window** (the default): to the member's latest contact
  — contacted *or control* — at or before the payment and whose evaluation window was still open
  (last touch). The control is measured exactly like the treatment: a held-out member's order in
  the window counts for the control arm of that run.

Revenue is what the order charged (``total_fen``) less what was refunded. Orders not paid, or
cancelled / wholly refunded, do not count. The figures feed the evaluation (issue 6); here they
show on the progress page. Reads only; a constant number of queries per campaign.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F

from laoke.orders.models import Order, OrderCoupon, OrderStatus

from .models import Attribution, Campaign, Contact, Outcome

COUNTED = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
)


@dataclass
class ArmFigures:
    members: int = 0  # entrants of the run in this arm (contacted + suppressed, or control)
    responders: set[int] = field(default_factory=set)
    orders: int = 0
    revenue_fen: int = 0
    by_code: int = 0

    def as_dict(self) -> dict:
        return {
            "members": self.members,
            "responders": len(self.responders),
            "orders": self.orders,
            "revenue_fen": self.revenue_fen,
            "orders_by_code": self.by_code,
        }


def campaign_contacts(campaign: Campaign) -> list[tuple]:
    """Every contact of the campaign: (run id, member id, outcome, at, window end, coupon id)."""
    return list(
        Contact.objects.filter(run__wave__campaign=campaign).values_list(
            "run_id", "member_id", "outcome", "at", "window_ends_at", "coupon_id"
        )
    )


@dataclass(frozen=True)
class Attributed:
    order_id: int
    member_id: int
    run_id: int
    arm: str  # "treatment" or "control"
    paid_at: object
    revenue_fen: int  # charged less refunded, never below 0
    by_code: bool
    coupon_id: int | None  # the run's coupon the order used (by code)


def attributed_orders(campaign: Campaign, contacts: list[tuple] | None = None) -> list[Attributed]:
    """The campaign's orders, each with the run (and arm) it is attributed to."""
    contacts = campaign_contacts(campaign) if contacts is None else contacts
    if not contacts:
        return []
    by_member: dict[int, list[tuple]] = defaultdict(list)
    coupon_run: dict[int, int] = {}
    for run_id, member_id, outcome, at, ends, coupon_id in contacts:
        arm = "control" if outcome == Outcome.CONTROL else "treatment"
        by_member[member_id].append((at, ends, run_id, arm))
        if coupon_id:
            coupon_run[coupon_id] = run_id
    start = min(c[3] for c in contacts)
    end = max(c[4] for c in contacts)
    orders = list(
        Order.objects.filter(
            member_id__in=list(by_member), status__in=COUNTED, paid_at__gte=start, paid_at__lt=end
        ).values_list("pk", "member_id", "paid_at", F("total_fen") - F("refunded_fen"))
    )
    used = defaultdict(list)
    for order_id, coupon_id in OrderCoupon.objects.filter(
        order_id__in=[o[0] for o in orders], coupon_id__in=list(coupon_run), released_at__isnull=True
    ).values_list("order_id", "coupon_id"):
        used[order_id].append(coupon_id)
    window = campaign.attribution == Attribution.WINDOW
    out = []
    for order_id, member_id, paid_at, revenue in orders:
        run_id, arm, coupon_id = None, "treatment", None
        if used.get(order_id):
            coupon_id = min(used[order_id])
            run_id = coupon_run[coupon_id]
        elif window:
            touches = [t for t in by_member[member_id] if t[0] <= paid_at < t[1]]
            if touches:
                _, _, run_id, arm = max(touches)
        if run_id is not None:
            out.append(
                Attributed(
                    order_id,
                    member_id,
                    run_id,
                    arm,
                    paid_at,
                    max(revenue, 0),
                    coupon_id is not None,
                    coupon_id,
                )
            )
    return out


def campaign_attribution(campaign: Campaign) -> dict[int, dict[str, dict]]:
    """run id → {"treatment": figures, "control": figures}."""
    contacts = campaign_contacts(campaign)
    out: dict[int, dict[str, ArmFigures]] = defaultdict(
        lambda: {"treatment": ArmFigures(), "control": ArmFigures()}
    )
    for run_id, _member_id, outcome, *_ in contacts:
        out[run_id]["control" if outcome == Outcome.CONTROL else "treatment"].members += 1
    for a in attributed_orders(campaign, contacts):
        figures = out[a.run_id][a.arm]
        figures.responders.add(a.member_id)
        figures.orders += 1
        figures.revenue_fen += a.revenue_fen
        figures.by_code += a.by_code
    return {run: {arm: f.as_dict() for arm, f in arms.items()} for run, arms in out.items()}
