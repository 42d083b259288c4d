"""Reads of holidays: quotas used/left, the budget from the approved list, the review queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from laoke.core.approvals import roles_of

from .models import ApplicationState, GiftApplication, GiftCampaign, RecipientType


@dataclass
class QuotaRow:
    recipient_type: str
    label: str
    quota: int
    persons_per_gift: int
    approved: int
    in_review: int

    @property
    def left(self) -> int:
        return max(self.quota - self.approved, 0)


def quotas(campaign: GiftCampaign) -> list[QuotaRow]:
    counts = {
        row["recipient_type"]: row
        for row in GiftApplication.objects.filter(campaign=campaign)
        .values("recipient_type")
        .annotate(
            approved=Count("pk", filter=Q(state=ApplicationState.APPROVED)),
            in_review=Count("pk", filter=Q(state__in=[ApplicationState.PENDING, ApplicationState.REVIEWED])),
        )
    }
    labels = dict(RecipientType.choices)
    return [
        QuotaRow(
            recipient_type=q.recipient_type,
            label=str(labels[q.recipient_type]),
            quota=q.quota,
            persons_per_gift=q.persons_per_gift,
            approved=counts.get(q.recipient_type, {}).get("approved", 0),
            in_review=counts.get(q.recipient_type, {}).get("in_review", 0),
        )
        for q in campaign.quotas.all()
    ]


@dataclass
class BudgetLine:
    level: str
    name: str
    unit_price_fen: int
    count: int

    @property
    def amount_fen(self) -> int:
        return self.unit_price_fen * self.count


@dataclass
class Budget:
    lines: list[BudgetLine] = field(default_factory=list)
    cards: int = 0
    card_unit_price_fen: int = 0

    @property
    def gifts_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    @property
    def cards_fen(self) -> int:
        return self.cards * self.card_unit_price_fen

    @property
    def total_fen(self) -> int:
        return self.gifts_fen + self.cards_fen

    @property
    def recipients(self) -> int:
        return sum(line.count for line in self.lines)


def budget(campaign: GiftCampaign) -> Budget:
    """Σ approved count × unit price per level, plus one card per approved gift."""
    counts = dict(
        GiftApplication.objects.filter(campaign=campaign, state=ApplicationState.APPROVED)
        .values_list("level_id")
        .annotate(n=Count("pk"))
    )
    lines = [
        BudgetLine(level=lv.code, name=lv.name, unit_price_fen=lv.unit_price_fen, count=counts.get(lv.pk, 0))
        for lv in campaign.levels.all()
    ]
    return Budget(lines=lines, cards=sum(counts.values()), card_unit_price_fen=campaign.card_unit_price_fen)


def review_steps_of(user) -> list[str]:
    """The approval steps ``user`` may decide (by permission; the approval rule decides per row)."""
    from .services import STEP_PERMISSIONS

    return [step for step, perm in STEP_PERMISSIONS.items() if user.has_perm(perm)]


def to_review(user, campaign: GiftCampaign | None = None, *, limit: int = 500) -> list[GiftApplication]:
    """Applications waiting for a step ``user`` may decide, without those the approval rule would
    refuse them (their own requests, and requests filed by someone sharing one of their roles)."""
    steps = review_steps_of(user)
    cond = Q(pk__in=[])
    if "service_review" in steps:
        cond |= Q(state=ApplicationState.PENDING, service_review_at__isnull=True)
    if "sales_review" in steps:
        cond |= Q(state=ApplicationState.PENDING, sales_review_at__isnull=True)
    if "final_approval" in steps:
        cond |= Q(state=ApplicationState.REVIEWED)
    qs = GiftApplication.objects.filter(cond).exclude(requested_by=user).select_related("level", "campaign")
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    mine = set(roles_of(user))
    out = []
    for app in qs.order_by("pk").iterator(chunk_size=500):
        if not mine & set(app.requester_roles or ()):
            out.append(app)
            if len(out) >= limit:
                break
    return out


def applications(campaign: GiftCampaign, *, state: str | None = None) -> QuerySet[GiftApplication]:
    qs = GiftApplication.objects.filter(campaign=campaign).select_related("level", "requested_by")
    if state:
        qs = qs.filter(state=state)
    return qs
