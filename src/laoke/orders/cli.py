"""`laoke orders …` (thin over the services).

laoke orders rebuild-stats [--repair] [--member ID ...]   compare (and repair) member statistics
laoke orders tick                                         default COD reviews, completion
"""

from __future__ import annotations

import json


def cmd_rebuild(args) -> int:
    from laoke.orders.rebuild import stats_rebuild

    r = stats_rebuild(member_ids=args.member or None, repair=args.repair)
    print(
        json.dumps(
            {
                "members": r.members,
                "differing": len(r.differing),
                "repaired": r.repaired,
                "ids": r.differing[:50],
            }
        )
    )
    return 1 if r.differing and not args.repair else 0


def cmd_tick(args) -> int:
    from laoke.core import clock
    from laoke.orders.services import orders_tick

    r = orders_tick(clock.now())
    print(json.dumps({"default_reviews": r.default_reviews, "completed": r.completed}))
    return 0


def add_parser(sub) -> None:
    orders = sub.add_parser("orders", help="orders and settlement").add_subparsers(
        dest="orders_command", required=True
    )
    r = orders.add_parser(
        "rebuild-stats",
        help="recompute member statistics from orders; exit 1 if they differ (without --repair)",
    )
    r.add_argument("--repair", action="store_true", help="rewrite the figures that differ")
    r.add_argument("--member", type=int, action="append", help="only this member (repeatable)")
    r.set_defaults(fn=cmd_rebuild)
    t = orders.add_parser("tick", help="run the orders tick now (COD default reviews, completion)")
    t.set_defaults(fn=cmd_tick)
