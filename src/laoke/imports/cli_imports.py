"""`laoke import taobao|members|orders|products|coupons FILE …`.

Checks the file (the dry run), then imports it in this process with a progress bar on stderr and
prints the job as JSON on stdout (plan, result, the first problems by row and column).

    laoke import taobao ORDERS.csv [--items ITEMS.csv]    a Taobao/Tmall order report (+ item report)
    laoke import members|orders|products FILE [--mapping JSON|NAME]
    laoke import coupons FILE --template ID
    options: --dry-run  --mode all|valid  --award-points  --notify TEXT  --errors-xlsx PATH

Exit 0: imported (or checked, with --dry-run, without problems); 2: the file has problems and
nothing was imported (all or nothing) — the error report names row and column; 1: failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KINDS = ("taobao", "members", "orders", "products", "coupons")
QUIET_STAGES = {"reading", "checking", "checked"}  # one step each: no bar


def _mapping(text: str | None):
    if not text:
        return None
    text = text.strip()
    return json.loads(text) if text.startswith("{") else text


def cmd_import(args) -> int:
    from .cli_exports import _bar
    from .models import ImportJob
    from .selectors import error_report_xlsx, problem_rows
    from .services import import_file

    stages: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        if not stages or stages[-1] != stage:
            stages.append(stage)
            print(f"{stage}…", file=sys.stderr, flush=True)
        if stage not in QUIET_STAGES and total:
            _bar(done, total)

    options: dict = {}
    if args.award_points:
        options["award_points"] = True
    if args.notify:
        options["notify_text"] = args.notify
    if args.template is not None:
        options["template_id"] = args.template
    items = Path(args.items).read_bytes() if args.items else None
    job = import_file(
        kind=args.kind,
        data=Path(args.file).read_bytes(),
        file_name=Path(args.file).name,
        items=items,
        items_name=Path(args.items).name if args.items else "",
        mapping=_mapping(args.mapping),
        mode=args.mode,
        options=options,
        dry_run=args.dry_run,
        progress=progress,
    )
    if args.errors_xlsx and job.error_count:
        Path(args.errors_xlsx).write_bytes(error_report_xlsx(job, "zh-hans"))
    out = {
        "job_id": job.job_id,
        "state": job.state,
        "rows": job.total_rows,
        "problems": job.error_count,
        "plan": job.plan,
        "result": job.result,
        "first_problems": problem_rows(job, "en")[:20],
    }
    print(json.dumps(out, ensure_ascii=False, default=str))
    if job.state == ImportJob.State.DONE:
        return 0
    if job.state == ImportJob.State.CHECKED:
        return 2 if job.error_count and job.mode == ImportJob.Mode.ALL else 0
    return 1


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import", help="import a Taobao order report or a members/orders/products/coupons file"
    )
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", help="CSV (UTF-8, GBK or GB18030) or xlsx")
    p.add_argument("--items", help="taobao: the item report (宝贝报表) of the same orders")
    p.add_argument("--mapping", help="a JSON object {field: header} or the name of a saved mapping")
    p.add_argument(
        "--mode", choices=["all", "valid"], default="all", help="all or nothing (default), or the valid rows"
    )
    p.add_argument("--dry-run", action="store_true", help="check only: say what would happen, write nothing")
    p.add_argument("--award-points", action="store_true", help="earn points for the imported orders")
    p.add_argument("--notify", metavar="TEXT", help="send this SMS to the members the import registers")
    p.add_argument("--template", type=int, help="coupons: the coupon template the codes belong to")
    p.add_argument("--errors-xlsx", metavar="PATH", help="write the per-row error report here")
    p.set_defaults(fn=cmd_import)
