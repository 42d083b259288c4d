"""`laoke lottery …` (thin adapters over events services and selectors).

laoke lottery commit ID                         freeze entrants, publish sha256(seed)
laoke lottery draw ID                           reveal the seed, record and award the winners
laoke lottery export-entrants ID FILE           the entrant list (.json with the commitment, or .csv)
laoke lottery verify ID [--seed S] [--entrants FILE]
                                                re-run the draw; exit 0 "verified", 1 not
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _lottery(args):
    from .selectors import lottery_get

    return lottery_get(args.id)


def _summary(lot) -> dict:
    from .selectors import public_seed, winners_of

    return {
        "id": lot.pk,
        "name": lot.name,
        "state": lot.state,
        "entrants": lot.entrant_count,
        "seed_hash": lot.seed_hash,
        "entrants_digest": lot.entrants_digest,
        "prizes_digest": lot.prizes_digest,
        "seed": public_seed(lot) or None,
        "winners": [
            {"slot": w.slot, "ticket": w.entry.ticket, "tier": w.prize.tier, "prize": w.prize.name}
            for w in winners_of(lot)
        ],
    }


def cmd_commit(args) -> int:
    from .services import lottery_commit

    lot = lottery_commit(lottery_id=_lottery(args).pk)
    print(json.dumps(_summary(lot), ensure_ascii=False))
    return 0


def cmd_draw(args) -> int:
    from .services import lottery_draw

    lot = lottery_draw(lottery_id=_lottery(args).pk)
    print(json.dumps(_summary(lot), ensure_ascii=False))
    return 0


def cmd_export(args) -> int:
    from .selectors import lottery_export_csv, lottery_export_json

    lot = _lottery(args)
    path = Path(args.file)
    text = lottery_export_csv(lot) if path.suffix.lower() == ".csv" else lottery_export_json(lot)
    path.write_text(text, encoding="utf-8")
    print(
        json.dumps({"lottery": lot.pk, "entrants": lot.entrant_count, "file": str(path)}, ensure_ascii=False)
    )
    return 0


def cmd_verify(args) -> int:
    from .selectors import lottery_verify, parse_entrants_file

    lot = _lottery(args)
    tickets = None
    if args.entrants:
        tickets, _doc = parse_entrants_file(Path(args.entrants).read_text(encoding="utf-8"))
    check = lottery_verify(lot, seed=args.seed, tickets=tickets)
    v = check.verification
    print(
        json.dumps(
            {
                "lottery": lot.pk,
                "entrants_from": args.entrants or "database",
                "seed": check.seed,
                "commitment_ok": v.commitment_ok,
                "entrants_ok": v.entrants_ok,
                "prizes_ok": v.prizes_ok,
                "winners_ok": v.winners_ok,
                "problems": v.problems,
                "winners": check.winners,
            },
            ensure_ascii=False,
        )
    )
    print("verified" if v.ok else "NOT verified", file=sys.stdout)
    return 0 if v.ok else 1


def add_parser(sub) -> None:
    p = sub.add_parser("lottery", help="commit, draw, export and verify a lottery (auditable draw)")
    s = p.add_subparsers(dest="lottery_command", required=True)
    c = s.add_parser("commit", help="freeze the entrant list and publish sha256(seed)")
    c.add_argument("id", type=int)
    c.set_defaults(fn=cmd_commit)
    d = s.add_parser("draw", help="reveal the seed and record the winners (idempotent)")
    d.add_argument("id", type=int)
    d.set_defaults(fn=cmd_draw)
    e = s.add_parser("export-entrants", help="write the entrant list (.json with the commitment, or .csv)")
    e.add_argument("id", type=int)
    e.add_argument("file")
    e.set_defaults(fn=cmd_export)
    v = s.add_parser("verify", help="re-run the draw from the seed and the entrant list")
    v.add_argument("id", type=int)
    v.add_argument("--seed", default=None, help="the seed (default: the revealed one)")
    v.add_argument("--entrants", default=None, help="an exported entrant list (.json or .csv)")
    v.set_defaults(fn=cmd_verify)
