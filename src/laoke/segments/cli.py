"""`laoke segment …` (thin over the services and selectors); every command prints JSON.

laoke segment list [--archived]          segments with their kind and rule
laoke segment count ID | --rule JSON     members the segment (or an ad-hoc rule) selects now
laoke segment snapshot ID [--key KEY]    freeze the segment's members now (idempotent by key)
laoke segment presets                    install the SPEC 8 presets (idempotent)
"""

from __future__ import annotations

import json
import sys


def cmd_list(args) -> int:
    from laoke.segments.selectors import segment_list

    rows = [
        {
            "id": s.pk,
            "name": s.name,
            "kind": s.kind,
            "preset": s.preset,
            "archived": s.archived,
            "rule": s.rule,
        }
        for s in segment_list(archived=True if args.archived else False).order_by("pk")
    ]
    print(json.dumps(rows, ensure_ascii=False))
    return 0


def cmd_count(args) -> int:
    from laoke.core import clock
    from laoke.segments.selectors import segment_count, segment_get

    if (args.segment_id is None) == (args.rule is None):
        print("give a segment ID or --rule JSON (not both)", file=sys.stderr)
        return 2
    if args.rule is not None:
        try:
            rule = json.loads(args.rule)
        except json.JSONDecodeError as exc:
            print(f"--rule is not JSON: {exc}", file=sys.stderr)
            return 2
        out = {"rule": rule}
    else:
        seg = segment_get(args.segment_id)
        rule = seg.rule
        out = {"segment_id": seg.pk, "name": seg.name}
    now = clock.now()
    out.update(count=segment_count(rule, now=now), at=now.isoformat())
    print(json.dumps(out, ensure_ascii=False))
    return 0


def cmd_snapshot(args) -> int:
    from laoke.core import clock
    from laoke.segments.services import segment_snapshot_take

    snap = segment_snapshot_take(segment_id=args.segment_id, now=clock.now(), key=args.key)
    print(
        json.dumps(
            {
                "snapshot_id": snap.pk,
                "segment_id": snap.segment_id,
                "key": snap.key,
                "job_id": snap.job_id,
                "state": snap.state,
                "member_count": snap.member_count,
                "evaluated_at": snap.evaluated_at.isoformat(),
            },
            ensure_ascii=False,
        )
    )
    return 0


def cmd_presets(args) -> int:
    from laoke.segments.presets import segments_presets_install

    print(json.dumps(segments_presets_install(), ensure_ascii=False))
    return 0


def add_parser(sub) -> None:
    """Register the `laoke segment` commands."""
    seg = sub.add_parser("segment", help="customer segments (客户分群)").add_subparsers(
        dest="segment_command", required=True
    )
    ls = seg.add_parser("list", help="list segments as JSON")
    ls.add_argument("--archived", action="store_true", help="the archived ones instead")
    ls.set_defaults(fn=cmd_list)
    c = seg.add_parser("count", help="count the members of a segment or of an ad-hoc rule")
    c.add_argument("segment_id", type=int, nargs="?")
    c.add_argument(
        "--rule", help='a rule as JSON, e.g. {"all": [{"field": "orders.count", "op": "gte", "value": 2}]}'
    )
    c.set_defaults(fn=cmd_count)
    s = seg.add_parser("snapshot", help="freeze a segment's members now")
    s.add_argument("segment_id", type=int)
    s.add_argument("--key", help="idempotency key (the same key returns the same snapshot)")
    s.set_defaults(fn=cmd_snapshot)
    seg.add_parser("presets", help="install the SPEC 8 presets").set_defaults(fn=cmd_presets)
