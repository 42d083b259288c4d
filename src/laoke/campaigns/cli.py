"""`laoke campaign …` (thin over the services; every command prints JSON).

laoke campaign list [--state STATE]
laoke campaign dry-run ID            audience, control, waves, sample messages, cost
laoke campaign approve ID            (as the system user: the creator cannot approve their own)
laoke campaign launch ID [--at ISO]  schedule an approved campaign (now by default) and run a tick
laoke campaign pause ID [--reason R] / resume ID / cancel ID [--reason R]
laoke campaign status ID             progress of every wave run and its messages
laoke campaign tick                  launch, write and complete what is due now
laoke campaign presets               install the SPEC 9 preset campaigns as drafts
"""

from __future__ import annotations

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder


def _print(data) -> int:
    print(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))
    return 0


def cmd_list(args) -> int:
    from laoke.campaigns.selectors import campaign_list

    rows = (
        campaign_list(state=args.state).order_by("-pk").values("id", "name", "state", "starts_at", "ends_at")
    )
    return _print(list(rows))


def cmd_dry_run(args) -> int:
    from laoke.campaigns.selectors import campaign_dry_run, campaign_get

    return _print(campaign_dry_run(campaign_get(args.id)))


def cmd_approve(args) -> int:
    from laoke.campaigns.services import campaign_approve

    c = campaign_approve(campaign_id=args.id, actor=None)
    return _print({"id": c.pk, "state": c.state})


def cmd_launch(args) -> int:
    from laoke.campaigns.dispatch import campaigns_tick
    from laoke.campaigns.models import CampaignState
    from laoke.campaigns.selectors import campaign_get, campaign_progress
    from laoke.campaigns.services import campaign_schedule
    from laoke.core import clock

    campaign = campaign_get(args.id)
    if campaign.state == CampaignState.APPROVED:
        at = datetime.fromisoformat(args.at) if args.at else None
        campaign = campaign_schedule(campaign_id=args.id, starts_at=at)
    tick = campaigns_tick(clock.now())
    return _print({"tick": tick, **campaign_progress(campaign_get(args.id))})


def cmd_pause(args) -> int:
    from laoke.campaigns.services import campaign_pause

    c = campaign_pause(campaign_id=args.id, reason=args.reason or "")
    return _print({"id": c.pk, "state": c.state})


def cmd_resume(args) -> int:
    from laoke.campaigns.services import campaign_resume

    c = campaign_resume(campaign_id=args.id)
    return _print({"id": c.pk, "state": c.state})


def cmd_cancel(args) -> int:
    from laoke.campaigns.services import campaign_cancel

    c = campaign_cancel(campaign_id=args.id, reason=args.reason or "")
    return _print({"id": c.pk, "state": c.state})


def cmd_status(args) -> int:
    from laoke.campaigns.selectors import campaign_get, campaign_progress

    return _print(campaign_progress(campaign_get(args.id)))


def cmd_tick(args) -> int:
    from laoke.campaigns.dispatch import campaigns_tick
    from laoke.core import clock

    return _print(campaigns_tick(clock.now()))


def cmd_presets(args) -> int:
    from laoke.campaigns.presets import campaigns_presets_install

    return _print(campaigns_presets_install())


def add_parser(sub):
    """Register the `laoke campaign` commands; returns their subparsers so the apps above
    (analytics: ``report``, ``import-external``) can add theirs."""
    campaign = sub.add_parser("campaign", help="multi-wave re-marketing campaigns").add_subparsers(
        dest="campaign_command", required=True
    )
    p = campaign.add_parser("list", help="campaigns, newest first")
    p.add_argument("--state")
    p.set_defaults(fn=cmd_list)
    for name, fn, helptext in (
        ("dry-run", cmd_dry_run, "what launching would do: counts, samples, cost"),
        ("approve", cmd_approve, "approve a draft (as the system user)"),
        ("resume", cmd_resume, "resume a paused campaign"),
        ("status", cmd_status, "progress of every wave run"),
    ):
        p = campaign.add_parser(name, help=helptext)
        p.add_argument("id", type=int)
        p.set_defaults(fn=fn)
    p = campaign.add_parser("launch", help="schedule an approved campaign and run a tick")
    p.add_argument("id", type=int)
    p.add_argument("--at", help="start time (ISO 8601, default now)")
    p.set_defaults(fn=cmd_launch)
    for name, fn in (("pause", cmd_pause), ("cancel", cmd_cancel)):
        p = campaign.add_parser(name, help=f"{name} a campaign")
        p.add_argument("id", type=int)
        p.add_argument("--reason")
        p.set_defaults(fn=fn)
    campaign.add_parser("tick", help="launch, write and complete what is due now").set_defaults(fn=cmd_tick)
    campaign.add_parser("presets", help="install the preset campaigns as drafts").set_defaults(fn=cmd_presets)
    return campaign
