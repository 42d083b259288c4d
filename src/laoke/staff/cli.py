"""`laoke staff tick` and `laoke staff assessment --month YYYY-MM --output FILE` (thin adapters)."""

from __future__ import annotations

import json


def cmd_tick(args) -> int:
    from laoke.core import clock

    from .services import staff_tick

    print(json.dumps(staff_tick(clock.now()), ensure_ascii=False))
    return 0


def cmd_assessment(args) -> int:
    """Every rep's month as xlsx (as the operator: all reps; ``--as``: that user's reps), a summary
    line on stdout."""
    from django.contrib.auth import get_user_model

    from laoke.core.errors import NOT_FOUND, DomainError

    from . import selectors

    month = selectors.parse_month(args.month)
    User = get_user_model()
    actor = None  # the operator: every sales user
    if args.as_user:
        actor = User.objects.filter(username=args.as_user, is_active=True).first()
        if actor is None:
            raise DomainError(NOT_FOUND, field="as")
    rows = selectors.assessments_for(actor, month)
    with open(args.output, "wb") as fh:
        fh.write(selectors.assessment_xlsx(rows, month))
    mean = sum(r["overall_pct"] for r in rows) / len(rows) if rows else 0.0
    print(
        json.dumps(
            {"month": month.strftime("%Y-%m"), "reps": len(rows), "mean_completion_pct": round(mean, 1)}
        )
    )
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("staff", help="sales reps' plans, work logs and monthly assessment")
    s = p.add_subparsers(dest="staff_command", required=True)
    t = s.add_parser("tick", help="plan suggestions from due cadences and follow-ups; overdue count")
    t.set_defaults(fn=cmd_tick)
    a = s.add_parser("assessment", help="the monthly assessment of every rep as xlsx")
    a.add_argument("--month", required=True, help="YYYY-MM")
    a.add_argument("--output", required=True, help="the xlsx file to write")
    a.add_argument("--as", dest="as_user", default="", help="as this user (their reps only)")
    a.set_defaults(fn=cmd_assessment)
