"""`laoke service tick|presets` (thin adapters).

laoke service tick [--now ISO]   reviews into the case list, overdue cases up the chain,
                                 today's greetings, reactivation rules (prints JSON)
laoke service presets            install the seed presets (care content, call cases,
                                 greetings, reactivation rules waiting for approval)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime


def _now(text: str | None) -> datetime:
    from laoke.core import clock

    if not text:
        return clock.now()
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def cmd_tick(args) -> int:
    from .greetings import greetings_tick
    from .reactivation import reactivation_tick
    from .services import service_tick

    now = _now(args.now)
    out = {
        "service": service_tick(now),
        "greetings": greetings_tick(now),
        "reactivation": reactivation_tick(now),
    }
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


def cmd_presets(args) -> int:
    from .presets import service_presets_install

    print(json.dumps(service_presets_install(), ensure_ascii=False))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("service", help="service desk: tick, presets")
    ps = p.add_subparsers(dest="service_cmd", required=True)
    t = ps.add_parser("tick", help="reviews in, escalations, greetings, reactivation")
    t.add_argument("--now", help="the instant to run at (ISO 8601; default: now)")
    t.set_defaults(fn=cmd_tick)
    ps.add_parser("presets", help="install the seed presets").set_defaults(fn=cmd_presets)
