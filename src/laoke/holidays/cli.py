"""`laoke gifts …` commands of holidays (thin adapters).

- ``laoke gifts create --year 2026 --high 168 --normal 88`` — the seed 000 mid-autumn campaign;
- ``laoke gifts budget CAMPAIGN_ID`` — the budget from the approved list, as JSON;
- ``laoke gifts export-couriers CAMPAIGN_ID --output FILE [--format xlsx|csv] [--late]`` — the
  courier list; refused (exit 2) after the courier deadline unless ``--late``;
- ``laoke gifts promotions --preset mid_autumn --year 2026 [--sku SKU …]`` — the seed 002 holiday
  promotions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _yuan_to_fen(text: str) -> int:
    from decimal import Decimal, InvalidOperation

    try:
        return int((Decimal(text) * 100).to_integral_value())
    except InvalidOperation as exc:
        raise SystemExit(f"not an amount in yuan: {text!r}") from exc


def cmd_create(args) -> int:
    from .services import gift_campaign_preset_create

    c = gift_campaign_preset_create(
        year=args.year,
        level_prices_fen={"high": _yuan_to_fen(args.high), "normal": _yuan_to_fen(args.normal)},
        name=args.name or "",
    )
    print(
        json.dumps(
            {"id": c.pk, "name": c.name, "courier_deadline": c.courier_deadline.isoformat()},
            ensure_ascii=False,
        )
    )
    return 0


def cmd_budget(args) -> int:
    from django.shortcuts import get_object_or_404

    from .models import GiftCampaign
    from .selectors import budget

    b = budget(get_object_or_404(GiftCampaign, pk=args.campaign_id))
    out = {
        "levels": {
            x.name: {"count": x.count, "unit_price_fen": x.unit_price_fen, "amount_fen": x.amount_fen}
            for x in b.lines
        },
        "cards": b.cards,
        "cards_fen": b.cards_fen,
        "total_fen": b.total_fen,
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


def cmd_export(args) -> int:
    from .services import gift_courier_export

    f = gift_courier_export(campaign_id=args.campaign_id, fmt=args.format, allow_late=args.late)
    Path(args.output).write_bytes(f.content)
    print(json.dumps({"rows": f.rows, "late": f.late, "output": args.output}, ensure_ascii=False))
    if f.late:
        print("warning: the courier deadline has passed; the file is marked late", file=sys.stderr)
    return 0


def cmd_promotions(args) -> int:
    from .holiday_promotions import holiday_promotions_apply

    out = holiday_promotions_apply(preset=args.preset, year=args.year, skus=args.sku or [])
    print(json.dumps(out))
    return 0


def add_parser(sub) -> None:
    g = sub.add_parser("gifts", help="holiday gift campaigns (seed 000) and holiday promotions (seed 002)")
    gs = g.add_subparsers(dest="gifts_command", required=True)
    c = gs.add_parser("create", help="create the mid-autumn gift campaign preset for a year")
    c.add_argument("--year", type=int, required=True)
    c.add_argument("--high", required=True, help="unit price of the 高档 gift in yuan")
    c.add_argument("--normal", required=True, help="unit price of the 普通 gift in yuan")
    c.add_argument("--name", default="")
    c.set_defaults(fn=cmd_create)
    b = gs.add_parser("budget", help="the budget computed from the approved list")
    b.add_argument("campaign_id", type=int)
    b.set_defaults(fn=cmd_budget)
    e = gs.add_parser("export-couriers", help="write the courier list (one row per approved recipient)")
    e.add_argument("campaign_id", type=int)
    e.add_argument("--output", required=True)
    e.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    e.add_argument("--late", action="store_true", help="export after the courier deadline (file marked late)")
    e.set_defaults(fn=cmd_export)
    p = gs.add_parser("promotions", help="apply a seed 002 holiday promotion preset")
    p.add_argument("--preset", choices=["mid_autumn", "national_day", "spring_festival"], required=True)
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--sku", action="append", help="an item marked down from the festival day (repeatable)")
    p.set_defaults(fn=cmd_promotions)
