"""`laoke shipping …` (thin over the services; hooked into laoke.cli like cards' parser).

laoke shipping install-preset [--preset seed_001] [--remote-reading minus|flat] [--inactive]
laoke shipping quote --subtotal 150.00 --courier sf (--address TEXT | --province 新疆 | --country US)
                     [--member-kind old|new|non_member] [--card] [--prefer-gift] [--lang en]
"""

from __future__ import annotations

import json


def cmd_install(args) -> int:
    from laoke.shipping.services import shipping_presets_install

    rs = shipping_presets_install(
        preset=args.preset, remote_reading=args.remote_reading, activate=not args.inactive
    )
    print(json.dumps({"rule_set_id": rs.pk, "code": rs.code, "is_active": rs.is_active}, ensure_ascii=False))
    return 0


def cmd_quote(args) -> int:
    from laoke.core.money import yuan_to_fen
    from laoke.shipping.quote import shipping_quote

    q = shipping_quote(
        subtotal_fen=yuan_to_fen(args.subtotal),
        courier=args.courier,
        member_kind=args.member_kind,
        tier_free_shipping=False,
        address=args.address,
        province=args.province,
        country=args.country,
        free_shipping_card=args.card,
        prefer_gift=args.prefer_gift,
    )
    out = {
        "postage_fen": q.postage_fen,
        "charged_fen": q.charged_fen,
        "rule_code": q.rule_code,
        "region_group": q.region_group,
        "province": q.province,
        "explanation": q.explain(args.lang),
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


def add_parser(sub) -> None:
    shipping = sub.add_parser("shipping", help="shipping rules (包邮)").add_subparsers(
        dest="shipping_command", required=True
    )
    i = shipping.add_parser("install-preset", help="install a preset rule set (idempotent by code)")
    i.add_argument("--preset", default="seed_001")
    i.add_argument("--remote-reading", default="minus", choices=["minus", "flat"])
    i.add_argument("--inactive", action="store_true", help="do not make it the active rule set")
    i.set_defaults(fn=cmd_install)
    q = shipping.add_parser("quote", help="what an order pays for shipping, and why")
    q.add_argument("--subtotal", required=True, help="order amount in yuan, e.g. 150.00")
    q.add_argument("--courier", default="normal", choices=["normal", "sf", "ems"])
    q.add_argument("--member-kind", default="non_member", choices=["old", "new", "non_member"])
    q.add_argument("--address")
    q.add_argument("--province")
    q.add_argument("--country", default="CN")
    q.add_argument("--card", action="store_true", help="a free-shipping card (包邮卡) is used")
    q.add_argument("--prefer-gift", action="store_true", help="the customer takes the gift instead")
    q.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])
    q.set_defaults(fn=cmd_quote)
