"""Campaign dispatch: messages materialised per second, next to a baseline measured in the same run.

    .venv/bin/python -m bench.dispatch [--members 50000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.dispatch

Each database runs in a child process with production settings and a fresh data dir. Set-up (not
timed): ``--members`` active members with a mobile, SMS consent granted and statistics, bulk
inserted; a segment of all of them; an approved SMS campaign with a 10% control (no offer).
Figures:

- launch: ``campaigns_tick`` at the start — the segment snapshot, branch assignment, the seeded
  control draw and the wave runs (members per second);
- materialise: the next ticks writing the wave run in chunks of 2,000 — entrants, guards (caps,
  refunds), template contexts and rendering, the outbox rows (``_messages_enqueue_bulk``) and the
  per-member contacts (messages per second; goal ≥ 5,000/s);
- baseline: the same number of outbox rows with their final texts, written by ``bulk_create`` in
  chunks of 2,000 — the floor of what writing the messages costs at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from bench._common import fresh_database, machine, run_child, targets


def run_one(n: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from datetime import UTC, datetime

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.urls import reverse

    from laoke.campaigns.dispatch import campaigns_tick
    from laoke.campaigns.models import Contact
    from laoke.campaigns.services import campaign_approve, campaign_create, campaign_schedule
    from laoke.channels.services import message_template_create
    from laoke.core import clock
    from laoke.members.models import Consent, Member
    from laoke.messaging.models import Message
    from laoke.segments.services import segment_create
    from laoke.stats.models import MemberStats

    fresh_database()
    t0 = datetime(2026, 11, 12, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    with clock.frozen(t0):
        chunk = 5_000
        for start in range(0, n, chunk):
            with transaction.atomic():
                members = Member.objects.bulk_create(
                    [
                        Member(
                            code=f"B{i:09d}",
                            mobile=f"139{i:08d}",
                            name=f"会员{i}",
                            province="浙江",
                            registered_at=t0,
                            created_at=t0,
                            updated_at=t0,
                        )
                        for i in range(start, min(n, start + chunk))
                    ]
                )
                Consent.objects.bulk_create(
                    [
                        Consent(member=m, channel="sms", state="granted", changed_at=t0, source="bench")
                        for m in members
                    ]
                )
                MemberStats.objects.bulk_create([MemberStats(member=m, updated_at=t0) for m in members])
        User = get_user_model()
        a = User.objects.create_user("bench-a", password="x")
        b = User.objects.create_user("bench-b", password="x")
        sms = message_template_create(
            name="bench",
            channel="sms",
            kind="marketing",
            signature="老客商城",
            body="{name}您好，感谢惠顾！会员专享活动见{shop_link} 回T退订",
        )
        seg = segment_create(name="bench", rule={"field": "region.province", "op": "eq", "value": "浙江"})
        c = campaign_create(
            data={
                "name": "bench",
                "objective": "retention",
                "segment_id": seg.pk,
                "seed": 1,
                "waves": [{"name": "w", "template_id": sms.pk}],
            },
            actor=a,
        )
        campaign_approve(campaign_id=c.pk, actor=b)
        campaign_schedule(campaign_id=c.pk, starts_at=t0)
        reverse("channels_unsubscribe", args=["warm-up"])  # a worker builds its URL map once, not per wave
        s = time.perf_counter()
        campaigns_tick(t0, max_chunks=0)
        launch_s = time.perf_counter() - s
        s = time.perf_counter()
        while campaigns_tick(t0)["chunks"]:
            pass
        materialise_s = time.perf_counter() - s
        written = Message.objects.filter(purpose__startswith=f"campaign:{c.pk}:").count()
        assert written == Contact.objects.filter(outcome="contacted").count() > 0
        bodies = list(
            Message.objects.filter(purpose__startswith=f"campaign:{c.pk}:").values_list(
                "member_id", "body", "to_address"
            )
        )
        s = time.perf_counter()
        for start in range(0, len(bodies), 2_000):
            with transaction.atomic():
                Message.objects.bulk_create(
                    [
                        Message(
                            purpose="baseline",
                            member_id=m,
                            channel="sms",
                            kind="marketing",
                            to_address=to,
                            body=body,
                            not_before=t0,
                            created_at=t0,
                        )
                        for m, body, to in bodies[start : start + 2_000]
                    ]
                )
        baseline_s = time.perf_counter() - s
    return {
        "database": connection.vendor,
        "members": n,
        "messages": written,
        "launch_members_per_s": round(n / launch_s),
        "materialise_per_s": round(written / materialise_s),
        "baseline_per_s": round(written / baseline_s),
    }


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dispatch")
    p.add_argument("--members", type=int, default=50_000)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(run_one(args.members)))
        return 0
    print(f"# campaign dispatch — {machine()}")
    for name, extra in targets():
        r = run_child("bench.dispatch", ["--members", str(args.members)], database=name, extra_env=extra)
        if r is None:
            return 1
        print(f"\n## {name} ({r['members']:,} members, {r['messages']:,} messages, 10% control)")
        print(f"launch (snapshot, control draw, runs)   {r['launch_members_per_s']:>10,} members/s")
        print(f"materialise (guards, render, outbox)    {r['materialise_per_s']:>10,} messages/s")
        print(f"baseline bulk_create of the same rows   {r['baseline_per_s']:>10,} messages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
