"""`laoke export KIND [--param k=v …] [--format xlsx|csv] --output FILE`.

Runs the export in the foreground (the same job and audit rows as the console and the API), a
progress bar on stderr, the job as JSON on stdout; copies the file to ``--output``. Without
``--as USERNAME`` it acts as the operator (every list; personal data masked unless
``--unmasked``); with it, as that user (their permissions and PII right). Exit 0 done, 1 failed,
2 refused (the error as JSON on stderr).
"""

from __future__ import annotations

import json
import os
import shutil
import sys


def _params(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--param must be NAME=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def _bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    pct = 100 * done // total if total else 100
    end = "\n" if done >= total else ""
    print(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {pct}%",
        end=end,
        file=sys.stderr,
        flush=True,
    )


def cmd_export(args) -> int:
    from django.contrib.auth import get_user_model

    from laoke.core.errors import NOT_FOUND, DomainError

    from .exports import SYSTEM, export_job_create, export_job_run, job_as_dict

    actor = SYSTEM
    if args.as_user:
        actor = get_user_model().objects.filter(username=args.as_user, is_active=True).first()
        if actor is None:
            raise DomainError(NOT_FOUND, field="as")
    job = export_job_create(
        kind=args.kind,
        params=_params(args.param),
        format=args.format,
        actor=actor,
        unmasked=True if args.unmasked else (None if actor is not SYSTEM else False),
        enqueue=False,
    )
    job = export_job_run(job_id=job.job_id, progress=_bar)
    out = job_as_dict(job)
    if job.state == "done":
        shutil.copyfile(job.file_path, args.output)
        os.chmod(args.output, 0o600)  # personal data
        out["output"] = str(args.output)
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0 if job.state == "done" else 1


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export a list (segment members, contacts, orders, …) to xlsx or CSV")
    p.add_argument("kind", help="the list: segment_members, campaign_contacts, courier_list, direct_mail, …")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a selection parameter")
    p.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    p.add_argument("--output", required=True, help="where to write the file")
    p.add_argument("--as", dest="as_user", default="", help="act as this staff user (their permissions)")
    p.add_argument("--unmasked", action="store_true", help="show personal data in full")
    p.set_defaults(fn=cmd_export)
