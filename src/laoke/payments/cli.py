"""`laoke payments …` (thin adapters).

laoke payments tick [--json]            reconciliation now: ask the providers about unpaid purchases,
                                        close expired ones, retry unconfirmed refunds
laoke payments presets                  create the preset recharge packages (when none exist)
laoke payments fake [--port 8765]       run the local fake provider (keys in $LAOKE_DATA_DIR/payments-fake)
"""

from __future__ import annotations

import json


def cmd_tick(args) -> int:
    from laoke.core import clock
    from laoke.payments.services import payments_tick

    out = payments_tick(clock.now())
    if args.json:
        print(json.dumps(out))
    else:
        print(", ".join(f"{k} {v}" for k, v in out.items()))
    return 0


def cmd_presets(args) -> int:
    from laoke.payments.services import packages_ensure_presets

    for p in packages_ensure_presets():
        print(f"{p.pk}\t{p.name}\t{p.price_fen}\t{p.bonus_fen}\t{'on' if p.active else 'off'}")
    return 0


def cmd_fake(args) -> int:
    from django.conf import settings

    from laoke.payments.fake import ensure_demo_keys, main

    keys = ensure_demo_keys(settings.DATA_DIR)["LAOKE_PAYMENTS_FAKE_KEYS"]
    return main(["--port", str(args.port), "--keys", keys, "--retry-delays", args.retry_delays])


def add_parser(sub) -> None:
    pay = sub.add_parser("payments", help="online payments and recharge packages").add_subparsers(
        dest="payments_command", required=True
    )
    tick = pay.add_parser("tick", help="reconcile unpaid purchases and unconfirmed refunds now")
    tick.add_argument("--json", action="store_true")
    tick.set_defaults(fn=cmd_tick)
    presets = pay.add_parser("presets", help="create the preset recharge packages (when none exist)")
    presets.set_defaults(fn=cmd_presets)
    fake = pay.add_parser("fake", help="run the local fake payment provider (loopback only)")
    fake.add_argument("--port", type=int, default=8765)
    fake.add_argument("--retry-delays", default="2,10,30")
    fake.set_defaults(fn=cmd_fake)
