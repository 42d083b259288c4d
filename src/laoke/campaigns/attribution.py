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


def campaign_attribution(campaign: Campaign) -> dict[int, dict[str, dict]]:
    """run id → {"treatment": figures, "control": figures}."""
    contacts = list(
        Contact.objects.filter(run__wave__campaign=campaign).values_list(
            "run_id", "member_id", "outcome", "at", "window_ends_at", "coupon_id"
        )
    )
    out: dict[int, dict[str, ArmFigures]] = defaultdict(
        lambda: {"treatment": ArmFigures(), "control": ArmFigures()}
    )
    by_member: dict[int, list[tuple]] = defaultdict(list)
    coupon_run: dict[int, int] = {}
    for run_id, member_id, outcome, at, ends, coupon_id in contacts:
        arm = "control" if outcome == Outcome.CONTROL else "treatment"
        out[run_id][arm].members += 1
        by_member[member_id].append((at, ends, run_id, arm))
        if coupon_id:
            coupon_run[coupon_id] = run_id
    if not contacts:
        return {}
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
    for order_id, member_id, paid_at, revenue in orders:
        run_id, arm, by_code = None, "treatment", False
        if used.get(order_id):
            run_id, by_code = coupon_run[used[order_id][0]], True
        elif window:
            touches = [t for t in by_member[member_id] if t[0] <= paid_at < t[1]]
            if touches:
                _, _, run_id, arm = max(touches)
        if run_id is None:
            continue
        figures = out[run_id][arm]
        figures.responders.add(member_id)
        figures.orders += 1
        figures.revenue_fen += max(revenue, 0)
        figures.by_code += by_code
    return {run: {arm: f.as_dict() for arm, f in arms.items()} for run, arms in out.items()}
