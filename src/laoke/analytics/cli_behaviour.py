"""`laoke analytics …` for traffic, cohorts and event forecasts (thin adapters; JSON on stdout).

laoke analytics import-pageviews FILE [--dry-run] [--skip-invalid] [--ref-source S]
    progress on stderr, the summary (with row/column errors) as JSON on stdout; exit 2 when rows
    are bad and nothing was imported
laoke analytics entries [--since DAY] [--until DAY] [--limit N]
laoke analytics paths [--depth N] [--limit N] [--since DAY] [--until DAY]
laoke analytics funnel --steps /a,/b,/c [--since DAY] [--until DAY]
laoke analytics cohorts [--months N] [--json]     the retention table (text unless --json)
laoke analytics intervals                          repurchase intervals
laoke analytics lifecycle [--period-days N]        stages, movement, activity bands
laoke analytics forecast --reachable N --income PCT --area PCT --brand PCT [--response PCT]
    [--household-size 3] --aov YUAN [--save NAME --date DAY]
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path


def _print(data) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str))


def _window(args) -> dict:
    from laoke.analytics.traffic import day_window

    return day_window(args.since, args.until)


def cmd_import(args) -> int:
    from laoke.analytics.traffic import pageviews_import
    from laoke.core import clock

    data = Path(args.file).read_bytes()

    def progress(done: int, total: int) -> None:
        print(
            f"\rimported {done}/{total} rows", end="" if done < total else "\n", file=sys.stderr, flush=True
        )

    result = pageviews_import(
        data=data,
        now=clock.now(),
        dry_run=args.dry_run,
        skip_invalid=args.skip_invalid,
        ref_source=args.ref_source,
        progress=progress,
    )
    _print(result.as_dict("en"))
    return 2 if result.invalid and not result.imported and not args.dry_run else 0


def cmd_entries(args) -> int:
    from laoke.analytics.traffic import entry_points

    _print(entry_points(**_window(args), limit=args.limit))
    return 0


def cmd_paths(args) -> int:
    from laoke.analytics.traffic import top_paths

    _print(top_paths(depth=args.depth, **_window(args), limit=args.limit))
    return 0


def cmd_funnel(args) -> int:
    from laoke.analytics.traffic import funnel, parse_steps

    _print(funnel(parse_steps(args.steps), **_window(args)))
    return 0


def cmd_cohorts(args) -> int:
    from laoke.analytics.cohorts import cohort_retention
    from laoke.core import clock

    data = cohort_retention(now=clock.now(), months=args.months)
    if args.json:
        _print(data)
        return 0
    width = max((len(r["active"]) for r in data["cohorts"]), default=0)
    print("cohort   size  " + " ".join(f"{'M' + str(k):>6}" for k in range(width)))
    for r in data["cohorts"]:
        cells = " ".join(f"{v * 100:5.1f}%" for v in r["retention"])
        print(f"{r['cohort']}  {r['size']:>5}  {cells}")
    return 0


def cmd_intervals(args) -> int:
    from laoke.analytics.cohorts import repurchase_intervals

    _print(repurchase_intervals())
    return 0


def cmd_lifecycle(args) -> int:
    from laoke.analytics.cohorts import activity_summary, lifecycle
    from laoke.core import clock

    now = clock.now()
    _print({**lifecycle(now=now, period_days=args.period_days), "activity": activity_summary(now=now)})
    return 0


def _bp(text: str, name: str) -> int:
    """A percentage ("1.1" or "1.1%") → basis points (at most two decimals)."""
    try:
        value = Decimal(text.strip().rstrip("%")) * 100
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value != value.to_integral_value():
        raise SystemExit(f"--{name}: give a percentage with at most two decimals, e.g. 1.25")
    return int(value)


def cmd_forecast(args) -> int:
    from laoke.analytics import forecast
    from laoke.core import clock
    from laoke.core.money import yuan_to_fen

    inputs = forecast.Inputs(
        reachable=args.reachable,
        income_share_bp=_bp(args.income, "income"),
        area_share_bp=_bp(args.area, "area"),
        brand_share_bp=_bp(args.brand, "brand"),
        response_bp=_bp(args.response, "response"),
        aov_fen=yuan_to_fen(args.aov),
        household_size_x100=int(Decimal(args.household_size) * 100),
    )
    forecast.validate(inputs)
    out: dict = {"scenarios": forecast.scenarios(inputs)}
    if args.save:
        f = forecast.forecast_create(
            name=args.save, event_date=args.date or clock.today(), inputs=inputs, now=clock.now()
        )
        out["id"] = f.pk
    _print(out)
    return 0


def _day(text: str) -> date:
    return date.fromisoformat(text)


def add_parser(sub) -> None:
    """Register this part's commands under `laoke analytics`."""

    def windowed(p):
        p.add_argument("--since", type=_day, help="first shop day (YYYY-MM-DD)")
        p.add_argument("--until", type=_day, help="last shop day, included")
        return p

    p = sub.add_parser("import-pageviews", help="import page views: CSV member_ref,session,ts,page,referrer")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.add_argument("--skip-invalid", action="store_true", help="import the good rows even if some are bad")
    p.add_argument("--ref-source", default="import", help="MemberRef source member_ref is looked up in")
    p.set_defaults(fn=cmd_import)
    p = windowed(sub.add_parser("entries", help="entry pages and their referrers (JSON)"))
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(fn=cmd_entries)
    p = windowed(sub.add_parser("paths", help="top first-N-page paths of sessions (JSON)"))
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(fn=cmd_paths)
    p = windowed(sub.add_parser("funnel", help="step funnel over page patterns (JSON)"))
    p.add_argument("--steps", required=True, help="pages in order, comma-separated; * is a wildcard")
    p.set_defaults(fn=cmd_funnel)
    p = sub.add_parser("cohorts", help="monthly cohort retention table")
    p.add_argument("--months", type=int, default=None, help="only the latest N cohorts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_cohorts)
    sub.add_parser("intervals", help="repurchase intervals (JSON)").set_defaults(fn=cmd_intervals)
    p = sub.add_parser("lifecycle", help="lifecycle stages, movement and activity (JSON)")
    p.add_argument("--period-days", type=int, default=30)
    p.set_defaults(fn=cmd_lifecycle)
    p = sub.add_parser("forecast", help="event forecast: visitors, households, orders, revenue (JSON)")
    p.add_argument("--reachable", type=int, required=True, help="reachable population")
    p.add_argument("--income", required=True, help="income share, percent")
    p.add_argument("--area", required=True, help="area share, percent")
    p.add_argument("--brand", required=True, help="brand share, percent")
    p.add_argument("--response", default="1.1", help="response rate, percent (preset 0.2–2; default 1.1)")
    p.add_argument("--household-size", default="3", help="people per household (default 3)")
    p.add_argument("--aov", required=True, help="average order value, yuan")
    p.add_argument("--save", metavar="NAME", help="save the forecast under this event name")
    p.add_argument("--date", type=_day, help="event day when saving (default today)")
    p.set_defaults(fn=cmd_forecast)
