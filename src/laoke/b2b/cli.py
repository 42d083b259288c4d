"""`laoke b2b tick` (flag overdue installments now) and `laoke b2b funnel [--xlsx FILE]` (the funnel
as JSON on stdout, or an xlsx file). Thin adapters over services and selectors."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date


def cmd_tick(args) -> int:
    from laoke.core import clock

    from .services import b2b_tick

    print(json.dumps(b2b_tick(clock.now()), ensure_ascii=False))
    return 0


def cmd_funnel(args) -> int:
    from . import selectors

    f = selectors.funnel(
        created_from=date.fromisoformat(args.created_from) if args.created_from else None,
        created_to=date.fromisoformat(args.created_to) if args.created_to else None,
    )
    if args.xlsx:
        with open(args.xlsx, "wb") as fh:
            fh.write(selectors.funnel_xlsx(f))
    print(json.dumps(asdict(f), ensure_ascii=False))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("b2b", help="B2B pipeline: overdue tick, funnel report")
    b2b_sub = p.add_subparsers(dest="b2b_command", required=True)
    t = b2b_sub.add_parser("tick", help="flag overdue installments and notify their owners")
    t.set_defaults(fn=cmd_tick)
    f = b2b_sub.add_parser("funnel", help="the funnel: count and amount by stage, conversion, reasons")
    f.add_argument("--from", dest="created_from", help="opportunities created on or after (YYYY-MM-DD)")
    f.add_argument("--to", dest="created_to", help="opportunities created on or before (YYYY-MM-DD)")
    f.add_argument("--xlsx", help="also write the funnel to this xlsx file")
    f.set_defaults(fn=cmd_funnel)
