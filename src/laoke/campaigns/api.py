"""/api/v1/campaigns: design (create, change a draft), approval, launch and stop, dry run,
progress, the shop's marketing guards, and what a member received (for service agents).

Marketers design, schedule, pause, resume and cancel; service managers and the admin approve
(never the campaign's own creator); analysts read; service staff read a member's history. Writes
accept an Idempotency-Key (nothing of value moves by them directly).
"""

from datetime import datetime, time
from typing import Any, Literal

from django.db.models import Q
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from laoke.core.api import idempotent_write, paginate, require
from laoke.core.errors import DomainError
from laoke.core.validation import LocalTime

from . import selectors, services
from .error_codes import CAMPAIGN_STATE
from .models import Campaign, Wave

router = Router(tags=["campaigns"])

READ, WRITE = "campaigns:read", "campaigns:write"


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class BranchIn(In):
    name: str = Field(..., max_length=60)
    rule: dict[str, Any] = Field(default_factory=dict)
    eval_days_after_last_wave: int = Field(2, ge=0, le=365)


class WaveIn(In):
    name: str = Field("", max_length=60)
    branch: str = Field("", max_length=60)
    template_id: int
    offer_template_id: int | None = None
    send_at: datetime | None = None
    delay_days: int = Field(0, ge=0, le=365)
    send_time: LocalTime | None = None
    entry: Literal["all", "no_order", "ordered"] = "all"
    eval_days: int = Field(10, ge=1, le=365)
    loops: int = Field(1, ge=1, le=24)
    loop_every_days: int = Field(0, ge=0, le=365)
    channel_code: str = Field("", max_length=32)


Objective = Literal["retention", "reactivation", "clearance", "new_product", "event", "care"]
Metric = Literal["response_rate", "orders", "revenue", "sales_growth"]


class CampaignIn(In):
    name: str = Field(..., max_length=120)
    plain_terms: str = Field("", max_length=2000)
    objective: Objective
    target_metric: Metric = "response_rate"
    target_value: int = Field(0, ge=0)
    segment_id: int
    holdout_bp: int = Field(1000, ge=0, le=5000)
    seed: int | None = Field(None, ge=0, le=2**62)
    attribution: Literal["code", "window"] = "window"
    budget_fen: int | None = Field(None, ge=0)
    old_budget_bp: int | None = Field(None, ge=0, le=10000)
    branches: list[BranchIn] = Field(default_factory=list, max_length=20)
    waves: list[WaveIn] = Field(..., min_length=1, max_length=60)


class CampaignPatch(In):
    name: str | None = Field(None, max_length=120)
    plain_terms: str | None = Field(None, max_length=2000)
    objective: Objective | None = None
    target_metric: Metric | None = None
    target_value: int | None = Field(None, ge=0)
    segment_id: int | None = None
    holdout_bp: int | None = Field(None, ge=0, le=5000)
    seed: int | None = Field(None, ge=0, le=2**62)
    attribution: Literal["code", "window"] | None = None
    budget_fen: int | None = Field(None, ge=0)
    old_budget_bp: int | None = Field(None, ge=0, le=10000)
    branches: list[BranchIn] | None = Field(None, max_length=20)
    waves: list[WaveIn] | None = Field(None, min_length=1, max_length=60)


class WaveOut(Schema):
    id: int
    name: str
    branch: str
    position: int
    channel: str
    template_id: int
    offer_template_id: int | None
    send_at: datetime | None
    delay_days: int
    send_time: time | None
    entry: str
    eval_days: int
    loops: int
    loop_every_days: int
    channel_code: str


class CampaignOut(Schema):
    id: int
    name: str
    plain_terms: str
    objective: str
    target_metric: str
    target_value: int
    segment_id: int | None  # none for an external campaign (imported for evaluation)
    snapshot_id: int | None
    holdout_bp: int
    seed: int
    attribution: str
    budget_fen: int | None
    spent_fen: int
    state: str
    stop_reason: str
    starts_at: datetime | None
    started_at: datetime | None
    ends_at: datetime | None
    preset: str
    branches: list[BranchIn]
    waves: list[WaveOut]


def _out(c: Campaign) -> dict:
    waves = [
        {
            "id": w.pk,
            "name": w.name,
            "branch": w.branch.name if w.branch else "",
            "position": w.position,
            "channel": w.template.channel,
            "template_id": w.template_id,
            "offer_template_id": w.offer_id,
            "send_at": w.send_at,
            "delay_days": w.delay_days,
            "send_time": w.send_time,
            "entry": w.entry,
            "eval_days": w.eval_days,
            "loops": w.loops,
            "loop_every_days": w.loop_every_days,
            "channel_code": w.channel_code,
        }
        for w in Wave.objects.filter(campaign=c)
        .select_related("branch", "template")
        .order_by("branch__position", "position")
    ]
    branches = [
        {"name": b.name, "rule": b.rule, "eval_days_after_last_wave": b.eval_days_after_last_wave}
        for b in c.branches.order_by("position")
    ]
    fields = {
        k: getattr(c, k) for k in CampaignOut.model_fields if k not in ("branches", "waves", "snapshot_id")
    }
    return {**fields, "snapshot_id": c.snapshot_id, "branches": branches, "waves": waves}


def _render(c: Campaign) -> tuple[int, dict]:
    return 200, CampaignOut.model_validate(_out(c)).model_dump(mode="json")


class Page(Schema):
    items: list[CampaignOut]
    next_cursor: str | None


@router.get("", response=Page)
@require("campaigns.view_campaign", READ)
def campaign_list(
    request,
    state: str | None = None,
    q: str | None = Query(None, max_length=100),
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1, le=200),
):
    qs = selectors.campaign_list(state=state)
    if q:
        qs = qs.filter(Q(name__icontains=q))
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_out(c) for c in rows], "next_cursor": next_cursor}


@router.post("", response={201: CampaignOut})
@require("campaigns.add_campaign", WRITE)
def campaign_create(request, payload: CampaignIn):
    data = payload.model_dump()
    return idempotent_write(
        request,
        scope="campaigns.create",
        payload=payload.model_dump(mode="json"),
        call=lambda idem: services.campaign_create(data=data, actor=request.user, idem=idem),
        render=lambda c: (201, _render(c)[1]),
    )


class SettingsOut(Schema):
    quiet_start: time
    quiet_end: time
    sms_per_day: int
    sms_per_month: int
    email_per_day: int
    email_per_month: int
    cool_off_hours: int
    refund_suppress_days: int
    sms_fen_per_segment: int
    email_fen: int


class SettingsIn(In):
    quiet_start: LocalTime | None = None
    quiet_end: LocalTime | None = None
    sms_per_day: int | None = Field(None, ge=0, le=100)
    sms_per_month: int | None = Field(None, ge=0, le=1000)
    email_per_day: int | None = Field(None, ge=0, le=100)
    email_per_month: int | None = Field(None, ge=0, le=1000)
    cool_off_hours: int | None = Field(None, ge=0, le=24 * 90)
    refund_suppress_days: int | None = Field(None, ge=0, le=365)
    sms_fen_per_segment: int | None = Field(None, ge=0, le=10_000)
    email_fen: int | None = Field(None, ge=0, le=10_000)


@router.get("/settings", response=SettingsOut)
@require("campaigns.view_campaignsettings", READ)
def settings_get(request):
    return services.campaign_settings()


@router.put("/settings", response=SettingsOut)
@require("campaigns.change_campaignsettings", WRITE)
def settings_put(request, payload: SettingsIn):
    return services.campaign_settings_update(data=payload.model_dump(exclude_none=True), actor=request.user)


@router.get("/members/{int:member_id}/history", response=list[dict[str, Any]])
@require("campaigns.view_contact", READ)
def member_history(request, member_id: int, limit: int = Query(50, ge=1, le=200)):
    """What the member got from campaigns: canonical name and plain terms next to the exact text."""
    return selectors.member_campaign_history(member_id, limit=limit)


@router.post("/presets", response=dict[str, int])
@require("campaigns.add_campaign", WRITE)
def presets_install(request):
    from .presets import campaigns_presets_install

    return campaigns_presets_install(actor=request.user)


@router.get("/{int:campaign_id}", response=CampaignOut)
@require("campaigns.view_campaign", READ)
def campaign_get(request, campaign_id: int):
    return _out(selectors.campaign_get(campaign_id))


@router.patch("/{int:campaign_id}", response=CampaignOut)
@require("campaigns.change_campaign", WRITE)
def campaign_update(request, campaign_id: int, payload: CampaignPatch):
    # null clears the budget (no cap); anything else a campaign always has: null leaves it as is
    data = {
        k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None or k == "budget_fen"
    }
    return idempotent_write(
        request,
        scope=f"campaigns.update:{campaign_id}",
        payload=payload.model_dump(mode="json", exclude_unset=True),
        call=lambda idem: services.campaign_update(
            campaign_id=campaign_id, data=data, actor=request.user, idem=idem
        ),
        render=_render,
    )


def _act(request, campaign_id: int, action: str, service, payload: dict | None = None, **kw):
    """A lifecycle step: one service call, replayed by its Idempotency-Key."""
    return idempotent_write(
        request,
        scope=f"campaigns.{action}:{campaign_id}",
        payload=payload or {},
        call=lambda idem: service(campaign_id=campaign_id, actor=request.user, idem=idem, **kw),
        render=_render,
    )


@router.post("/{int:campaign_id}/approve", response=CampaignOut)
@require("campaigns.approve_campaign", WRITE)
def campaign_approve(request, campaign_id: int):
    return _act(request, campaign_id, "approve", services.campaign_approve)


class ScheduleIn(In):
    starts_at: datetime | None = None


@router.post("/{int:campaign_id}/schedule", response=CampaignOut)
@require("campaigns.launch_campaign", WRITE)
def campaign_schedule(request, campaign_id: int, payload: ScheduleIn):
    return _act(
        request,
        campaign_id,
        "schedule",
        services.campaign_schedule,
        payload.model_dump(mode="json"),
        starts_at=payload.starts_at,
    )


class ReasonIn(In):
    reason: str = Field("", max_length=200)


@router.post("/{int:campaign_id}/pause", response=CampaignOut)
@require("campaigns.launch_campaign", WRITE)
def campaign_pause(request, campaign_id: int, payload: ReasonIn):
    return _act(
        request,
        campaign_id,
        "pause",
        services.campaign_pause,
        payload.model_dump(mode="json"),
        reason=payload.reason,
    )


@router.post("/{int:campaign_id}/resume", response=CampaignOut)
@require("campaigns.launch_campaign", WRITE)
def campaign_resume(request, campaign_id: int):
    return _act(request, campaign_id, "resume", services.campaign_resume)


@router.post("/{int:campaign_id}/cancel", response=CampaignOut)
@require("campaigns.launch_campaign", WRITE)
def campaign_cancel(request, campaign_id: int, payload: ReasonIn):
    return _act(
        request,
        campaign_id,
        "cancel",
        services.campaign_cancel,
        payload.model_dump(mode="json"),
        reason=payload.reason,
    )


@router.get("/{int:campaign_id}/dry-run", response=dict[str, Any])
@require("campaigns.view_campaign", READ)
def campaign_dry_run(request, campaign_id: int):
    campaign = selectors.campaign_get(campaign_id)
    if campaign.segment_id is None:  # an external campaign, imported for evaluation: no audience here
        raise DomainError(CAMPAIGN_STATE, state=campaign.source, action="dry-run")
    return selectors.campaign_dry_run(campaign)


@router.get("/{int:campaign_id}/progress", response=dict[str, Any])
@require("campaigns.view_campaign", READ)
def campaign_progress(request, campaign_id: int):
    return selectors.campaign_progress(selectors.campaign_get(campaign_id))
