"""Selectors over the shop's baskets (SPEC 11 回购人群订单分析 / 关联销售): what a set of members
bought, and association rules over the shop's orders for cross-selling.

Which orders count is decided as in the campaign attribution (``laoke.campaigns.attribution``):
orders paid in ``[start, end)`` whose status is paid, shipped, delivered, completed or partially
refunded (not created, cancelled or wholly refunded). Refunds are netted per line: a line counts
``quantity − refunded_quantity`` units and ``net_fen`` less its refund lines' ``net_fen``; a line
wholly refunded leaves the basket. Money stays in fen here and is shown in yuan in the output.

Items: at product level a line's SKU (the product's, copied on the line; lines without a product
keep their SKU), at category level the code of the line's category (lines without a category are
left out at that level).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Sum

from laoke.campaigns.attribution import COUNTED
from laoke.catalog.models import Category, Product
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.money import fen_to_yuan
from laoke.orders.models import OrderLine, RefundLine

from . import error_codes_baskets as E
from .association import Baskets, association_rules, frequent_itemsets

LEVELS = ("product", "category")
DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366


def period(since: date | None, until: date | None, *, now: datetime) -> tuple[datetime, datetime]:
    """Shop-local dates [since, until] (both included; default the 90 days up to today) → the UTC
    instants [start, end). ANALYTICS_PERIOD_INVALID when reversed or longer than 3 years."""
    tz = clock.shop_tz()
    until = until or clock.to_local(now).date()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until or (until - since).days >= MAX_DAYS:
        raise DomainError(E.ANALYTICS_PERIOD_INVALID, field="since")
    start = datetime.combine(since, time.min, tzinfo=tz)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def check_rule_params(
    *, min_support: float, min_lift: float, level: str, min_confidence: float = 0.0
) -> None:
    """The parameters of ``shop_rules`` as the API, CLI and console take them (stable codes)."""
    if not 0 < min_support <= 1:
        raise DomainError(E.ANALYTICS_SUPPORT_INVALID, field="min_support")
    for name, value in (("min_lift", min_lift), ("min_confidence", min_confidence)):
        if not value >= 0 or value == float("inf"):
            raise DomainError(E.ANALYTICS_THRESHOLD_INVALID, field=name, name=name)
    if level not in LEVELS:
        raise DomainError(E.ANALYTICS_LEVEL_INVALID, field="level")


@dataclass(frozen=True)
class Line:
    order_id: int
    member_id: int | None
    paid_at: datetime
    product_id: int | None
    sku: str
    category_id: int | None
    quantity: int  # net of refunds, > 0
    revenue_fen: int  # net of refunds


def counted_lines(
    *, start: datetime, end: datetime, member_ids: list[int] | set[int] | None = None
) -> list[Line]:
    """The order lines that count in ``[start, end)`` (by payment time), refunds netted; only
    those of ``member_ids`` when given. Two queries."""
    qs = OrderLine.objects.filter(
        order__status__in=COUNTED, order__paid_at__gte=start, order__paid_at__lt=end
    )
    if member_ids is not None:
        qs = qs.filter(order__member_id__in=list(member_ids))
    rows = list(
        qs.order_by("order_id", "pk").values_list(
            "pk",
            "order_id",
            "order__member_id",
            "order__paid_at",
            "product_id",
            "sku",
            "category_id",
            "quantity",
            "refunded_quantity",
            "net_fen",
        )
    )
    refunded: dict[int, int] = {}
    if any(r[8] for r in rows):
        refunded = dict(
            RefundLine.objects.filter(line_id__in=[r[0] for r in rows if r[8]])
            .values("line_id")
            .annotate(fen=Sum("net_fen"))
            .values_list("line_id", "fen")
        )
    out = []
    for pk, order_id, member_id, paid_at, product_id, sku, category_id, qty, ref_qty, net_fen in rows:
        if qty - ref_qty <= 0:
            continue
        out.append(
            Line(
                order_id,
                member_id,
                paid_at,
                product_id,
                sku,
                category_id,
                qty - ref_qty,
                net_fen - refunded.get(pk, 0),
            )
        )
    return out


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise DomainError(E.ANALYTICS_LEVEL_INVALID, field="level")


def _item_keys(
    lines: list[Line], level: str, codes: dict[int, str] | None = None
) -> tuple[list[Line], list[str]]:
    """The lines that have an item at this level, and their item labels (SKU or category code;
    ``codes`` = category id → code when already read)."""
    if level == "product":
        return lines, [ln.sku for ln in lines]
    if codes is None:
        codes = dict(Category.objects.values_list("pk", "code"))
    kept = [ln for ln in lines if ln.category_id is not None]
    return kept, [codes[ln.category_id] for ln in kept]


def item_titles(labels: list[str], level: str) -> dict[str, str]:
    """Label → what people read (product title, category name)."""
    if not labels:
        return {}
    if level == "product":
        titles = dict(Product.objects.filter(sku__in=labels).values_list("sku", "title"))
        line_titles = {}
        missing = [s for s in labels if s not in titles]
        if missing:
            line_titles = dict(OrderLine.objects.filter(sku__in=missing).values_list("sku", "title"))
        return {s: titles.get(s) or line_titles.get(s) or s for s in labels}
    names = dict(Category.objects.filter(code__in=labels).values_list("code", "name"))
    return {c: names.get(c, c) for c in labels}


def shop_baskets(
    *, start: datetime, end: datetime, level: str = "product", member_ids: list[int] | set[int] | None = None
) -> Baskets:
    """One basket per counted order (``keys`` are order ids) in ``[start, end)``, at ``level``."""
    _check_level(level)
    lines, labels = _item_keys(counted_lines(start=start, end=end, member_ids=member_ids), level)
    return Baskets.from_pairs([ln.order_id for ln in lines], labels)


def shop_rules(
    *,
    start: datetime,
    end: datetime,
    level: str = "product",
    min_support: float = 0.01,
    min_lift: float = 1.0,
    min_confidence: float = 0.0,
    max_len: int | None = None,
    member_ids: list[int] | set[int] | None = None,
    limit: int | None = None,
) -> dict:
    """Cross-selling rules over the shop's baskets: rules with lift ≥ ``min_lift`` and confidence
    ≥ ``min_confidence``, best lift first (at most ``limit``), with the counts behind them."""
    check_rule_params(min_support=min_support, min_lift=min_lift, level=level, min_confidence=min_confidence)
    baskets = shop_baskets(start=start, end=end, level=level, member_ids=member_ids)
    itemsets = frequent_itemsets(baskets, min_support=min_support, max_len=max_len)
    rules = [
        r
        for r in association_rules(itemsets, metric="lift", min_threshold=min_lift)
        if r.confidence >= min_confidence
    ]
    total = len(rules)
    if limit is not None:
        rules = rules[:limit]
    used = sorted({x for r in rules for x in (*r.antecedent, *r.consequent)})
    titles = item_titles(used, level)
    return {
        "level": level,
        "start": start,
        "end": end,
        "min_support": min_support,
        "min_lift": min_lift,
        "min_confidence": min_confidence,
        "baskets": baskets.n,
        "items": len(baskets.labels),
        "itemsets": len(itemsets),
        "rule_count": total,
        "rules": [
            {
                **r.as_dict(),
                "antecedent_titles": [titles[x] for x in r.antecedent],
                "consequent_titles": [titles[x] for x in r.consequent],
            }
            for r in rules
        ],
    }


RULE_COLUMNS = (
    ("antecedent", "antecedent"),
    ("antecedent_titles", "antecedent (title)"),
    ("consequent", "consequent"),
    ("consequent_titles", "consequent (title)"),
    ("antecedent_support", "antecedent support"),
    ("consequent_support", "consequent support"),
    ("support", "support"),
    ("confidence", "confidence"),
    ("lift", "lift"),
    ("leverage", "leverage"),
    ("conviction", "conviction"),
    ("count", "orders"),
)
RULE_PARAMS = (
    "level",
    "start",
    "end",
    "min_support",
    "min_lift",
    "baskets",
    "items",
    "itemsets",
    "rule_count",
)


def rules_sheets(data: dict) -> list:
    """``shop_rules`` output as xlsx sheets: the rules (item lists joined by commas) and the
    parameters and counts behind them."""
    rows = [
        [", ".join(map(str, v)) if isinstance(v, list) else v for v in (r[k] for k, _ in RULE_COLUMNS)]
        for r in data["rules"]
    ]
    return [
        ("rules", [h for _, h in RULE_COLUMNS], rows),
        ("parameters", ["parameter", "value"], [[k, data[k]] for k in RULE_PARAMS]),
    ]


def _tally(lines: list[Line], labels: list[str]) -> tuple[dict, set[int]]:
    """label → [order ids, quantity, revenue fen, member ids]; and every buyer seen."""
    acc: dict[str, list] = defaultdict(lambda: [set(), 0, 0, set()])
    buyers: set[int] = set()
    for ln, label in zip(lines, labels, strict=True):
        a = acc[label]
        a[0].add(ln.order_id)
        a[1] += ln.quantity
        a[2] += ln.revenue_fen
        a[3].add(ln.member_id)
        buyers.add(ln.member_id)
    return acc, buyers


def members_purchases(
    member_ids: list[int] | set[int], start: datetime, end: datetime, *, top: int = 20
) -> dict:
    """What a set of members (e.g. a campaign's responders) bought in ``[start, end)``, by product
    and by category, against every other member who bought in the same window.

    Per item: ``orders`` (orders of the set holding it), ``quantity``, ``revenue`` (yuan),
    ``buyers`` and ``share`` (fraction of the set's buyers who bought it), the same share among
    the other buyers (``others_share``) and ``lift`` = share ÷ others_share (None when no other
    buyer bought it). Items are ranked by buyers, then revenue; ``top`` per level."""
    chosen = set(member_ids)
    every = [ln for ln in counted_lines(start=start, end=end) if ln.member_id is not None]
    mine = [ln for ln in every if ln.member_id in chosen]
    others = [ln for ln in every if ln.member_id not in chosen]
    out: dict = {"members": len(chosen), "start": start, "end": end}
    codes = dict(Category.objects.values_list("pk", "code")) if every else {}
    for level in LEVELS:
        my_lines, my_labels = _item_keys(mine, level, codes)
        their_lines, their_labels = _item_keys(others, level, codes)
        acc, _ = _tally(my_lines, my_labels)
        theirs, _ = _tally(their_lines, their_labels)
        n_mine = len({ln.member_id for ln in mine})
        n_theirs = len({ln.member_id for ln in others})
        ranked = sorted(acc.items(), key=lambda kv: (-len(kv[1][3]), -kv[1][2], kv[0]))[:top]
        titles = item_titles([k for k, _ in ranked], level)
        rows = []
        for label, (orders, qty, fen, members) in ranked:
            share = len(members) / n_mine
            other_buyers = len(theirs[label][3]) if label in theirs else 0
            others_share = other_buyers / n_theirs if n_theirs else None
            rows.append(
                {
                    "item": label,
                    "title": titles[label],
                    "orders": len(orders),
                    "quantity": qty,
                    "revenue": fen_to_yuan(fen),
                    "buyers": len(members),
                    "share": share,
                    "others_buyers": other_buyers,
                    "others_share": others_share,
                    "lift": share / others_share if others_share else None,
                }
            )
        out["buyers"] = n_mine
        out["others_buyers"] = n_theirs
        out["orders"] = len({ln.order_id for ln in mine})
        out["revenue"] = fen_to_yuan(sum(ln.revenue_fen for ln in mine))
        out["products" if level == "product" else "categories"] = rows
    return out
