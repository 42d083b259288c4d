"""`laoke channel …` (thin over the services).

laoke channel templates [--channel sms] [--json]          list message templates
laoke channel preview TEMPLATE_ID [--member ID] [--json]  render one (a member's data or samples)
laoke channel mail-export (--purpose-prefix P | --task-ids 1,2) --output FILE.xlsx
laoke channel email-test --to ADDRESS                      send one test mail through LAOKE["EMAIL"]
laoke channel tasks-tick                                   cancel/scrub tasks of anonymised members
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def cmd_templates(args) -> int:
    from laoke.channels.selectors import template_list

    rows = [
        {"id": t.pk, "name": t.name, "channel": t.channel, "kind": t.kind, "active": t.is_active}
        for t in template_list(channel=args.channel or None).order_by("pk")
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            print(
                f"{r['id']:>5}  {r['channel']:<8} {r['kind']:<14} {'' if r['active'] else '(inactive) '}{r['name']}"
            )
    return 0


def cmd_preview(args) -> int:
    from laoke.channels.models import MessageTemplate
    from laoke.channels.selectors import sample_context, template_context
    from laoke.channels.templating import render
    from laoke.core.errors import NOT_FOUND, DomainError
    from laoke.members.models import Member

    template = MessageTemplate.objects.filter(pk=args.template_id).first()
    if template is None:
        raise DomainError(NOT_FOUND, field="template_id")
    if args.member:
        member = Member.objects.filter(pk=args.member).first()
        if member is None:
            raise DomainError(NOT_FOUND, field="member")
        context = template_context(member, channel=template.channel)
    else:
        context = sample_context()
    out = render(template, context)
    data = {
        "subject": out.subject,
        "body": out.body,
        "chars": len(out.body),
        "segments": out.segments,
        "cost_fen": out.cost_fen,
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        if out.subject:
            print(f"subject: {out.subject}")
        print(out.body)
        print(f"-- {len(out.body)} characters, {out.segments} segment(s), {out.cost_fen} fen")
    return 0


def cmd_mail_export(args) -> int:
    from laoke.channels.exports import mail_export

    out = Path(args.output)
    if out.exists():
        print(json.dumps({"code": "OUTPUT_EXISTS", "message": f"{out} exists; not overwritten"}))
        return 2
    ids = [int(x) for x in (args.task_ids or "").split(",") if x.strip()]
    data = mail_export(purpose_prefix=args.purpose_prefix, task_ids=ids or None)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # names and addresses: owner only
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    print(f"direct-mail list written to {out}")
    return 0


def cmd_email_test(args) -> int:
    from types import SimpleNamespace

    from laoke.channels.email_provider import SmtpEmailProvider
    from laoke.core import clock
    from laoke.messaging.providers import PermanentSendError, TransientSendError

    now = clock.now()
    message = SimpleNamespace(
        pk=0,
        created_at=now,
        purpose="email-test",
        kind="transactional",
        member_id=0,
        to_address=args.to,
        subject="Laoke SMTP test",
        body=f"This is a test message sent at {now.isoformat()}.",
        html_body="",
    )
    try:
        result = SmtpEmailProvider().send(message)
    except (TransientSendError, PermanentSendError) as exc:
        print(json.dumps({"code": "SMTP_FAILED", "message": str(exc)}, ensure_ascii=False))
        return 1
    print(f"accepted by the SMTP server: {result.provider_message_id}")
    return 0


def cmd_tasks_tick(args) -> int:
    from laoke.channels.services import staff_tasks_privacy_tick
    from laoke.core import clock

    print(f"{staff_tasks_privacy_tick(clock.now())} task(s) scrubbed")
    return 0


def cmd_fake_sms(args) -> int:
    from laoke.channels.fake_sms import main as fake_main

    argv = ["--host", args.host, "--port", str(args.port), "--store", args.store]
    return fake_main(argv + (["--config", args.config] if args.config else []))


def cmd_pull_receipts(args) -> int:
    from laoke.core import clock
    from laoke.messaging.services import messaging_receipts_pull_tick

    print(json.dumps(messaging_receipts_pull_tick(clock.now())))
    return 0


def add_parser(sub) -> None:
    """Register the `laoke channel` commands."""
    channel = sub.add_parser("channel", help="message templates, staff tasks, email").add_subparsers(
        dest="channel_command", required=True
    )
    t = channel.add_parser("templates", help="list message templates")
    t.add_argument("--channel", default="")
    t.add_argument("--json", action="store_true")
    t.set_defaults(fn=cmd_templates)
    p = channel.add_parser("preview", help="render a template with a member's data or sample data")
    p.add_argument("template_id", type=int)
    p.add_argument("--member", type=int, default=None, help="member id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_preview)
    e = channel.add_parser("mail-export", help="write a direct-mail list (xlsx) of staff tasks of kind mail")
    e.add_argument("--purpose-prefix", default="")
    e.add_argument("--task-ids", default="", help="comma-separated task ids")
    e.add_argument("--output", required=True, help="the xlsx file to write (must not exist)")
    e.set_defaults(fn=cmd_mail_export)
    m = channel.add_parser("email-test", help="send one test message through the SMTP settings")
    m.add_argument("--to", required=True)
    m.set_defaults(fn=cmd_email_test)
    channel.add_parser("tasks-tick", help="cancel and scrub staff tasks of anonymised members").set_defaults(
        fn=cmd_tasks_tick
    )
    f = channel.add_parser(
        "fake-sms", help="run the local fake SMS provider (Aliyun/Tencent/gateway APIs) for demos and tests"
    )
    f.add_argument("--host", default="127.0.0.1")
    f.add_argument("--port", type=int, default=9099)
    f.add_argument("--store", default="fake-sms.sqlite3", help="SQLite file of what it received")
    f.add_argument("--config", default="", help="JSON file of its keys, injected failures and delay")
    f.set_defaults(fn=cmd_fake_sms)
    channel.add_parser(
        "pull-receipts", help="pull delivery receipts from providers that list them"
    ).set_defaults(fn=cmd_pull_receipts)
