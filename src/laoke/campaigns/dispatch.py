"""Running campaigns (SPEC 9, ARCHITECTURE rules 3 and 7): ``campaigns_tick(now)`` launches due
campaigns, writes due wave runs in chunks and completes finished campaigns.

Launch (idempotent, resumable after a crash at any point):
1. the segment is frozen (``segments.segment_snapshot_take`` with key ``campaign:{id}``);
2. members are put in branches (first matching branch rule, in position order; a member matching
   none is not in the campaign unless the campaign has waves for everyone);
3. the control draw, once, stratified by branch: within each branch the member ids are sorted and
   ``random.Random(f"laoke-holdout:{seed}:{branch position or 0}").sample(ids, k)`` with
   ``k = round_half_up(n × holdout_bp / 10000)`` picks the control — anyone can recompute it from
   the seed and the snapshot; the rows go in chunks of 2,000 (``ON CONFLICT DO NOTHING``);
4. one run per wave and loop with its due time; the campaign becomes ``running``.

A run due at ``due_at`` is written in member-id order, chunk by chunk, each chunk one short
transaction under the run's row lock with the cursor advanced in it (a crash resumes after the
last committed chunk; the outbox's unique (purpose, member) and the contacts' unique (run, member)
make a repeated chunk harmless). Who enters a run:
- loop 0 of a branch's first wave: every campaign member of the branch;
- loop 0 of a later wave: the members of the previous wave's first run, filtered by the wave's
  entry condition (no order / an order since that run was due);
- loop k > 0: the members of loop k − 1 who have not ordered since it was due (re-stimulating the
  non-returners).
The control is filtered exactly like the treatment (same runs, same cut-off instants) and recorded
as ``control`` contacts; the treatment goes through the guards (guards.py), gets its offer
(a coupon keyed ``{purpose}:{member}``), and its message (outbox) or staff task. The budget
counts message cost plus the offers' face value; a chunk that would overspend is cut where the
budget ends and the campaign pauses with reason "budget".
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q

from laoke.channels.models import MessageTemplate
from laoke.channels.selectors import shop_link, template_contexts
from laoke.channels.services import TaskRow, _staff_tasks_create_bulk
from laoke.channels.templating import compile_template
from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.bulk import insert_rows
from laoke.core.errors import DomainError
from laoke.core.money import fen_to_yuan
from laoke.members.models import Member
from laoke.messaging.services import MessageSpec, _messages_enqueue_bulk, _outbox_decisions
from laoke.promotions.models import CouponTemplate
from laoke.promotions.services import _coupon_issue, new_code
from laoke.segments.models import SnapshotMember
from laoke.segments.selectors import segment_queryset, snapshot_member_ids
from laoke.segments.services import segment_snapshot_take

from .guards import send_time_after, suppression_reasons
from .models import (
    MESSAGE_CHANNELS,
    Arm,
    Campaign,
    CampaignMember,
    CampaignState,
    Contact,
    Entry,
    Outcome,
    RunState,
    Wave,
    WaveRun,
)
from .services import _pause, campaign_settings

log = logging.getLogger("laoke.campaigns")
CHUNK = 2000
OFFER_CHUNK = 500
# A test-only switch: write a chunk without locking its run first (what the lock prevents: two
# workers writing the same chunk and counting it twice).
_UNLOCKED_FOR_TESTS = False
CONTACT_COLUMNS = (
    "run_id",
    "member_id",
    "outcome",
    "reason",
    "coupon_id",
    "at",
    "window_ends_at",
)  # a coupon is a few rows and counter updates: smaller chunks stay short


# --- launch ------------------------------------------------------------------------------------


def control_size(n: int, holdout_bp: int) -> int:
    return (n * holdout_bp + 5000) // 10000


def draw_control(ids: list[int], *, seed: int, stratum: int, holdout_bp: int) -> set[int]:
    """The held-out members of one stratum (see the module docstring)."""
    ordered = sorted(ids)
    rng = random.Random(f"laoke-holdout:{seed}:{stratum}")
    return set(rng.sample(ordered, control_size(len(ordered), holdout_bp)))


def _branches_of(campaign: Campaign, snapshot_id: int, now: datetime) -> dict[int, int | None]:
    """member id → branch id (None: the campaign's unbranched waves)."""
    everyone = list(snapshot_member_ids(snapshot_id))
    branches = list(campaign.branches.order_by("position"))
    if not branches:
        return dict.fromkeys(everyone)
    left = set(everyone)
    out: dict[int, int | None] = {}
    in_snapshot = SnapshotMember.objects.filter(snapshot_id=snapshot_id).values("member_id")
    for branch in branches:
        if branch.rule:
            matched = set(
                segment_queryset(branch.rule, now=now).filter(pk__in=in_snapshot).values_list("pk", flat=True)
            )
            ids = matched & left
        else:
            ids = set(left)
        out.update(dict.fromkeys(ids, branch.pk))
        left -= ids
    if campaign.waves.filter(branch__isnull=True).exists():
        out.update(dict.fromkeys(left))
    return out


def _wave_bases(campaign: Campaign, start: datetime) -> dict[int, datetime]:
    """When each wave's first run is due (see models.Wave)."""
    bases: dict[int, datetime] = {}
    previous: dict[int | None, datetime] = {}
    for wave in campaign.waves.order_by("branch_id", "position"):
        if wave.send_at:
            base = wave.send_at
        else:
            base = previous.get(wave.branch_id, start) + timedelta(days=wave.delay_days)
            if wave.send_time is not None:
                local = clock.to_local(base)
                at = local.replace(
                    hour=wave.send_time.hour, minute=wave.send_time.minute, second=0, microsecond=0
                )
                if at < local:
                    at += timedelta(days=1)
                base = at.astimezone(start.tzinfo)
        bases[wave.pk] = previous[wave.branch_id] = base
    return bases


def _launch(campaign_id: int, now: datetime) -> Campaign | None:
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.state != CampaignState.SCHEDULED:
        return None
    start = campaign.starts_at or now
    snapshot = segment_snapshot_take(segment_id=campaign.segment_id, now=start, key=f"campaign:{campaign.pk}")
    branch_of = _branches_of(campaign, snapshot.pk, start)
    positions = dict(campaign.branches.values_list("pk", "position"))
    strata: dict[int | None, list[int]] = {}
    for member_id, branch_id in branch_of.items():
        strata.setdefault(branch_id, []).append(member_id)
    job = f"campaign:{campaign.pk}:draw"
    rows: list[CampaignMember] = []
    for branch_id, ids in sorted(strata.items(), key=lambda kv: positions.get(kv[0], 0)):
        control = draw_control(
            ids, seed=campaign.seed, stratum=positions.get(branch_id, 0), holdout_bp=campaign.holdout_bp
        )
        rows.extend(
            CampaignMember(
                campaign_id=campaign.pk,
                member_id=m,
                branch_id=branch_id,
                arm=Arm.CONTROL if m in control else Arm.TREATMENT,
                job_id=job,
            )
            for m in sorted(ids)
        )
    for i in range(0, len(rows), CHUNK):
        with transaction.atomic(durable=True):
            CampaignMember.objects.bulk_create(rows[i : i + CHUNK], ignore_conflicts=True)
    bases = _wave_bases(campaign, start)
    with transaction.atomic(durable=True):
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.state != CampaignState.SCHEDULED:
            return None
        runs = []
        ends = start
        for wave in campaign.waves.all():
            for loop in range(wave.loops):
                due = bases[wave.pk] + timedelta(days=loop * wave.loop_every_days)
                runs.append(WaveRun(wave=wave, loop=loop, due_at=due))
                ends = max(ends, due + timedelta(days=wave.eval_days))
        for branch in campaign.branches.all():
            last = max((r.due_at for r in runs if r.wave.branch_id == branch.pk), default=start)
            ends = max(ends, last + timedelta(days=branch.eval_days_after_last_wave))
        WaveRun.objects.bulk_create(runs, ignore_conflicts=True)
        campaign.snapshot = snapshot
        campaign.state = CampaignState.RUNNING
        campaign.started_at = now
        campaign.ends_at = ends
        campaign.members_drawn = len(rows)
        campaign.updated_at = now
        campaign.save(
            update_fields=["snapshot", "state", "started_at", "ends_at", "members_drawn", "updated_at"]
        )
        control = sum(1 for r in rows if r.arm == Arm.CONTROL)
        audit_write(
            action="campaign.launch",
            obj=campaign,
            after={"snapshot": snapshot.pk, "members": len(rows), "control": control, "runs": len(runs)},
            actor=None,
        )
    return campaign


# --- materialisation ------------------------------------------------------------------------------


def _previous_run(run: WaveRun) -> WaveRun | None:
    if run.loop > 0:
        return WaveRun.objects.filter(wave_id=run.wave_id, loop=run.loop - 1).first()
    wave = run.wave
    if wave.position == 1:
        return None
    before = Wave.objects.filter(
        campaign_id=wave.campaign_id, branch_id=wave.branch_id, position=wave.position - 1
    )
    return WaveRun.objects.filter(wave__in=before, loop=0).first()


def entrants(run: WaveRun, previous: WaveRun | None):
    """The campaign members (both arms) who enter ``run`` — see the module docstring."""
    wave = run.wave
    qs = CampaignMember.objects.filter(campaign_id=wave.campaign_id, member__status=Member.Status.ACTIVE)
    if wave.branch_id is not None:
        qs = qs.filter(branch_id=wave.branch_id)
    if previous is None:
        return qs
    qs = qs.filter(member_id__in=Contact.objects.filter(run=previous).values("member_id"))
    entry = Entry.NO_ORDER if run.loop > 0 else wave.entry
    no_order = Q(member__stats__last_order_at__isnull=True) | Q(
        member__stats__last_order_at__lte=previous.due_at
    )
    if entry == Entry.NO_ORDER:
        qs = qs.filter(no_order)
    elif entry == Entry.ORDERED:
        qs = qs.exclude(no_order)
    return qs


def _offer_context(coupon, template: CouponTemplate) -> dict[str, str]:
    amount = template.amount_off_fen or template.unit_value_fen
    expiry = clock.to_local(coupon.valid_to - timedelta(seconds=1)).date().isoformat()
    return {"coupon_code": coupon.code, "coupon_amount": str(fen_to_yuan(amount)), "coupon_expiry": expiry}


def _materialise_chunk(run_id: int, now: datetime, chunk: int) -> bool:
    """Write the next chunk of a run; True when the run is finished (or cannot go on)."""
    settings = campaign_settings()
    with transaction.atomic(durable=True):
        runs = WaveRun.objects.select_related("wave__campaign")
        if _UNLOCKED_FOR_TESTS:  # the negative control of the race test: read, pause, write
            run = runs.get(pk=run_id)
            time.sleep(0.05)
        else:
            run = runs.select_for_update(of=("self",)).get(pk=run_id)
        wave, campaign = run.wave, run.wave.campaign
        if campaign.state != CampaignState.RUNNING or run.state not in (
            RunState.PENDING,
            RunState.MATERIALISING,
        ):
            return True
        previous = _previous_run(run)
        if previous is not None and previous.state not in (RunState.DONE, RunState.SKIPPED):
            return True  # wait for the previous run to be written
        template: MessageTemplate = MessageTemplate.objects.get(pk=wave.template_id)
        offer = wave.offer
        if offer is not None:
            offer = CouponTemplate.objects.get(pk=offer.pk)
            chunk = min(chunk, OFFER_CHUNK)
        rows = list(
            entrants(run, previous)
            .filter(member_id__gt=run.cursor)
            .order_by("member_id")
            .values_list("member_id", "arm")[:chunk]
        )
        if run.state == RunState.PENDING:
            run.state, run.started_at = RunState.MATERIALISING, now
        if not rows:
            run.state, run.finished_at = RunState.DONE, now
            run.save(update_fields=["state", "started_at", "finished_at"])
            return True
        purpose = f"campaign:{campaign.pk}:wave:{wave.pk}:loop:{run.loop}"
        send_at = send_time_after(max(run.due_at, now), settings)
        window_ends = send_at + timedelta(days=wave.eval_days)
        marketing = template.kind == "marketing"
        treatment = [m for m, arm in rows if arm == Arm.TREATMENT]
        reasons = suppression_reasons(
            treatment,
            channel=template.channel if marketing else "",
            at=send_at,
            has_offer=offer is not None,
            settings=settings,
        )
        decided = None
        if template.channel in MESSAGE_CHANNELS:
            # The outbox's own reasons first (inactive, no address, no consent): nobody gets an
            # offer or is charged for a message that would not go. The same reading is handed to
            # the outbox below, so the members and their consents are read once per chunk.
            decided = _outbox_decisions(treatment, channel=template.channel, kind=template.kind)
            for member_id in treatment:
                if member_id not in decided[0]:
                    reasons.setdefault(member_id, "member not found")
                elif member_id in decided[1]:
                    reasons.setdefault(member_id, decided[1][member_id])
        compiled = compile_template(template)
        extra = {"campaign": campaign.name, "shop_link": f"{shop_link()}?c={wave.channel_code}"}
        contexts = template_contexts(treatment, now=now, channel=template.channel, extra=extra)
        # Budget: what each member would cost (message + offer face value), in member order.
        unit_offer = offer.unit_value_fen if offer is not None else 0
        sample_offer = (
            {
                "coupon_code": new_code(offer.code_prefix),
                "coupon_amount": "0.00",
                "coupon_expiry": "2000-01-01",
            }
            if offer is not None
            else {}
        )
        cut = len(rows)
        if campaign.budget_fen is not None:
            left = campaign.budget_fen - Campaign.objects.values_list("spent_fen", flat=True).get(
                pk=campaign.pk
            )
            spend = 0
            for i, (member_id, arm) in enumerate(rows):
                if arm != Arm.TREATMENT or member_id in reasons or member_id not in contexts:
                    continue
                ctx = {**contexts[member_id], **sample_offer}
                cost = compiled.render(ctx).cost_fen + unit_offer
                if spend + cost > left:
                    cut = i
                    break
                spend += cost
        budget_hit = cut < len(rows)
        if budget_hit:
            rows = rows[:cut]
            treatment = [m for m, arm in rows if arm == Arm.TREATMENT]
        members = (
            {m.pk: m for m in Member.objects.filter(pk__in=[m for m in treatment if m not in reasons])}
            if offer is not None
            else {}
        )
        coupons = {}
        for member_id in treatment:
            if member_id in reasons or member_id not in contexts:
                reasons.setdefault(member_id, "member not found")
                continue
            if offer is not None:
                try:
                    with transaction.atomic():
                        coupons[member_id] = _coupon_issue(
                            template=offer,
                            member=members[member_id],
                            channel=wave.channel_code,
                            key=f"{purpose}:{member_id}",
                            now=now,
                        )
                except DomainError as exc:
                    reasons[member_id] = f"offer not issued: {exc.error.code}"
        cost_total = 0
        specs: list[MessageSpec] = []
        tasks: list[TaskRow] = []
        for member_id in treatment:
            if member_id in reasons:
                continue
            ctx = contexts[member_id]
            if member_id in coupons:
                ctx = {**ctx, **_offer_context(coupons[member_id], offer)}
            rendered = compiled.render(ctx)
            cost_total += rendered.cost_fen + (unit_offer if member_id in coupons else 0)
            if template.channel in MESSAGE_CHANNELS:
                specs.append(
                    MessageSpec(
                        member_id=member_id,
                        body=rendered.body,
                        subject=rendered.subject,
                        html_body=rendered.html_body,
                    )
                )
            else:
                tasks.append(
                    TaskRow(
                        purpose=purpose,
                        member_id=member_id,
                        kind=template.channel,
                        body=rendered.body,
                        due_at=send_at,
                        channel_code=wave.channel_code,
                        job_id=purpose[:64],
                    )
                )
        if specs:  # its suppression decisions are ``decided``'s, already in ``reasons``
            _messages_enqueue_bulk(
                purpose=purpose,
                channel=template.channel,
                kind=template.kind,
                specs=specs,
                not_before=send_at,
                job_id=purpose[:64],
                decided=decided,
            )
        if tasks:
            _staff_tasks_create_bulk(tasks)
        contacts: list[tuple] = []
        counted = dict.fromkeys(Outcome.values, 0)
        for member_id, arm in rows:
            if arm == Arm.CONTROL:
                outcome, reason = Outcome.CONTROL, ""
            else:
                reason = reasons.get(member_id, "")
                outcome = Outcome.SUPPRESSED if reason else Outcome.CONTACTED
            counted[outcome] += 1
            coupon = coupons.get(member_id)
            contacts.append(
                (
                    run.pk,
                    member_id,
                    outcome,
                    reason[:120],
                    coupon.pk if coupon else None,
                    send_at,
                    window_ends,
                )
            )
        insert_rows(Contact._meta.db_table, CONTACT_COLUMNS, contacts)
        run.contacted += counted[Outcome.CONTACTED]
        run.suppressed += counted[Outcome.SUPPRESSED]
        run.control += counted[Outcome.CONTROL]
        run.cost_fen += cost_total
        if rows:
            run.cursor = rows[-1][0]
        run.save(
            update_fields=["state", "started_at", "cursor", "contacted", "suppressed", "control", "cost_fen"]
        )
        if cost_total:
            Campaign.objects.filter(pk=campaign.pk).update(spent_fen=F("spent_fen") + cost_total)
        if budget_hit:
            campaign.refresh_from_db()
            _pause(campaign, "budget", now)
            audit_write(action="campaign.budget_stop", obj=campaign, after={"spent_fen": campaign.spent_fen})
            return True
        return False


def _complete_finished(now: datetime) -> int:
    done = 0
    for campaign in Campaign.objects.filter(state=CampaignState.RUNNING, ends_at__lte=now):
        open_runs = WaveRun.objects.filter(
            wave__campaign=campaign, state__in=[RunState.PENDING, RunState.MATERIALISING]
        )
        if open_runs.exists():
            continue
        with transaction.atomic(durable=True):
            locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
            if locked.state != CampaignState.RUNNING:
                continue
            locked.state = CampaignState.COMPLETED
            locked.finished_at = locked.updated_at = now
            locked.save(update_fields=["state", "finished_at", "updated_at"])
            audit_write(action="campaign.complete", obj=locked, after={"spent_fen": locked.spent_fen})
        done += 1
    return done


def campaigns_tick(now: datetime, *, max_chunks: int = 200, chunk: int = CHUNK) -> dict[str, int]:
    """Launch due campaigns, write due runs (at most ``max_chunks`` chunks per tick, oldest due
    first), complete campaigns whose runs are written and whose evaluation windows are over."""
    out = {"launched": 0, "chunks": 0, "runs_done": 0, "completed": 0}
    for campaign_id in Campaign.objects.filter(state=CampaignState.SCHEDULED, starts_at__lte=now).values_list(
        "pk", flat=True
    ):
        if _launch(campaign_id, now) is not None:
            out["launched"] += 1
    due = WaveRun.objects.filter(
        state__in=[RunState.PENDING, RunState.MATERIALISING],
        due_at__lte=now,
        wave__campaign__state=CampaignState.RUNNING,
    ).order_by("due_at", "wave__position", "pk")
    for run_id in list(due.values_list("pk", flat=True)):
        while out["chunks"] < max_chunks:
            out["chunks"] += 1
            if _materialise_chunk(run_id, now, chunk):
                if WaveRun.objects.filter(pk=run_id, state=RunState.DONE).exists():
                    out["runs_done"] += 1
                break
    out["completed"] = _complete_finished(now)
    return out
