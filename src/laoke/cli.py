"""The ``laoke`` command: non-interactive, safe to run twice, thin over services.

laoke init                  migrate, sync roles, collect static files
laoke demo [--seed N]       load seeded demo data with the seed presets (once)
laoke createadmin           create the admin login if missing and print it
laoke serve                 gunicorn (console + API) and a Huey worker, supervised
laoke worker                a Huey worker only
laoke export-member ID      PIPL export of one member (JSON + xlsx)
laoke forget-member ID      PIPL deletion: anonymise one member, keep aggregates
laoke cards issue …         issue a batch of prepaid cards, PINs to a one-time xlsx
laoke manage ARGS…          any Django management command
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    import django

    django.setup()


def cmd_init(args) -> int:
    from django.core.management import call_command

    from laoke.core.services import roles_sync

    call_command("migrate", interactive=False, verbosity=0)
    counts = roles_sync()
    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"database ready; roles: {', '.join(f'{k}({v})' for k, v in counts.items())}")
    return 0


def cmd_demo(args) -> int:
    from laoke.demo import demo_load

    summary = demo_load(seed=args.seed, members=args.members)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    elif summary["loaded"]:
        print(
            f"demo data loaded (seed {summary['seed']}): {summary['members']} members, {summary['products']} products, "
            f"{summary['stores']} stores; demo staff logins for every role: {summary['staff_logins']}"
        )
    else:
        print("demo data already loaded")
    return 0


def _admin_password_file() -> Path:
    from django.conf import settings

    return settings.DATA_DIR / "initial_admin_password"


def cmd_createadmin(args) -> int:
    from laoke.core.services import admin_ensure

    user, password = admin_ensure(username=args.username, password=os.environ.get("LAOKE_ADMIN_PASSWORD"))
    path = _admin_password_file()
    if password is not None:
        path.write_text(password)
        path.chmod(0o600)
    elif path.exists() and user.check_password(path.read_text().strip()):
        password = path.read_text().strip()
    if password:
        print(f"admin login: http://127.0.0.1:8000/admin/  user: {user.username}  password: {password}")
    else:
        print(
            f"admin user {user.username} exists (its password was changed; reset with "
            f"`laoke manage changepassword {user.username}`)"
        )
    return 0


def cmd_worker(args) -> int:
    from django.core.management import call_command

    call_command("run_huey")
    return 0


def cmd_serve(args) -> int:
    bind = args.bind or os.environ.get("LAOKE_BIND", "127.0.0.1:8000")
    web = [
        sys.executable,
        "-m",
        "gunicorn",
        "laoke.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(args.workers),
        "--threads",
        "4",
        # No gunicorn access log: it would write raw URLs (mobiles in ?q=). The app logs each
        # request as a JSON line through the PII filter (laoke.request).
        "--graceful-timeout",
        "10",
        "--no-control-socket",  # gunicorn 27 would otherwise open ~/.gunicorn/gunicorn.ctl (global)
    ]
    worker = [sys.executable, "-m", "laoke.cli", "worker"]
    procs = [subprocess.Popen(web), subprocess.Popen(worker)]  # noqa: S603  (our own interpreter)
    print(
        f"Laoke serving on http://{bind}/ (console /admin/, API /api/v1/docs) with a Huey worker", flush=True
    )

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    finally:
        stop()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    return max((p.returncode or 0) for p in procs)


def cmd_export_member(args) -> int:
    from laoke.members.privacy import member_pi_export

    paths = member_pi_export(member_id=args.member_id, out_dir=Path(args.output))
    print(json.dumps({k: str(v) for k, v in paths.items()}, ensure_ascii=False))
    return 0


def cmd_forget_member(args) -> int:
    from laoke.members.models import Member
    from laoke.members.privacy import member_forget

    member = Member.objects.filter(pk=args.member_id).first()
    if member is None:
        print(json.dumps({"code": "NOT_FOUND", "member_id": args.member_id}), file=sys.stderr)
        return 2
    member_forget(member_id=member.pk, reason=args.reason)
    print(json.dumps({"member_id": member.pk, "anonymised": True}))
    return 0


def cmd_ledger_check(args) -> int:
    from laoke.ledger.services import ledger_check

    report = ledger_check()
    for account_id, cached, derived in report.mismatches:
        print(f"account {account_id}: cached {cached} != derived {derived}")
    print(report.summary())
    return 0 if report.ok else 1


def cmd_manage(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["laoke", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="laoke", description="Laoke (老客) membership and retention marketing")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="migrate, sync roles, collect static files").set_defaults(fn=cmd_init)
    d = sub.add_parser("demo", help="load seeded demo data (skipped if already loaded)")
    d.add_argument("--seed", type=int, default=20261111)
    d.add_argument("--members", type=int, default=2000)
    d.add_argument("--json", action="store_true", help="print the summary as JSON")
    d.set_defaults(fn=cmd_demo)
    c = sub.add_parser("createadmin", help="create the admin login if missing and print it")
    c.add_argument("--username", default="admin")
    c.set_defaults(fn=cmd_createadmin)
    s = sub.add_parser("serve", help="serve console + API with gunicorn and run a Huey worker")
    s.add_argument("--bind", default=None)
    s.add_argument("--workers", type=int, default=2)
    s.set_defaults(fn=cmd_serve)
    sub.add_parser("worker", help="run a Huey worker").set_defaults(fn=cmd_worker)
    e = sub.add_parser("export-member", help="PIPL export of one member (JSON + xlsx)")
    e.add_argument("member_id", type=int)
    e.add_argument("--output", default=".")
    e.set_defaults(fn=cmd_export_member)
    f = sub.add_parser("forget-member", help="PIPL deletion: anonymise one member")
    f.add_argument("member_id", type=int)
    f.add_argument("--reason", default="member request (PIPL art. 47)")
    f.set_defaults(fn=cmd_forget_member)
    ledger = sub.add_parser("ledger", help="the value ledger").add_subparsers(
        dest="ledger_command", required=True
    )
    ledger.add_parser("check", help="recompute every balance from the transfers").set_defaults(
        fn=cmd_ledger_check
    )
    from laoke.cards.cli import add_parser as cards_parser

    cards_parser(sub)
    m = sub.add_parser("manage", help="run a Django management command")
    m.add_argument("rest", nargs=argparse.REMAINDER)
    m.set_defaults(fn=cmd_manage)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup()
    from laoke.core import context
    from laoke.core.errors import DomainError

    with context.using(request_id=f"cli-{args.command}"):
        try:
            return args.fn(args)
        except DomainError as exc:
            print(json.dumps(exc.as_body("en"), ensure_ascii=False), file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
