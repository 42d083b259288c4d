"""`laoke analytics rules|roles` (thin over the basket and product-role selectors and services).

laoke analytics rules [--transactions FILE] [--min-support 0.01] [--min-lift 1] [--level product]
                      [--since DATE] [--until DATE] [--top 20] [--json]
    association rules over a UCI Online Retail CSV (``--transactions``, plain or .gz: UK invoices,
    cancellations and non-positive quantities/prices removed) or else over the shop's orders;
    prints the counts and the top rules (``--json``: one JSON object).
laoke analytics roles [--compute] [--json]
    the stored product roles (``--compute`` recomputes them first; rows set by hand are kept).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date


def _rules_from_file(args) -> dict:
    from .association import Baskets, association_rules, frequent_itemsets, read_online_retail

    started = time.perf_counter()
    invoices, codes = read_online_retail(args.transactions)
    read_s = time.perf_counter() - started
    baskets = Baskets.from_pairs(invoices, codes)
    itemsets = frequent_itemsets(baskets, min_support=args.min_support)
    rules = [
        r
        for r in association_rules(itemsets, metric="lift", min_threshold=args.min_lift)
        if r.confidence >= args.min_confidence
    ]
    return {
        "source": str(args.transactions),
        "min_support": args.min_support,
        "min_lift": args.min_lift,
        "baskets": baskets.n,
        "items": len(baskets.labels),
        "itemsets": len(itemsets),
        "rule_count": len(rules),
        "read_seconds": round(read_s, 3),
        "seconds": round(time.perf_counter() - started - read_s, 3),
        "rules": [r.as_dict() for r in rules[: args.top]],
    }


def _rules_from_shop(args) -> dict:
    from laoke.core import clock

    from .baskets import check_rule_params, period, shop_rules

    check_rule_params(
        min_support=args.min_support,
        min_lift=args.min_lift,
        level=args.level,
        min_confidence=args.min_confidence,
    )
    start, end = period(args.since, args.until, now=clock.now())
    out = shop_rules(
        start=start,
        end=end,
        level=args.level,
        min_support=args.min_support,
        min_lift=args.min_lift,
        min_confidence=args.min_confidence,
        limit=args.top,
    )
    out.update(source="shop", start=start.isoformat(), end=end.isoformat())
    return out


def cmd_rules(args) -> int:
    if args.transactions:
        if not 0 < args.min_support <= 1:
            print("--min-support must be in (0, 1]", file=sys.stderr)
            return 2
        out = _rules_from_file(args)
    else:
        out = _rules_from_shop(args)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, default=str))
        return 0
    print(
        f"{out['baskets']} baskets × {out['items']} items; min_support {out['min_support']}: "
        f"{out['itemsets']} frequent itemsets, {out['rule_count']} rules with lift ≥ {out['min_lift']}"
    )
    for r in out["rules"]:
        print(
            f"  {{{', '.join(map(str, r['antecedent']))}}} → {{{', '.join(map(str, r['consequent']))}}}  "
            f"support {r['support']:.4f}  confidence {r['confidence']:.3f}  lift {r['lift']:.2f}"
        )
    return 0


def cmd_roles(args) -> int:
    from laoke.core import clock

    from .product_roles import product_roles_compute, product_roles_list

    summary = product_roles_compute(now=clock.now()) if args.compute else None
    rows = product_roles_list()
    if args.json:
        print(json.dumps({"computed": summary, "items": rows}, ensure_ascii=False, default=str))
        return 0
    if summary is not None:
        print("computed: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    for r in rows:
        cap = f"  cap {r['discount_cap_bp']} bp" if r["discount_cap_bp"] is not None else ""
        hand = "  (set by hand)" if r["manual"] else ""
        print(f"{r['kind']:7} {r['code']:20} {r['role']:9}{cap}{hand}  {r['title']}")
    return 0


def add_parser(sub) -> None:
    """Register `laoke analytics rules` and `laoke analytics roles`."""
    r = sub.add_parser("rules", help="association rules for cross-selling (shop orders or a UCI CSV)")
    r.add_argument(
        "--transactions", help="UCI Online Retail CSV (.csv or .csv.gz) instead of the shop's orders"
    )
    r.add_argument("--min-support", type=float, default=0.01)
    r.add_argument("--min-lift", type=float, default=1.0)
    r.add_argument("--min-confidence", type=float, default=0.0)
    r.add_argument("--level", default="product", help="product | category (shop orders)")
    r.add_argument("--since", type=date.fromisoformat, help="first day (shop time), default 90 days ago")
    r.add_argument("--until", type=date.fromisoformat, help="last day (shop time), default today")
    r.add_argument("--top", type=int, default=20, help="rules to print")
    r.add_argument("--json", action="store_true")
    r.set_defaults(fn=cmd_rules)
    s = sub.add_parser("roles", help="product roles (traffic, profit, marginal, potential)")
    s.add_argument("--compute", action="store_true", help="recompute first (rows set by hand are kept)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_roles)
