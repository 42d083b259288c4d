"""Reactivation (SPEC 12, seed 003 §8.3 沉睡卡对策): standing rules that start a campaign for the
members who have just qualified.

- ``dormant``: no order for ``idle_days`` (preset 30: 长达1个月未有消费行为);
- ``low_balance``: wallet below ``balance_below_fen`` (preset 20元) and no order for ``idle_days``
  (seed 003: 账户内余额少于20元，且长达1个月未有消费行为).

"Newly" is a window on the member's last order: each run looks at members whose last order fell in
``[covered_until − idle_days, now − idle_days)`` and moves ``covered_until`` to ``now``, so the
windows of successive runs touch and never overlap; the first run of a rule looks one day back.
A member's episode is that last order: ordering again starts a new one, so a member is picked up
once per episode (``ReactivationPickup`` unique per rule, member and episode).

A run with members creates, through the segments and campaigns services, a segment whose rule is
exactly that window (so the campaign's snapshot, taken when ``campaigns_tick`` launches it, is the
same people minus anyone who ordered meanwhile) and a one-wave campaign with the rule's template and
offer; it approves and schedules it at once. The campaign's own four eyes are replaced by the
rule's: a rule runs only after someone of another department approved it
(``approve_reactivationrule``, core.approvals). The names are deterministic (rule and window end),
so a run that crashed half-way reuses what it made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from laoke.campaigns.models import Campaign, CampaignState, Objective
from laoke.campaigns.services import campaign_approve, campaign_create, campaign_schedule
from laoke.channels.models import MessageTemplate
from laoke.core import clock
from laoke.core.approvals import approval_check, roles_of
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.promotions.models import CouponTemplate
from laoke.segments.models import Segment
from laoke.segments.selectors import segment_queryset
from laoke.segments.services import segment_create
from laoke.stats.models import MemberStats

from . import error_codes as E
from .models import ReactivationPickup, ReactivationRule

APPROVE = "service.approve_reactivationrule"
FIRST_LOOK_BACK = timedelta(days=1)


def window_rule(rule: ReactivationRule, start: datetime, end: datetime) -> dict[str, Any]:
    """The segment rule of one run: last order in [start − idle, end − idle) (+ the balance)."""
    idle = timedelta(days=rule.idle_days)
    leaves: list[dict[str, Any]] = [
        {
            "field": "orders.last_order_at",
            "op": "between",
            "value": [(start - idle).isoformat(), (end - idle).isoformat()],
        }
    ]
    if rule.kind == ReactivationRule.Kind.LOW_BALANCE:
        leaves.append(
            {"field": "value.wallet_balance", "op": "lt", "value": int(rule.balance_below_fen or 0)}
        )
    return {"all": leaves}


def _run_name(rule: ReactivationRule, end: datetime) -> str:
    return f"唤醒·{rule.name}·{clock.to_local(end):%Y%m%d%H%M}"[:100]


def _launch(rule: ReactivationRule, ids: list[int], start: datetime, end: datetime) -> Campaign:
    name = _run_name(rule, end)
    segment = Segment.objects.filter(name=name).first() or segment_create(
        name=name, rule=window_rule(rule, start, end), description=f"reactivation rule {rule.pk}"
    )
    campaign = Campaign.objects.filter(name=name).first()
    if campaign is None:
        campaign = campaign_create(
            data={
                "name": name,
                "plain_terms": f"{rule.get_kind_display()}：{len(ids)}",
                "objective": Objective.REACTIVATION,
                "segment_id": segment.pk,
                "holdout_bp": rule.holdout_bp,
                "preset": f"reactivation:{rule.pk}",
                "waves": [
                    {
                        "name": "唤醒",
                        "template_id": rule.template_id,
                        "offer_template_id": rule.offer_id,
                        "eval_days": 14,
                    }
                ],
            }
        )
    if campaign.state == CampaignState.DRAFT:
        campaign = campaign_approve(campaign_id=campaign.pk, actor=None)
    if campaign.state == CampaignState.APPROVED:
        campaign = campaign_schedule(campaign_id=campaign.pk, starts_at=clock.now())
    return campaign


def _run(rule: ReactivationRule, now: datetime) -> dict[str, int]:
    start = rule.covered_until or (now - FIRST_LOOK_BACK)
    if start >= now:
        return {"members": 0}
    ids = list(
        segment_queryset(window_rule(rule, start, now), now=now).order_by("pk").values_list("pk", flat=True)
    )
    already = set(
        ReactivationPickup.objects.filter(rule=rule, member_id__in=ids).values_list("member_id", "episode")
    )
    episodes = dict(MemberStats.objects.filter(member_id__in=ids).values_list("member_id", "last_order_at"))
    new = [i for i in ids if (i, episodes.get(i)) not in already]
    campaign = _launch(rule, new, start, now) if new else None
    with transaction.atomic(durable=True):
        locked = ReactivationRule.objects.select_for_update().get(pk=rule.pk)
        if locked.covered_until != rule.covered_until:
            return {"members": 0}  # another run got there first
        ReactivationPickup.objects.bulk_create(
            [
                ReactivationPickup(
                    rule=rule, member_id=i, episode=episodes[i], campaign=campaign, picked_at=now
                )
                for i in new
                if episodes.get(i) is not None
            ],
            ignore_conflicts=True,
        )
        locked.covered_until, locked.updated_at = now, now
        locked.save(update_fields=["covered_until", "updated_at"])
        audit_write(
            action="service.reactivation.run",
            obj=locked,
            after={
                "members": len(new),
                "campaign": campaign.pk if campaign else None,
                "until": now.isoformat(),
            },
        )
    return {"members": len(new), "campaign": campaign.pk if campaign else 0}


def reactivation_tick(now: datetime) -> dict[str, dict[str, int]]:
    """Run every active (approved) rule; returns per rule name the members picked up."""
    return {
        rule.name: _run(rule, now) for rule in ReactivationRule.objects.filter(is_active=True).order_by("pk")
    }


def reactivation_rule_save(
    *,
    name: str,
    kind: str,
    template_id: int,
    idle_days: int = 30,
    balance_below_fen: int | None = None,
    offer_id: int | None = None,
    holdout_bp: int = 1000,
    actor=None,
) -> ReactivationRule:
    """A new rule, waiting for approval (inactive until then)."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError(E.RULE_INVALID, field="name", why="a name of 1-60 characters")
    if kind not in ReactivationRule.Kind.values:
        raise DomainError(E.RULE_INVALID, field="kind", why="dormant or low_balance")
    if not isinstance(idle_days, int) or not 1 <= idle_days <= 730:
        raise DomainError(E.RULE_INVALID, field="idle_days", why="1-730 days")
    if kind == ReactivationRule.Kind.LOW_BALANCE and (
        not isinstance(balance_below_fen, int) or balance_below_fen <= 0
    ):
        raise DomainError(E.RULE_INVALID, field="balance_below_fen", why="a threshold in fen above 0")
    if not isinstance(holdout_bp, int) or not 0 <= holdout_bp <= 5000:
        raise DomainError(E.RULE_INVALID, field="holdout_bp", why="0-5000 basis points")
    now = clock.now()
    with transaction.atomic(durable=True):
        if not MessageTemplate.objects.filter(pk=template_id, is_active=True).exists():
            raise DomainError(NOT_FOUND, field="template_id")
        if offer_id is not None and not CouponTemplate.objects.filter(pk=offer_id, is_active=True).exists():
            raise DomainError(NOT_FOUND, field="offer_id")
        if ReactivationRule.objects.filter(name=name).exists():
            raise DomainError(E.NAME_TAKEN, field="name", name=name)
        rule = ReactivationRule.objects.create(
            name=name,
            kind=kind,
            idle_days=idle_days,
            balance_below_fen=balance_below_fen if kind == ReactivationRule.Kind.LOW_BALANCE else None,
            template_id=template_id,
            offer_id=offer_id,
            holdout_bp=holdout_bp,
            requested_by=actor if getattr(actor, "pk", None) else None,
            requester_roles=roles_of(actor),
            updated_at=now,
        )
        audit_write(
            action="service.reactivation.create",
            obj=rule,
            after={
                "name": name,
                "kind": kind,
                "idle_days": idle_days,
                "balance_below_fen": balance_below_fen,
            },
            actor=actor,
        )
    return rule


def reactivation_rule_approve(*, rule_id: int, actor) -> ReactivationRule:
    """Approve (and so switch on) a rule: someone with ``approve_reactivationrule`` who is neither
    the requester nor in a role the requester held."""
    with transaction.atomic(durable=True):
        rule = ReactivationRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise DomainError(NOT_FOUND, field="rule_id")
        approval_check(
            actor=actor,
            permission=APPROVE,
            requested_by_id=rule.requested_by_id,
            requester_roles=rule.requester_roles,
            step="reactivation rule",
        )
        if rule.approved_at is not None:
            raise DomainError(E.RULE_APPROVED)
        now = clock.now()
        rule.approved_by, rule.approved_at, rule.is_active, rule.updated_at = actor, now, True, now
        rule.covered_until = now
        rule.save(update_fields=["approved_by", "approved_at", "is_active", "updated_at", "covered_until"])
        audit_write(
            action="service.reactivation.approve",
            obj=rule,
            before={"active": False, "approved_at": None},
            after={"active": True, "approved_at": now.isoformat()},
            actor=actor,
        )
    return rule


def reactivation_rule_pause(*, rule_id: int, active: bool, actor=None) -> ReactivationRule:
    """Switch an approved rule off or on again (on again: the window restarts from now)."""
    with transaction.atomic(durable=True):
        rule = ReactivationRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise DomainError(NOT_FOUND, field="rule_id")
        if rule.approved_at is None:
            raise DomainError(E.RULE_INVALID, field="rule_id", why="approve the rule first")
        now = clock.now()
        if active and not rule.is_active:
            rule.covered_until = now
        rule.is_active, rule.updated_at = bool(active), now
        rule.save(update_fields=["is_active", "covered_until", "updated_at"])
        audit_write(
            action="service.reactivation.switch", obj=rule, after={"active": rule.is_active}, actor=actor
        )
    return rule
