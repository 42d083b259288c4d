"""Campaign lifecycle (SPEC 9): draft → approved → scheduled → running → paused/resumed →
completed / cancelled.

- A draft is created and edited as a whole: the campaign's fields with its branches and waves
  (``data`` as the API takes it). Only drafts are edited; approving freezes it.
- Approval needs the ``campaigns.approve_campaign`` permission (checked by the adapter) and
  someone other than the creator (four eyes: a campaign spends coupons and money).
- Scheduling sets the start; ``campaigns_tick(now)`` launches it when due (dispatch.py): snapshot
  of the segment, the control draw, the wave runs.
- Pausing holds the campaign's waiting messages (their ``not_before`` moves to the far future) and
  stops materialising; resuming releases them (quiet hours still apply at send time). Cancelling
  suppresses what has not gone and cancels open runs.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time
from typing import Any

from django.db import IntegrityError, transaction

from laoke.channels.models import MessageTemplate
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.core.validation import check_choice, check_length
from laoke.messaging.purposes import _messages_hold, _messages_release, _messages_suppress
from laoke.promotions.models import CouponTemplate
from laoke.segments.models import Segment
from laoke.segments.selectors import segment_queryset

from . import error_codes as E
from .guards import send_time_after
from .models import (
    Attribution,
    Branch,
    Campaign,
    CampaignSettings,
    CampaignState,
    Entry,
    Objective,
    RunState,
    TargetMetric,
    Wave,
    WaveRun,
)

EDITABLE = {CampaignState.DRAFT}
FIELDS = (
    "name",
    "plain_terms",
    "objective",
    "target_metric",
    "target_value",
    "holdout_bp",
    "attribution",
    "budget_fen",
    "old_budget_bp",
    "preset",
)


def _state_error(campaign: Campaign, action: str) -> DomainError:
    return DomainError(E.CAMPAIGN_STATE, state=campaign.state, action=action)


def _locked(campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise DomainError(NOT_FOUND, field="campaign_id")
    return campaign


def _snapshot(c: Campaign) -> dict[str, Any]:
    return {
        "name": c.name,
        "state": c.state,
        "segment": c.segment_id,
        "holdout_bp": c.holdout_bp,
        "seed": c.seed,
        "budget_fen": c.budget_fen,
        "starts_at": c.starts_at.isoformat() if c.starts_at else None,
        "waves": list(c.waves.values_list("pk", flat=True)),
    }


# --- validation ---------------------------------------------------------------------------------


def _time_of(value: Any, field: str) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise DomainError(
            E.CAMPAIGN_WAVE_INVALID, field=field, why=f"{value!r} is not a time of day"
        ) from None


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: data[k] for k in FIELDS if k in data}
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"]:
            raise DomainError(E.CAMPAIGN_WAVE_INVALID, field="name", why="a name is required")
        check_length("name", out["name"], 120)
    check_length("plain_terms", out.get("plain_terms", ""), 2000)
    if "objective" in out:
        check_choice("objective", out["objective"], Objective.values)
    if "target_metric" in out:
        check_choice("target_metric", out["target_metric"], TargetMetric.values)
    if "attribution" in out:
        check_choice("attribution", out["attribution"], Attribution.values)
    if "holdout_bp" in out and not (0 <= int(out["holdout_bp"]) <= 5000):
        raise DomainError(E.CAMPAIGN_WAVE_INVALID, field="holdout_bp", why="the control share is 0–50%")
    for money in ("budget_fen", "target_value"):
        if out.get(money) is not None and int(out[money]) < 0:
            raise DomainError(E.CAMPAIGN_WAVE_INVALID, field=money, why="must not be negative")
    if out.get("old_budget_bp") is not None and not (0 <= int(out["old_budget_bp"]) <= 10000):
        raise DomainError(E.CAMPAIGN_WAVE_INVALID, field="old_budget_bp", why="a share is 0–10000 bp")
    return out


def _write_structure(campaign: Campaign, data: dict[str, Any], now: datetime) -> None:
    """Replace the branches and waves of a draft with ``data['branches']`` / ``data['waves']``."""
    campaign.waves.all().delete()
    campaign.branches.all().delete()
    branches: dict[str, Branch] = {}
    for i, raw in enumerate(data.get("branches") or []):
        field = f"branches[{i}]"
        name = (raw.get("name") or "").strip()
        if not name or name in branches:
            raise DomainError(
                E.CAMPAIGN_BRANCH_INVALID, field=f"{field}.name", why="names are required and unique"
            )
        rule = raw.get("rule") or {}
        if rule:
            segment_queryset(rule, now=now)  # validates; raises the segments error with the path
        branches[name] = Branch.objects.create(
            campaign=campaign,
            position=i + 1,
            name=name,
            rule=rule,
            eval_days_after_last_wave=int(raw.get("eval_days_after_last_wave", 2)),
        )
    positions: dict[int | None, int] = {}
    waves = data.get("waves") or []
    for i, raw in enumerate(waves):
        field = f"waves[{i}]"
        branch = None
        if raw.get("branch"):
            branch = branches.get(raw["branch"])
            if branch is None:
                raise DomainError(E.CAMPAIGN_WAVE_INVALID, field=f"{field}.branch", why="no such branch")
        template = MessageTemplate.objects.filter(pk=raw.get("template_id"), is_active=True).first()
        if template is None:
            raise DomainError(
                E.CAMPAIGN_WAVE_INVALID, field=f"{field}.template_id", why="no such active template"
            )
        offer = None
        if raw.get("offer_template_id"):
            offer = CouponTemplate.objects.filter(pk=raw["offer_template_id"], is_active=True).first()
            if offer is None:
                raise DomainError(
                    E.CAMPAIGN_WAVE_INVALID,
                    field=f"{field}.offer_template_id",
                    why="no such active coupon template",
                )
        entry = raw.get("entry") or Entry.ALL
        check_choice(f"{field}.entry", entry, Entry.values)
        key = branch.pk if branch else None
        position = positions[key] = positions.get(key, 0) + 1
        if position == 1 and entry != Entry.ALL:
            raise DomainError(
                E.CAMPAIGN_WAVE_INVALID, field=f"{field}.entry", why="the first wave has no previous wave"
            )
        loops = int(raw.get("loops", 1))
        every = int(raw.get("loop_every_days", 30 if loops > 1 else 0))
        if not (1 <= loops <= 24) or (loops > 1 and every < 1):
            raise DomainError(E.CAMPAIGN_WAVE_INVALID, field=f"{field}.loops", why="1–24 runs, ≥ 1 day apart")
        eval_days = int(raw.get("eval_days", 10))
        if eval_days < 1:
            raise DomainError(E.CAMPAIGN_WAVE_INVALID, field=f"{field}.eval_days", why="at least one day")
        send_at = raw.get("send_at")
        if isinstance(send_at, str) and send_at:
            send_at = datetime.fromisoformat(send_at)
        name = (raw.get("name") or f"{branch.name + ' ' if branch else ''}#{position}").strip()
        check_length(f"{field}.name", name, 60)
        wave = Wave.objects.create(
            campaign=campaign,
            branch=branch,
            position=position,
            name=name,
            template=template,
            offer=offer,
            send_at=send_at or None,
            delay_days=int(raw.get("delay_days", 0)),
            send_time=_time_of(raw.get("send_time"), f"{field}.send_time"),
            entry=entry,
            eval_days=eval_days,
            loops=loops,
            loop_every_days=every if loops > 1 else max(every, 0),
            channel_code=(raw.get("channel_code") or "").strip(),
        )
        if not wave.channel_code:
            wave.channel_code = f"C{campaign.pk}W{wave.pk}"
            wave.save(update_fields=["channel_code"])
    if branches:
        orphans = [b for b in branches.values() if not b.waves.exists()]
        unbranched = campaign.waves.filter(branch__isnull=True).exists()
        if orphans and not unbranched:
            raise DomainError(
                E.CAMPAIGN_BRANCH_INVALID, field="branches", why=f"{orphans[0].name} has no waves"
            )


# --- lifecycle -------------------------------------------------------------------------------


def campaign_create(*, data: dict[str, Any], actor=None, idem: idempotency.Claim | None = None) -> Campaign:
    now = clock.now()
    fields = _fields(data)
    for required in ("name", "objective"):
        if required not in fields:
            raise DomainError(E.CAMPAIGN_WAVE_INVALID, field=required, why="required")
    segment = Segment.objects.filter(pk=data.get("segment_id")).first()
    if segment is None:
        raise DomainError(NOT_FOUND, field="segment_id")
    try:
        with transaction.atomic(durable=True):
            campaign = Campaign.objects.create(
                **fields,
                segment=segment,
                seed=int(data["seed"]) if data.get("seed") is not None else secrets.randbits(48),
                created_by=actor if getattr(actor, "pk", None) else None,
                created_at=now,
                updated_at=now,
            )
            _write_structure(campaign, data, now)
            audit_write(action="campaign.create", obj=campaign, after=_snapshot(campaign), actor=actor)
            idempotency.complete(idem, campaign)
    except IntegrityError:
        if Campaign.objects.filter(name=fields["name"]).exists():
            raise DomainError(E.CAMPAIGN_NAME_TAKEN, field="name", name=fields["name"]) from None
        raise
    return campaign


def campaign_update(
    *, campaign_id: int, data: dict[str, Any], actor=None, idem: idempotency.Claim | None = None
) -> Campaign:
    """Edit a draft. ``branches``/``waves``, when given, replace the existing ones."""
    now = clock.now()
    fields = _fields(data)
    try:
        with transaction.atomic(durable=True):
            campaign = _locked(campaign_id)
            if campaign.state not in EDITABLE:
                raise _state_error(campaign, "edited")
            before = _snapshot(campaign)
            for k, v in fields.items():
                setattr(campaign, k, v)
            if data.get("segment_id") is not None:
                campaign.segment = Segment.objects.filter(pk=data["segment_id"]).first()
                if campaign.segment is None:
                    raise DomainError(NOT_FOUND, field="segment_id")
            if data.get("seed") is not None:
                campaign.seed = int(data["seed"])
            campaign.updated_at = now
            campaign.save()
            if "waves" in data or "branches" in data:
                _write_structure(campaign, data, now)
            audit_write(
                action="campaign.update", obj=campaign, before=before, after=_snapshot(campaign), actor=actor
            )
            idempotency.complete(idem, campaign)
    except IntegrityError:
        raise DomainError(E.CAMPAIGN_NAME_TAKEN, field="name", name=fields.get("name", "")) from None
    return campaign


def campaign_approve(*, campaign_id: int, actor, idem: idempotency.Claim | None = None) -> Campaign:
    with transaction.atomic(durable=True):
        campaign = _locked(campaign_id)
        if campaign.state != CampaignState.DRAFT:
            raise _state_error(campaign, "approved")
        if not campaign.waves.exists():
            raise DomainError(E.CAMPAIGN_NO_WAVES)
        if campaign.created_by_id is not None and campaign.created_by_id == getattr(actor, "pk", None):
            raise DomainError(E.CAMPAIGN_SELF_APPROVAL)
        campaign.state = CampaignState.APPROVED
        campaign.approved_by = actor if getattr(actor, "pk", None) else None
        campaign.approved_at = campaign.updated_at = clock.now()
        campaign.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
        audit_write(
            action="campaign.approve",
            obj=campaign,
            before={"state": CampaignState.DRAFT.value},
            after={"state": campaign.state},
            actor=actor,
        )
        idempotency.complete(idem, campaign)
    return campaign


def campaign_schedule(
    *, campaign_id: int, starts_at: datetime | None = None, actor=None, idem: idempotency.Claim | None = None
) -> Campaign:
    """Approved → scheduled; the tick launches it at ``starts_at`` (default: now)."""
    now = clock.now()
    starts_at = starts_at or now
    if starts_at < now.replace(microsecond=0) and (now - starts_at).total_seconds() > 60:
        raise DomainError(E.CAMPAIGN_START_PAST, field="starts_at")
    with transaction.atomic(durable=True):
        campaign = _locked(campaign_id)
        if campaign.state != CampaignState.APPROVED:
            raise _state_error(campaign, "scheduled")
        campaign.state = CampaignState.SCHEDULED
        campaign.starts_at = starts_at
        campaign.updated_at = now
        campaign.save(update_fields=["state", "starts_at", "updated_at"])
        audit_write(
            action="campaign.schedule", obj=campaign, after={"starts_at": starts_at.isoformat()}, actor=actor
        )
        idempotency.complete(idem, campaign)
    return campaign


FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)  # a held message's not_before


def _pause(campaign: Campaign, reason: str, now: datetime) -> None:
    campaign.state = CampaignState.PAUSED
    campaign.stop_reason = reason[:200]
    campaign.updated_at = now
    campaign.save(update_fields=["state", "stop_reason", "updated_at"])
    _messages_hold(purpose_prefix=campaign.purpose_prefix, until=FAR_FUTURE)


def campaign_pause(
    *, campaign_id: int, reason: str = "", actor=None, idem: idempotency.Claim | None = None
) -> Campaign:
    with transaction.atomic(durable=True):
        campaign = _locked(campaign_id)
        if campaign.state != CampaignState.RUNNING:
            raise _state_error(campaign, "paused")
        _pause(campaign, reason or "paused by an operator", clock.now())
        audit_write(
            action="campaign.pause", obj=campaign, after={"reason": campaign.stop_reason}, actor=actor
        )
        idempotency.complete(idem, campaign)
    return campaign


def campaign_resume(*, campaign_id: int, actor=None, idem: idempotency.Claim | None = None) -> Campaign:
    now = clock.now()
    with transaction.atomic(durable=True):
        campaign = _locked(campaign_id)
        if campaign.state != CampaignState.PAUSED:
            raise _state_error(campaign, "resumed")
        if campaign.budget_fen is not None and campaign.spent_fen >= campaign.budget_fen:
            raise _state_error(campaign, "resumed with its budget spent")
        campaign.state = CampaignState.RUNNING
        campaign.stop_reason = ""
        campaign.updated_at = now
        campaign.save(update_fields=["state", "stop_reason", "updated_at"])
        _messages_release(
            purpose_prefix=campaign.purpose_prefix,
            held_until=FAR_FUTURE,
            not_before=send_time_after(now, campaign_settings()),
        )
        audit_write(action="campaign.resume", obj=campaign, after={"state": campaign.state}, actor=actor)
        idempotency.complete(idem, campaign)
    return campaign


def campaign_cancel(
    *, campaign_id: int, reason: str = "", actor=None, idem: idempotency.Claim | None = None
) -> Campaign:
    now = clock.now()
    with transaction.atomic(durable=True):
        campaign = _locked(campaign_id)
        if campaign.state in (CampaignState.COMPLETED, CampaignState.CANCELLED):
            raise _state_error(campaign, "cancelled")
        campaign.state = CampaignState.CANCELLED
        campaign.stop_reason = (reason or "cancelled")[:200]
        campaign.finished_at = campaign.updated_at = now
        campaign.save(update_fields=["state", "stop_reason", "finished_at", "updated_at"])
        WaveRun.objects.filter(
            wave__campaign=campaign, state__in=[RunState.PENDING, RunState.MATERIALISING]
        ).update(state=RunState.CANCELLED, finished_at=now)
        dropped = _messages_suppress(purpose_prefix=campaign.purpose_prefix, reason="campaign cancelled")
        audit_write(
            action="campaign.cancel",
            obj=campaign,
            after={"reason": campaign.stop_reason, "messages_dropped": dropped},
            actor=actor,
        )
        idempotency.complete(idem, campaign)
    return campaign


# --- settings ---------------------------------------------------------------------------------

SETTINGS_FIELDS = (
    "quiet_start",
    "quiet_end",
    "sms_per_day",
    "sms_per_month",
    "email_per_day",
    "email_per_month",
    "cool_off_hours",
    "refund_suppress_days",
    "sms_fen_per_segment",
    "email_fen",
)


def campaign_settings() -> CampaignSettings:
    """The shop's guards (unsaved defaults until an admin changes them; never writes)."""
    return CampaignSettings.objects.filter(pk=1).first() or CampaignSettings(pk=1, updated_at=clock.now())


def campaign_settings_update(*, data: dict[str, Any], actor=None) -> CampaignSettings:
    with transaction.atomic(durable=True):
        current = CampaignSettings.objects.select_for_update().filter(pk=1).first() or campaign_settings()
        before = {k: str(getattr(current, k)) for k in SETTINGS_FIELDS}
        for k in SETTINGS_FIELDS:
            if k in data and data[k] is not None:
                value = data[k]
                if k.startswith("quiet_"):
                    value = _time_of(value, k)
                elif int(value) < 0:
                    raise DomainError(E.CAMPAIGN_WAVE_INVALID, field=k, why="must not be negative")
                setattr(current, k, value)
        current.updated_at = clock.now()
        current.save()
        after = {k: str(getattr(current, k)) for k in SETTINGS_FIELDS}
        audit_write(action="campaign.settings", obj=current, before=before, after=after, actor=actor)
    return current
