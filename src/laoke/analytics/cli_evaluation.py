"""`laoke campaign report ID` and `laoke campaign import-external …` (thin over the services).

laoke campaign report ID [--format json|xlsx|html] [--output FILE]
    json (default) prints only the report's JSON; xlsx/html write FILE (default
    campaign-ID-report.xlsx / .html) and print its path.
laoke campaign import-external --name NAME --contacts FILE --orders FILE [--window-days N] [--cost YUAN]
    contacts CSV member_ref,arm,contacted_at (arm "control" = holdout); orders CSV
    member_ref,ordered_at,amount (yuan). Prints JSON with the campaign id; on bad rows prints the
    errors (file, row, column) as JSON on stderr and exits 2 with nothing imported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder


def _json(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


def cmd_report(args) -> int:
    from laoke.campaigns.selectors import campaign_get

    from .evaluation import campaign_report
    from .report_export import report_html, report_xlsx

    report = campaign_report(campaign_get(args.id))
    if args.format == "json":
        print(_json(report))
        return 0
    path = Path(args.output or f"campaign-{args.id}-report.{args.format}")
    if args.format == "xlsx":
        path.write_bytes(report_xlsx(report))
    else:
        path.write_text(report_html(report), encoding="utf-8")
    print(path)
    return 0


def cmd_import_external(args) -> int:
    from laoke.core.errors import DomainError

    from .external import external_campaign_import, parse_yuan

    cost = parse_yuan(args.cost) if args.cost else 0
    if cost is None:
        print(
            _json({"code": "FIELD_INVALID", "message": "--cost must be an amount in yuan"}), file=sys.stderr
        )
        return 2
    try:
        with open(args.contacts, "rb") as contacts, open(args.orders, "rb") as orders:
            summary = external_campaign_import(
                name=args.name,
                contacts=contacts,
                orders=orders,
                window_days=args.window_days,
                cost_fen=cost,
                contacts_name=Path(args.contacts).name,
                orders_name=Path(args.orders).name,
            )
    except DomainError as err:  # RowErrors included: every bad row with its file, row and column
        print(_json(err.as_body("en")), file=sys.stderr)
        return 2
    print(_json(summary))
    return 0


def add_parser(campaign) -> None:
    """Add `report` and `import-external` to the `laoke campaign` subcommands."""
    p = campaign.add_parser("report", help="evaluation against the control (json, xlsx or html)")
    p.add_argument("id", type=int)
    p.add_argument("--format", choices=("json", "xlsx", "html"), default="json")
    p.add_argument("--output", help="file for xlsx/html (default campaign-ID-report.FORMAT)")
    p.set_defaults(fn=cmd_report)
    p = campaign.add_parser("import-external", help="import an externally run campaign to evaluate it")
    p.add_argument("--name", required=True)
    p.add_argument("--contacts", required=True, help="CSV member_ref,arm,contacted_at")
    p.add_argument("--orders", required=True, help="CSV member_ref,ordered_at,amount (yuan)")
    p.add_argument("--window-days", type=int, default=30, help="evaluation window after each contact")
    p.add_argument("--cost", help="what the campaign cost, yuan (for ROI)")
    p.set_defaults(fn=cmd_import_external)
