"""Reads of campaigns: lists, progress, the dry run, what a member received (for service agents)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet

from laoke.channels.models import StaffTask
from laoke.channels.selectors import shop_link, template_contexts
from laoke.channels.templating import compile_template
from laoke.core import clock
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.money import fen_to_yuan
from laoke.members.models import Consent, Member
from laoke.messaging.models import Message
from laoke.promotions.services import new_code
from laoke.segments.selectors import segment_queryset

from .attribution import campaign_attribution
from .dispatch import _wave_bases, control_size
from .guards import send_time_after
from .models import MESSAGE_CHANNELS, Campaign, Contact, Wave, WaveRun
from .services import campaign_settings

SAMPLES = 3


def campaign_get(campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_related("segment").filter(pk=campaign_id).first()
    if campaign is None:
        raise DomainError(NOT_FOUND, field="campaign_id")
    return campaign


def campaign_list(*, state: str | None = None) -> QuerySet[Campaign]:
    qs = Campaign.objects.select_related("segment")
    return qs.filter(state=state) if state else qs


def delivery_counts(prefix: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        Message.objects.filter(purpose__startswith=prefix)
        .values_list("purpose", "state", "delivery")
        .annotate(n=Count("id"))
    )
    for purpose, state, delivery, n in rows:
        out[purpose][state] += n
        if delivery == Message.Delivery.DELIVERED:
            out[purpose]["delivered"] += n
    tasks = (
        StaffTask.objects.filter(purpose__startswith=prefix)
        .values_list("purpose", "state")
        .annotate(n=Count("id"))
    )
    for purpose, state, n in tasks:
        out[purpose][f"task_{state}"] += n
    return out


def campaign_progress(campaign: Campaign) -> dict[str, Any]:
    """Each run with its contacts and the outbox states of its messages (waiting / sending /
    sent / failed / suppressed / delivered) or its staff tasks (task_open / task_done …)."""
    counts = delivery_counts(campaign.purpose_prefix)
    earned = campaign_attribution(campaign)
    runs = []
    for run in (
        WaveRun.objects.filter(wave__campaign=campaign)
        .select_related("wave__template")
        .order_by("due_at", "wave__position", "loop")
    ):
        purpose = f"{campaign.purpose_prefix}wave:{run.wave_id}:loop:{run.loop}"
        runs.append(
            {
                "run_id": run.pk,
                "wave_id": run.wave_id,
                "wave": run.wave.name,
                "channel": run.wave.channel,
                "loop": run.loop,
                "due_at": run.due_at,
                "state": run.state,
                "contacted": run.contacted,
                "suppressed": run.suppressed,
                "control": run.control,
                "cost_fen": run.cost_fen,
                "outbox": {k: v for k, v in sorted(counts.get(purpose, {}).items())},
                "attribution": earned.get(run.pk, {}),
            }
        )
    return {
        "campaign_id": campaign.pk,
        "name": campaign.name,
        "state": campaign.state,
        "stop_reason": campaign.stop_reason,
        "members": campaign.members_drawn,
        "control": campaign.members.filter(arm="control").count(),
        "budget_fen": campaign.budget_fen,
        "spent_fen": campaign.spent_fen,
        "started_at": campaign.started_at,
        "ends_at": campaign.ends_at,
        "runs": runs,
    }


def _addressable(ids, channel: str, marketing: bool) -> int:
    """How many of ``ids`` the outbox would write to on ``channel`` (active, an address, and for
    marketing a granted consent) — the dry run's estimate of the outbox's own suppression."""
    qs = Member.objects.filter(pk__in=ids, status=Member.Status.ACTIVE)
    if channel == "sms":
        qs = qs.exclude(mobile__isnull=True).exclude(mobile="")
    elif channel == "email":
        qs = qs.exclude(email__isnull=True).exclude(email="")
    if marketing and channel in ("sms", "email"):
        granted = Consent.objects.filter(channel=channel, state=Consent.State.GRANTED).values("member_id")
        qs = qs.filter(pk__in=granted)
    return qs.count()


def campaign_dry_run(campaign: Campaign, *, now: datetime | None = None) -> dict[str, Any]:
    """What launching now would do, without writing anything: the audience and its branches,
    the control, each wave's schedule with the members its first run can reach (later waves
    and loops reach at most as many — who returns is not known yet), sample messages rendered
    for real members, and the cost (messages + offers, upper bound over all runs)."""
    now = now or clock.now()
    start = campaign.starts_at if campaign.starts_at and campaign.starts_at > now else now
    audience = segment_queryset(campaign.segment.rule, now=now)
    ids = list(audience.order_by("pk").values_list("pk", flat=True))
    left = set(ids)
    branches = []
    strata: dict[int | None, list[int]] = {}
    for branch in campaign.branches.order_by("position"):
        matched = (
            set(segment_queryset(branch.rule, now=now).filter(pk__in=ids).values_list("pk", flat=True)) & left
            if branch.rule
            else set(left)
        )
        left -= matched
        strata[branch.pk] = sorted(matched)
        branches.append({"name": branch.name, "members": len(matched)})
    if not strata or campaign.waves.filter(branch__isnull=True).exists():
        strata[None] = sorted(left)
    settings = campaign_settings()
    bases = _wave_bases(campaign, start)
    waves, total_cost, samples = [], 0, []
    for wave in Wave.objects.filter(campaign=campaign).select_related("template", "offer", "branch"):
        pool = strata.get(wave.branch_id, []) if wave.branch_id else [m for s in strata.values() for m in s]
        control = sum(
            control_size(len(s), campaign.holdout_bp)
            for k, s in strata.items()
            if not wave.branch_id or k == wave.branch_id
        )
        treatment = len(pool) - control
        template = wave.template
        reach = min(treatment, _addressable(pool, template.channel, template.kind == "marketing"))
        compiled = compile_template(template)
        sample_ids = pool[:SAMPLES]
        offer_ctx = {}
        if wave.offer is not None:
            offer_ctx = {
                "coupon_code": new_code(wave.offer.code_prefix),
                "coupon_amount": str(fen_to_yuan(wave.offer.amount_off_fen or wave.offer.unit_value_fen)),
                "coupon_expiry": (clock.to_local(start) + timedelta(days=wave.offer.valid_days or 0))
                .date()
                .isoformat(),
            }
        extra = {"campaign": campaign.name, "shop_link": f"{shop_link()}?c={wave.channel_code}"}
        contexts = template_contexts(sample_ids, now=now, channel=template.channel, extra=extra)
        rendered = [compiled.render({**contexts[m], **offer_ctx}) for m in sample_ids if m in contexts]
        unit = max((r.cost_fen for r in rendered), default=0) + (
            wave.offer.unit_value_fen if wave.offer else 0
        )
        cost = unit * reach * wave.loops
        total_cost += cost
        for member_id, r in zip(sample_ids, rendered, strict=False):
            samples.append(
                {
                    "wave": wave.name,
                    "member_id": member_id,
                    "subject": r.subject,
                    "body": r.body,
                    "segments": r.segments,
                }
            )
        first_due = send_time_after(max(bases[wave.pk], now), settings)
        waves.append(
            {
                "wave_id": wave.pk,
                "name": wave.name,
                "branch": wave.branch.name if wave.branch else "",
                "channel": template.channel,
                "offer": wave.offer.name if wave.offer else "",
                "first_run_at": first_due,
                "runs": [
                    send_time_after(bases[wave.pk] + timedelta(days=k * wave.loop_every_days), settings)
                    for k in range(wave.loops)
                ],
                "entrants": len(pool),
                "control": control,
                "reachable": reach,
                "unit_cost_fen": unit,
                "cost_fen_upper_bound": cost,
                "through": "outbox" if template.channel in MESSAGE_CHANNELS else "staff tasks",
            }
        )
    return {
        "campaign_id": campaign.pk,
        "audience": len(ids),
        "branches": branches,
        "control": sum(control_size(len(s), campaign.holdout_bp) for s in strata.values()),
        "waves": waves,
        "samples": samples,
        "cost_fen_upper_bound": total_cost,
        "budget_fen": campaign.budget_fen,
        "over_budget": campaign.budget_fen is not None and total_cost > campaign.budget_fen,
    }


def member_campaign_history(member_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """What a member got from campaigns, newest first: the campaign's canonical name and plain
    terms next to the exact text that went out (SPEC 9: agents must see what the member saw)."""
    contacts = (
        Contact.objects.filter(member_id=member_id)
        .select_related("run__wave__campaign", "run__wave__template", "coupon")
        .order_by("-at", "-pk")[:limit]
    )
    purposes = [c.run.purpose for c in contacts]
    texts = {
        p: (s, b, st)
        for p, s, b, st in Message.objects.filter(member_id=member_id, purpose__in=purposes).values_list(
            "purpose", "subject", "body", "state"
        )
    }
    tasks = dict(
        StaffTask.objects.filter(member_id=member_id, purpose__in=purposes).values_list("purpose", "body")
    )
    out = []
    for c in contacts:
        wave, campaign = c.run.wave, c.run.wave.campaign
        subject, body, state = texts.get(c.run.purpose, ("", tasks.get(c.run.purpose, ""), ""))
        out.append(
            {
                "campaign_id": campaign.pk,
                "campaign": campaign.name,
                "plain_terms": campaign.plain_terms,
                "wave": wave.name,
                "loop": c.run.loop,
                "channel": wave.channel,
                "outcome": c.outcome,
                "reason": c.reason,
                "at": c.at,
                "subject": subject,
                "text": body,
                "message_state": state,
                "coupon_code": c.coupon.code if c.coupon_id else "",
            }
        )
    return out
