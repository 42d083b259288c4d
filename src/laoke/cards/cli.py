"""`laoke cards …`: issue a batch from the command line (thin over the services).

laoke cards issue --denomination 500 --count 100 [--store ID] [--kind normal] --output FILE.xlsx [--json]

Generates in this process (no worker needed), writes the one-time PIN file to FILE.xlsx (0600)
and prints the batch summary; the server keeps no copy of the PINs afterwards.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def cmd_cards_issue(args) -> int:
    from laoke.cards.services import card_batch_create, card_batch_download, card_batch_generate
    from laoke.core.errors import NOT_FOUND, DomainError
    from laoke.core.models import Store

    out = Path(args.output)
    if out.exists():
        print(json.dumps({"code": "OUTPUT_EXISTS", "message": f"{out} exists; not overwritten"}))
        return 2
    store = Store.objects.filter(pk=args.store).first() if args.store else None
    if args.store and store is None:
        raise DomainError(NOT_FOUND, field="store")
    batch = card_batch_create(
        face_value_fen=args.denomination * 100,
        count=args.count,
        kind=args.kind,
        store=store,
        buyer_company=args.buyer_company,
        purpose=args.purpose,
        background=False,  # generated right here, not by a worker
    )
    batch = card_batch_generate(batch_id=batch.pk)
    _, data = card_batch_download(batch_id=batch.pk)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    summary = {
        "batch_id": batch.pk,
        "code": batch.code,
        "kind": batch.kind,
        "face_value_fen": batch.face_value_fen,
        "count": batch.count,
        "state": "downloaded",
        "output": str(out),
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"batch {batch.code}: {batch.count} cards of {args.denomination}元 written to {out} (PINs: this file only)"
        )
    return 0


def add_parser(sub) -> None:
    cards = sub.add_parser("cards", help="prepaid cards").add_subparsers(dest="cards_command", required=True)
    issue = cards.add_parser("issue", help="issue a batch of cards and write its one-time PIN file")
    issue.add_argument(
        "--denomination", type=int, required=True, help="face value in yuan (100/200/500/1000/2000)"
    )
    issue.add_argument("--count", type=int, required=True)
    issue.add_argument("--store", type=int, default=None, help="store id")
    issue.add_argument("--kind", default="normal", choices=["normal", "experience", "gift", "welfare"])
    issue.add_argument("--buyer-company", default="")
    issue.add_argument("--purpose", default="")
    issue.add_argument("--output", required=True, help="the xlsx file to write (must not exist)")
    issue.add_argument("--json", action="store_true")
    issue.set_defaults(fn=cmd_cards_issue)
