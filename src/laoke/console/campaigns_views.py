"""Console pages of the campaigns app: the list (with the presets), the builder (campaign fields,
branches with their rule, waves per branch, and a timeline of the runs), the dry run, the actions
(approve, schedule, pause, resume, cancel), the progress page with its JSON, the member-360 partial
of what a member received, and the marketing guards.

Thin over ``laoke.campaigns`` services and selectors. The builder sends the branches and waves as
one JSON document in a hidden field (the shape ``campaign_create`` / ``campaign_update`` take), so
the page and the API share one format and one validation; a DomainError is shown next to the field
it names (``waves[1].loops``, ``branches[0].rule`` …).

Reads that the campaigns selectors do not offer (kept here, read-only):
- ``campaign_schedule_preview(campaign, now)``: every wave's run instants and evaluation window
  without counting the audience (the dry run's formula), for the builder's timeline;
- ``template_options()`` / ``offer_options()``: what the wave selects show.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from laoke.campaigns import selectors, services
from laoke.campaigns.dispatch import _wave_bases
from laoke.campaigns.guards import send_time_after
from laoke.campaigns.models import (
    Attribution,
    Campaign,
    CampaignState,
    Entry,
    Objective,
    RunState,
    TargetMetric,
    Wave,
    WaveRun,
)
from laoke.campaigns.presets import campaigns_presets_install
from laoke.channels.models import MessageTemplate, TemplateChannel
from laoke.channels.selectors import shop_link
from laoke.channels.sms_text import sms_segments
from laoke.channels.templating import compile_template
from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.money import MoneyFormatError, format_yuan, yuan_to_fen
from laoke.members.selectors import member_visible_queryset
from laoke.promotions.models import CouponTemplate
from laoke.segments.models import Segment
from laoke.segments.selectors import segment_queryset

# Badge colours per state (inline styles: the console has no build step for new utility classes).
STATE_STYLE = {
    "draft": "background:#e5e7eb;color:#374151",
    "approved": "background:#dbeafe;color:#1d4ed8",
    "scheduled": "background:#e0e7ff;color:#4338ca",
    "running": "background:#dcfce7;color:#15803d",
    "paused": "background:#fef3c7;color:#b45309",
    "completed": "background:#f3f4f6;color:#111827",
    "cancelled": "background:#fee2e2;color:#b91c1c",
}
WAVE_COLOURS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4d7c0f", "#be185d"]
# Metrics entered as a percentage or in yuan are stored ×100 (basis points, fen).
HUNDREDTHS = {TargetMetric.RESPONSE_RATE, TargetMetric.SALES_GROWTH, TargetMetric.REVENUE}
LIVE_STATES = {CampaignState.SCHEDULED, CampaignState.RUNNING}
JSON_PARAMS = {"json_dumps_params": {"ensure_ascii": False}}


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _local(dt: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.to_local(dt).strftime(fmt) if dt else ""


def _percent(part: int, whole: int | None) -> int:
    if not whole:
        return 0
    return max(0, min(100, round(100 * part / whole)))


def _get(campaign_id: int) -> Campaign:
    try:
        return selectors.campaign_get(campaign_id)
    except DomainError as exc:
        raise Http404(str(exc)) from exc


# --- reads kept here ------------------------------------------------------------------------------


def template_options() -> list[dict[str, Any]]:
    """Active message templates for the wave select: the channel, and for an SMS its length as
    rendered with typical values (【签名】 included), its segments and its cost at the shop's price
    (the dry run shows the exact text for real members)."""
    price = services.campaign_settings().sms_fen_per_segment
    typical = {
        "name": "王小明",
        "coupon_amount": "10",
        "coupon_code": "AB12CD34EF",
        "coupon_expiry": "2026-12-31",
        "shop_link": f"{shop_link()}?c=C12W34",
        "campaign": "",
    }
    out = []
    for t in MessageTemplate.objects.filter(is_active=True).order_by("channel", "name"):
        row = {
            "id": t.pk,
            "name": t.name,
            "channel": t.channel,
            "kind": t.kind,
            "info": t.get_channel_display(),
        }
        if t.channel == "sms":
            text = compile_template(t).render(typical).body
            n = sms_segments(text)
            row.update(length=len(text), segments=n, cost=format_yuan(n * price))
            row["info"] = _("SMS · about %(length)s chars · %(segments)s segment(s) · %(cost)s each") % row
        out.append(row)
    return out


def offer_options() -> list[dict[str, Any]]:
    return [
        {"id": o.pk, "name": o.name, "kind": o.get_kind_display()}
        for o in CouponTemplate.objects.filter(is_active=True).order_by("name")
    ]


def campaign_schedule_preview(campaign: Campaign, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each wave's runs (the instants the dry run shows, or the real runs once launched) and its
    evaluation window, without touching the audience: cheap enough for every builder render."""
    now = now or clock.now()
    start = campaign.started_at or (
        campaign.starts_at if campaign.starts_at and campaign.starts_at > now else now
    )
    settings = services.campaign_settings()
    bases = _wave_bases(campaign, start)
    real: dict[int, list[datetime]] = {}
    for run in WaveRun.objects.filter(wave__campaign=campaign).order_by("loop"):
        real.setdefault(run.wave_id, []).append(run.due_at)
    out = []
    for wave in (
        Wave.objects.filter(campaign=campaign)
        .select_related("branch")
        .order_by("branch__position", "position")
    ):
        runs = real.get(wave.pk) or [
            send_time_after(bases[wave.pk] + timedelta(days=k * wave.loop_every_days), settings)
            for k in range(wave.loops)
        ]
        out.append(
            {
                "wave_id": wave.pk,
                "name": wave.name,
                "branch": wave.branch.name if wave.branch else "",
                "runs": runs,
                "eval_days": wave.eval_days,
            }
        )
    return out


def timeline(waves: list[dict[str, Any]], start: datetime, *, width: int = 960) -> dict[str, Any] | None:
    """Coordinates of the timeline SVG: one row per branch, a lane per wave in it, a mark per run
    and a bar for each run's evaluation window, on an axis of days from ``start``."""
    if not waves:
        return None
    label_w, lane_h, row_gap, top = 150, 16, 10, 24
    end = max(r + timedelta(days=w["eval_days"]) for w in waves for r in w["runs"] or [start])
    span_days = max(1.0, (end - start).total_seconds() / 86400)
    plot_w = width - label_w - 20

    def x(at: datetime) -> float:
        return round(label_w + plot_w * max(0.0, (at - start).total_seconds() / 86400) / span_days, 1)

    rows, y, colour = [], top, {}
    branches: dict[str, list] = {}
    for w in waves:
        branches.setdefault(w["branch"], []).append(w)
    for branch, ws in branches.items():
        lanes = []
        for i, w in enumerate(ws):
            ly = y + i * lane_h + lane_h / 2
            c = colour.setdefault(w["wave_id"], WAVE_COLOURS[len(colour) % len(WAVE_COLOURS)])
            runs = [
                {
                    "x": x(r),
                    "bar_w": max(2.0, round(x(r + timedelta(days=w["eval_days"])) - x(r), 1)),
                    "title": f"{w['name']} #{k + 1}: {_local(r)}",
                }
                for k, r in enumerate(w["runs"])
            ]
            lanes.append({"name": w["name"], "y": ly, "bar_y": ly - 3, "colour": c, "runs": runs})
        height = len(ws) * lane_h
        rows.append(
            {"branch": branch or _("all members"), "y": y, "h": height, "mid": y + height / 2, "lanes": lanes}
        )
        y += height + row_gap
    step = next((s for s in (1, 2, 5, 7, 10, 14, 30, 60, 90, 180, 365) if span_days / s <= 12), 730)
    ticks = [
        {"x": x(start + timedelta(days=d)), "label": _local(start + timedelta(days=d), "%m-%d"), "day": d}
        for d in range(0, int(span_days) + 1, step)
    ]
    return {"width": width, "height": y + 4, "rows": rows, "ticks": ticks, "top": top, "bottom": y - row_gap}


# --- list and presets -----------------------------------------------------------------------------


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_list(request):
    state = request.GET.get("state") or None
    rows = []
    for c in selectors.campaign_list(state=state).order_by("-pk"):
        rows.append(
            {
                "c": c,
                "style": STATE_STYLE.get(c.state, ""),
                "starts": _local(c.started_at or c.starts_at),
                "ends": _local(c.ends_at),
                "spent": format_yuan(c.spent_fen),
                "budget": format_yuan(c.budget_fen) if c.budget_fen is not None else "",
                "pct": _percent(c.spent_fen, c.budget_fen),
            }
        )
    context = _ctx(
        request,
        _("Campaigns"),
        rows=rows,
        states=CampaignState.choices,
        state=state or "",
        can_add=request.user.has_perm("campaigns.add_campaign"),
        can_settings=request.user.has_perm("campaigns.view_campaignsettings"),
    )
    return TemplateResponse(request, "console/campaigns/list.html", context)


@require_POST
@permission_required("campaigns.add_campaign", raise_exception=True)
def presets_install(request):
    try:
        installed = campaigns_presets_install(actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
    else:
        messages.success(request, _("Preset campaigns installed as drafts: %(n)s.") % {"n": len(installed)})
    return redirect("campaigns_list")


# --- the builder ----------------------------------------------------------------------------------


class FieldError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.msg = field, message


def _number(field: str, text: Any, *, scale: int = 1, required: bool = False) -> int | None:
    text = "" if text is None else str(text).strip()
    if text == "":
        if required:
            raise FieldError(field, _("This field is required."))
        return None
    try:
        value = Decimal(text.replace(",", "")) * scale
    except InvalidOperation:
        raise FieldError(field, _("Enter a number.")) from None
    if value != value.to_integral_value() or value < 0:
        raise FieldError(
            field,
            _("Enter a whole, non-negative number (at most two decimals).")
            if scale > 1
            else _("Enter a whole, non-negative number."),
        )
    return int(value)


def _local_datetime(field: str, text: str) -> datetime | None:
    """A ``datetime-local`` value typed in shop time (Asia/Shanghai) → an aware UTC datetime."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(field, _("Enter a date and time.")) from None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=clock.shop_tz())
    return naive.astimezone(clock.now().tzinfo)


def _form_of(c: Campaign | None) -> dict[str, Any]:
    if c is None:
        return {
            "name": "",
            "plain_terms": "",
            "objective": Objective.RETENTION,
            "target_metric": TargetMetric.RESPONSE_RATE,
            "target_value": "",
            "segment_id": "",
            "holdout": "10",
            "budget": "",
            "old_budget": "",
            "attribution": Attribution.WINDOW,
        }
    scale = 100 if c.target_metric in HUNDREDTHS else 1
    return {
        "name": c.name,
        "plain_terms": c.plain_terms,
        "objective": c.objective,
        "target_metric": c.target_metric,
        "target_value": _fmt_hundredths(c.target_value, scale),
        "segment_id": c.segment_id,
        "holdout": _fmt_hundredths(c.holdout_bp, 100),
        "budget": _fmt_hundredths(c.budget_fen, 100) if c.budget_fen is not None else "",
        "old_budget": _fmt_hundredths(c.old_budget_bp, 100) if c.old_budget_bp is not None else "",
        "attribution": c.attribution,
    }


def _fmt_hundredths(value: int, scale: int) -> str:
    if scale == 1:
        return str(value)
    return f"{(Decimal(value) / scale).normalize():f}"


def _structure_of(c: Campaign | None) -> dict[str, Any]:
    if c is None:
        return {"branches": [], "waves": []}
    waves = []
    for w in (
        Wave.objects.filter(campaign=c).select_related("branch").order_by("branch__position", "position")
    ):
        waves.append(
            {
                "name": w.name,
                "branch": w.branch.name if w.branch else "",
                "template_id": w.template_id,
                "offer_template_id": w.offer_id or "",
                "send_at": _local(w.send_at, "%Y-%m-%dT%H:%M"),
                "delay_days": w.delay_days,
                "send_time": w.send_time.strftime("%H:%M") if w.send_time else "",
                "entry": w.entry,
                "eval_days": w.eval_days,
                "loops": w.loops,
                "loop_every_days": w.loop_every_days,
                "channel_code": w.channel_code,
            }
        )
    branches = [
        {
            "name": b.name,
            "rule": json.dumps(b.rule, ensure_ascii=False, indent=1) if b.rule else "",
            "eval_days_after_last_wave": b.eval_days_after_last_wave,
        }
        for b in c.branches.order_by("position")
    ]
    return {"branches": branches, "waves": waves}


def _data_from(post, structure: dict[str, Any], lang: str, now: datetime) -> dict[str, Any]:
    """The service's ``data`` from the posted form; a FieldError names the first bad field."""
    metric = post.get("target_metric", TargetMetric.RESPONSE_RATE)
    data: dict[str, Any] = {
        "name": post.get("name", ""),
        "plain_terms": post.get("plain_terms", ""),
        "objective": post.get("objective", ""),
        "target_metric": metric,
        "target_value": _number(
            "target_value", post.get("target_value"), scale=100 if metric in HUNDREDTHS else 1
        )
        or 0,
        "segment_id": _number("segment_id", post.get("segment_id"), required=True),
        "holdout_bp": _number("holdout_bp", post.get("holdout"), scale=100, required=True),
        "attribution": post.get("attribution", Attribution.WINDOW),
        "budget_fen": None,
        "old_budget_bp": _number("old_budget_bp", post.get("old_budget"), scale=100),
    }
    if (post.get("budget") or "").strip():
        try:
            data["budget_fen"] = yuan_to_fen(post["budget"])
        except MoneyFormatError:
            raise FieldError("budget_fen", _("Enter an amount in yuan (at most two decimals).")) from None
        if data["budget_fen"] < 0:
            raise FieldError("budget_fen", _("Enter a whole, non-negative number."))
    branches = []
    for i, raw in enumerate(structure.get("branches") or []):
        field = f"branches[{i}]"
        text = (raw.get("rule") or "").strip()
        rule: Any = {}
        if text:
            try:
                rule = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FieldError(f"{field}.rule", _("Not valid JSON: %(error)s") % {"error": exc}) from None
            if not isinstance(rule, dict):
                raise FieldError(f"{field}.rule", _("A rule is a JSON object."))
            try:
                segment_queryset(rule, now=now)
            except DomainError as exc:
                path = exc.details.get("path") or exc.field or ""
                raise FieldError(
                    f"{field}.rule", f"{path}: {exc.message(lang)}" if path else exc.message(lang)
                ) from None
        branches.append(
            {
                "name": raw.get("name") or "",
                "rule": rule,
                "eval_days_after_last_wave": _number(
                    f"{field}.eval_days_after_last_wave", raw.get("eval_days_after_last_wave", 2)
                )
                or 0,
            }
        )
    waves = []
    for i, raw in enumerate(structure.get("waves") or []):
        field = f"waves[{i}]"
        wave = {
            "name": raw.get("name") or "",
            "branch": raw.get("branch") or "",
            "template_id": _number(f"{field}.template_id", raw.get("template_id"), required=True),
            "offer_template_id": _number(f"{field}.offer_template_id", raw.get("offer_template_id")),
            "send_at": _local_datetime(f"{field}.send_at", raw.get("send_at") or ""),
            "delay_days": _number(f"{field}.delay_days", raw.get("delay_days")) or 0,
            "send_time": (raw.get("send_time") or "").strip() or None,
            "entry": raw.get("entry") or Entry.ALL,
            "eval_days": _number(f"{field}.eval_days", raw.get("eval_days"), required=True),
            "loops": _number(f"{field}.loops", raw.get("loops"), required=True),
            "loop_every_days": _number(f"{field}.loop_every_days", raw.get("loop_every_days")) or 0,
            "channel_code": raw.get("channel_code") or "",
        }
        waves.append(wave)
    if not waves:
        raise FieldError("waves", _("Add at least one wave."))
    data["branches"], data["waves"] = branches, waves
    return data


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_edit(request, campaign_id: int | None = None):
    """The builder: a new draft (no id) or an existing campaign (read-only unless a draft)."""
    lang = request_lang(request)
    campaign = _get(campaign_id) if campaign_id is not None else None
    editable = campaign is None or campaign.state == CampaignState.DRAFT
    can_save = editable and request.user.has_perm(
        "campaigns.change_campaign" if campaign else "campaigns.add_campaign"
    )
    if campaign is None and not can_save:
        raise PermissionDenied
    form, structure, error = _form_of(campaign), _structure_of(campaign), None
    if request.method == "POST":
        if not can_save:
            raise PermissionDenied
        form = {k: request.POST.get(k, v) for k, v in form.items()}
        try:
            structure = json.loads(request.POST.get("structure") or "{}")
            if not isinstance(structure, dict):
                raise ValueError
        except ValueError:
            structure = {"branches": [], "waves": []}
        try:
            data = _data_from(request.POST, structure, lang, clock.now())
            if campaign is None:
                campaign = services.campaign_create(data=data, actor=request.user)
            else:
                campaign = services.campaign_update(campaign_id=campaign.pk, data=data, actor=request.user)
        except FieldError as exc:
            error = {"field": exc.field, "message": exc.msg}
        except DomainError as exc:
            error = {"field": exc.field or "", "message": exc.message(lang), "code": exc.code}
        else:
            messages.success(request, _("Campaign saved as a draft."))
            return redirect("campaigns_edit", campaign_id=campaign.pk)
    schedule = campaign_schedule_preview(campaign) if campaign else []
    start = (campaign.started_at or campaign.starts_at) if campaign else None
    firsts = [w["runs"][0] for w in schedule if w["runs"]]
    tl_start = min([start, *firsts]) if start else min(firsts, default=clock.now())
    segments = [
        {"id": s.pk, "name": s.name, "rule": s.rule}
        for s in Segment.objects.filter(
            Q(archived=False) | Q(pk=campaign.segment_id if campaign else None)
        ).order_by("name")
    ]
    context = _ctx(
        request,
        campaign.name if campaign else _("New campaign"),
        campaign=campaign,
        state_style=STATE_STYLE.get(campaign.state, "") if campaign else "",
        form=form,
        error=error,
        editable=editable,
        can_save=can_save,
        objectives=Objective.choices,
        metrics=TargetMetric.choices,
        attributions=Attribution.choices,
        init={
            "structure": structure,
            "segments": segments,
            "templates": template_options(),
            "offers": offer_options(),
            "entries": [{"value": v, "label": str(label)} for v, label in Entry.choices],
            "error": error,
            "editable": editable and can_save,
            "preview_url": reverse("segments_preview"),
            "can_preview": request.user.has_perm("segments.preview_segment"),
        },
        timeline=timeline(schedule, tl_start) if schedule else None,
        **_action_context(request, campaign),
    )
    return TemplateResponse(request, "console/campaigns/edit.html", context, status=400 if error else 200)


# --- actions --------------------------------------------------------------------------------------

ACTIONS = {
    "approve": "campaigns.approve_campaign",
    "schedule": "campaigns.launch_campaign",
    "pause": "campaigns.launch_campaign",
    "resume": "campaigns.launch_campaign",
    "cancel": "campaigns.launch_campaign",
}
ALLOWED = {
    "approve": {CampaignState.DRAFT},
    "schedule": {CampaignState.APPROVED},
    "pause": {CampaignState.RUNNING},
    "resume": {CampaignState.PAUSED},
    "cancel": {
        CampaignState.DRAFT,
        CampaignState.APPROVED,
        CampaignState.SCHEDULED,
        CampaignState.RUNNING,
        CampaignState.PAUSED,
    },
}


def _action_context(request, campaign: Campaign | None) -> dict[str, Any]:
    if campaign is None:
        return {"actions": {}}
    user = request.user
    return {
        "actions": {
            name: user.has_perm(perm) and campaign.state in ALLOWED[name] for name, perm in ACTIONS.items()
        },
        "default_start": _local(
            max(clock.now(), campaign.starts_at or clock.now()) + timedelta(minutes=5), "%Y-%m-%dT%H:%M"
        ),
    }


@require_POST
@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_action(request, campaign_id: int):
    campaign = _get(campaign_id)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        raise Http404
    if not request.user.has_perm(ACTIONS[action]):
        raise PermissionDenied
    reason = (request.POST.get("reason") or "").strip()[:200]
    try:
        if action == "approve":
            services.campaign_approve(campaign_id=campaign.pk, actor=request.user)
            done = _("Campaign approved.")
        elif action == "schedule":
            starts_at = _local_datetime("starts_at", request.POST.get("starts_at", ""))
            campaign = services.campaign_schedule(
                campaign_id=campaign.pk, starts_at=starts_at, actor=request.user
            )
            done = _("Campaign scheduled to start at %(at)s (shop time).") % {
                "at": _local(campaign.starts_at)
            }
        elif action == "pause":
            services.campaign_pause(campaign_id=campaign.pk, reason=reason, actor=request.user)
            done = _("Campaign paused: its waiting messages are held.")
        elif action == "resume":
            services.campaign_resume(campaign_id=campaign.pk, actor=request.user)
            done = _("Campaign resumed.")
        else:
            services.campaign_cancel(campaign_id=campaign.pk, reason=reason, actor=request.user)
            done = _("Campaign cancelled: what had not gone out is dropped.")
    except FieldError as exc:
        messages.error(request, exc.msg)
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
    else:
        messages.success(request, done)
    after = request.POST.get("next") or ""
    if after == "progress":
        return redirect("campaigns_progress", campaign_id=campaign.pk)
    return redirect("campaigns_edit", campaign_id=campaign.pk)


# --- dry run --------------------------------------------------------------------------------------


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_dry_run(request, campaign_id: int):
    campaign = _get(campaign_id)
    now = clock.now()
    try:
        dry = selectors.campaign_dry_run(campaign, now=now)
    except DomainError as exc:  # e.g. the segment's rule no longer validates
        messages.error(request, exc.message(request_lang(request)))
        return redirect("campaigns_edit", campaign_id=campaign.pk)
    eval_days = dict(Wave.objects.filter(campaign=campaign).values_list("pk", "eval_days"))
    waves = []
    for w in dry["waves"]:
        waves.append(
            {
                **w,
                "runs_local": [_local(r) for r in w["runs"]],
                "unit_cost": format_yuan(w["unit_cost_fen"]),
                "cost": format_yuan(w["cost_fen_upper_bound"]),
                "samples": [s for s in dry["samples"] if s["wave"] == w["name"]],
                "eval_days": eval_days.get(w["wave_id"], 1),
                "channel_label": str(dict(TemplateChannel.choices).get(w["channel"], w["channel"])),
            }
        )
    start = min([r for w in dry["waves"] for r in w["runs"][:1]] or [now])
    budget = dry["budget_fen"]
    context = _ctx(
        request,
        _("Dry run: %(name)s") % {"name": campaign.name},
        campaign=campaign,
        state_style=STATE_STYLE.get(campaign.state, ""),
        dry=dry,
        waves=waves,
        cost=format_yuan(dry["cost_fen_upper_bound"]),
        budget=format_yuan(budget) if budget is not None else "",
        cost_pct=_percent(dry["cost_fen_upper_bound"], budget),
        timeline=timeline([{**w, "eval_days": eval_days.get(w["wave_id"], 1)} for w in dry["waves"]], start),
        treatment=dry["audience"] - dry["control"],
        now=_local(now),
        **_action_context(request, campaign),
    )
    return TemplateResponse(request, "console/campaigns/dry_run.html", context)


# --- progress -------------------------------------------------------------------------------------

BAR_PARTS = ("waiting", "sending", "sent", "delivered", "failed", "suppressed", "task_open", "task_done")


def _response(attribution: dict) -> str:
    """ "treatment responders / members (revenue) · control …" for a run, or "—" before any."""
    parts = []
    for arm, label in (("treatment", _("treatment")), ("control", _("control"))):
        f = attribution.get(arm)
        if f and f["members"]:
            parts.append(f"{label} {f['responders']}/{f['members']} ({format_yuan(f['revenue_fen'])})")
    return " · ".join(parts) or "—"


def progress_data(campaign: Campaign) -> dict[str, Any]:
    """``campaign_progress`` made for the page: times in shop time, money in yuan, and per run the
    stacked bar's parts (sent without a receipt and delivered apart)."""
    p = selectors.campaign_progress(campaign)
    runs = []
    for r in p["runs"]:
        o = r["outbox"]
        parts = {k: int(o.get(k, 0)) for k in BAR_PARTS}
        parts["sent"] = max(0, parts["sent"] - parts["delivered"])  # delivered is part of sent
        runs.append(
            {
                **{k: r[k] for k in ("run_id", "wave_id", "wave", "channel", "loop", "state")},
                "run": r["loop"] + 1,  # loops count from 0; people count runs from 1
                "state_label": str(RunState(r["state"]).label),
                "channel_label": str(dict(TemplateChannel.choices).get(r["channel"], r["channel"])),
                "due_at": r["due_at"].isoformat(),
                "due_local": _local(r["due_at"]),
                "contacted": r["contacted"],
                "suppressed_by_guard": r["suppressed"],
                "control": r["control"],
                "cost": format_yuan(r["cost_fen"]),
                "parts": parts,
                "total": sum(parts.values()),
                "response": _response(r.get("attribution") or {}),
            }
        )
    budget = p["budget_fen"]
    return {
        "campaign_id": p["campaign_id"],
        "name": p["name"],
        "state": p["state"],
        "state_label": str(CampaignState(p["state"]).label),
        "stop_reason": p["stop_reason"],
        "members": p["members"],
        "control": p["control"],
        "contacted": sum(r["contacted"] for r in p["runs"]),
        "spent_fen": p["spent_fen"],
        "budget_fen": budget,
        "spent": format_yuan(p["spent_fen"]),
        "budget": format_yuan(budget) if budget is not None else "",
        "spent_pct": _percent(p["spent_fen"], budget),
        "started_at": _local(p["started_at"]),
        "ends_at": _local(p["ends_at"]),
        "live": p["state"] in LIVE_STATES,
        "runs": runs,
        "updated": _local(clock.now(), "%H:%M:%S"),
    }


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_progress(request, campaign_id: int):
    campaign = _get(campaign_id)
    data = progress_data(campaign)
    context = _ctx(
        request,
        _("Progress: %(name)s") % {"name": campaign.name},
        campaign=campaign,
        state_style=STATE_STYLE.get(campaign.state, ""),
        progress=data,
        json_url=reverse("campaigns_progress_json", args=[campaign.pk]),
        **_action_context(request, campaign),
    )
    return TemplateResponse(request, "console/campaigns/progress.html", context)


@permission_required("campaigns.view_campaign", raise_exception=True)
def campaign_progress_json(request, campaign_id: int):
    return JsonResponse(progress_data(_get(campaign_id)), **JSON_PARAMS)


# --- member 360 -----------------------------------------------------------------------------------


@permission_required("campaigns.view_contact", raise_exception=True)
def member_history(request, member_id: int):
    """What a member got from campaigns (canonical name, plain terms, the exact text, outcome):
    a partial for the member page, or JSON with ``?format=json``. The object rule (SPEC 16) as on
    the member page: a group account's member is not found without members.see_group_members."""
    if not member_visible_queryset(request.user, include_inactive=True).filter(pk=member_id).exists():
        raise Http404(member_id)
    rows = selectors.member_campaign_history(member_id)
    if request.GET.get("format") == "json":
        items = [{**r, "at": r["at"].isoformat(), "at_local": _local(r["at"])} for r in rows]
        return JsonResponse({"member_id": member_id, "items": items}, **JSON_PARAMS)
    outcomes = {
        "contacted": _("contacted"),
        "suppressed": _("suppressed"),
        "control": _("control (not contacted)"),
    }
    items = [
        {**r, "at_local": _local(r["at"]), "outcome_label": outcomes.get(r["outcome"], r["outcome"])}
        for r in rows
    ]
    return TemplateResponse(request, "console/campaigns/_member_history.html", {"items": items})


# --- settings -------------------------------------------------------------------------------------


class SettingsForm(forms.Form):
    quiet_start = forms.TimeField(
        label=gettext_lazy("Quiet hours start (shop time)"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=gettext_lazy("Quiet hours end (shop time)"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    sms_per_day = forms.IntegerField(
        label=gettext_lazy("Marketing SMS per member per day"), min_value=0, max_value=100
    )
    sms_per_month = forms.IntegerField(
        label=gettext_lazy("Marketing SMS per member per 30 days"), min_value=0, max_value=1000
    )
    email_per_day = forms.IntegerField(
        label=gettext_lazy("Marketing emails per member per day"), min_value=0, max_value=100
    )
    email_per_month = forms.IntegerField(
        label=gettext_lazy("Marketing emails per member per 30 days"), min_value=0, max_value=1000
    )
    cool_off_hours = forms.IntegerField(
        label=gettext_lazy("No offers for this many hours after a purchase"), min_value=0, max_value=24 * 90
    )
    refund_suppress_days = forms.IntegerField(
        label=gettext_lazy("No marketing for this many days after a refund"), min_value=0, max_value=365
    )
    sms_price = forms.DecimalField(
        label=gettext_lazy("SMS price per segment (yuan)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        decimal_places=2,
    )
    email_price = forms.DecimalField(
        label=gettext_lazy("Email price (yuan)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        decimal_places=2,
    )


@permission_required("campaigns.view_campaignsettings", raise_exception=True)
def campaign_settings(request):
    current = services.campaign_settings()
    can_change = request.user.has_perm("campaigns.change_campaignsettings")
    money = ("sms_fen_per_segment", "email_fen")
    initial = {k: getattr(current, k) for k in services.SETTINGS_FIELDS if k not in money}
    initial.update(
        sms_price=Decimal(current.sms_fen_per_segment) / 100, email_price=Decimal(current.email_fen) / 100
    )
    form = SettingsForm(initial=initial)
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = SettingsForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["sms_fen_per_segment"] = int(data.pop("sms_price") * 100)
            data["email_fen"] = int(data.pop("email_price") * 100)
            try:
                services.campaign_settings_update(data=data, actor=request.user)
            except DomainError as exc:
                name = {"sms_fen_per_segment": "sms_price", "email_fen": "email_price"}.get(
                    exc.field, exc.field
                )
                form.add_error(name if name in form.fields else None, exc.message(request_lang(request)))
            else:
                messages.success(request, _("Marketing guards saved."))
                return redirect("campaigns_settings")
        status = 400
    if not can_change:
        for f in form.fields.values():
            f.disabled = True
    saved = not current._state.adding
    context = _ctx(
        request,
        _("Marketing guards"),
        form=form,
        can_change=can_change,
        updated=_local(current.updated_at) if saved else "",
    )
    return TemplateResponse(request, "console/campaigns/settings.html", context, status=status)
