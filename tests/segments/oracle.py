"""An independent Python evaluator of segment rules: it reads each member's rows with plain ORM
look-ups (no project compile code) and applies the documented meaning of every field in Python.
The SQL compilation must select exactly the members this evaluator selects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from laoke.catalog.models import Category
from laoke.ledger.models import Account
from laoke.members.models import AttributeValue, Consent, Member, MemberTag
from laoke.orders.models import Order, OrderLine
from laoke.promotions.models import Coupon
from laoke.stats.models import MemberCategoryStats, MemberStats
from laoke.tiers.models import MemberTier

TZ = ZoneInfo("Asia/Shanghai")
BOUGHT = {"paid", "shipped", "delivered", "completed", "partially_refunded"}


@dataclass
class Row:
    m: Member
    stats: MemberStats | None
    tags: set = field(default_factory=set)
    consents: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    cat_paths: list = field(default_factory=list)
    skus: set = field(default_factory=set)
    paid: list = field(default_factory=list)
    coupons: int = 0
    wallet: int = 0
    points: int = 0
    tier: int | None = None


def load() -> list[Row]:
    rows = []
    for m in Member.objects.select_related("home_store").order_by("pk"):
        r = Row(m=m, stats=MemberStats.objects.filter(member=m).first())
        r.tags = set(MemberTag.objects.filter(member=m).values_list("tag__name", flat=True))
        r.consents = dict(Consent.objects.filter(member=m).values_list("channel", "state"))
        for av in AttributeValue.objects.filter(member=m).select_related("definition"):
            r.attrs[av.definition.key] = next(
                v
                for v in (av.value_text, av.value_int, av.value_decimal, av.value_date, av.value_bool)
                if v is not None
            )
        r.cat_paths = [
            cs.category.path
            for cs in MemberCategoryStats.objects.filter(member=m, quantity__gt=0).select_related("category")
        ]
        for ln in OrderLine.objects.filter(order__member=m).select_related("order"):
            if ln.order.status in BOUGHT and ln.quantity > ln.refunded_quantity:
                r.skus.add(ln.sku)
        r.paid = [o.paid_at for o in Order.objects.filter(member=m) if o.status in BOUGHT and o.paid_at]
        r.coupons = Coupon.objects.filter(member=m, state="redeemed").count()
        for a in Account.objects.filter(member=m):
            if a.kind == "wallet":
                r.wallet = a.balance
            if a.kind == "points":
                r.points = a.balance
        t = MemberTier.objects.filter(member=m).first()
        r.tier = t.level_id if t else None
        rows.append(r)
    return rows


def start(s: str) -> datetime:
    if len(s) == 10:
        return datetime.combine(date.fromisoformat(s), time(0), tzinfo=TZ)
    return datetime.fromisoformat(s)


def end(s: str) -> datetime:
    return start(s) + timedelta(days=1) if len(s) == 10 else datetime.fromisoformat(s)


def cmp(v: Any, op: str, value: Any) -> bool:
    if op == "is_null":
        return (v is None) == value
    if op == "is_empty":
        return (v in ("", None)) == value
    if v is None:
        return False
    if op == "between":
        return value[0] <= v <= value[1]
    return {
        "eq": lambda: v == value,
        "ne": lambda: v != value,
        "lt": lambda: v < value,
        "lte": lambda: v <= value,
        "gt": lambda: v > value,
        "gte": lambda: v >= value,
        "in": lambda: v in value,
        "not_in": lambda: v not in value,
        "contains": lambda: value in v,
    }[op]()


def tcmp(v: datetime | None, op: str, value: Any, now: datetime) -> bool:
    if op == "is_null":
        return (v is None) == value
    if v is None:
        return False
    if op == "between":
        return start(value[0]) <= v < end(value[1])
    if op == "before":
        return v < start(value)
    if op == "on_or_after":
        return v >= start(value)
    if op == "within_days":
        return v >= now - timedelta(days=value)
    if op == "not_within_days":
        return v < now - timedelta(days=value)
    raise AssertionError(op)


def dcmp(v: date | None, op: str, value: Any, today: date) -> bool:
    if op == "is_null":
        return (v is None) == value
    if v is None:
        return False
    if op == "between":
        return date.fromisoformat(value[0]) <= v <= date.fromisoformat(value[1])
    if op == "before":
        return v < date.fromisoformat(value)
    if op == "on_or_after":
        return v >= date.fromisoformat(value)
    if op == "within_days":
        return today - timedelta(days=value) <= v <= today
    if op == "not_within_days":
        return v < today - timedelta(days=value)
    raise AssertionError(op)


def _s(r: Row, name: str, default=None):
    return getattr(r.stats, name) if r.stats is not None else default


def leaf(r: Row, node: dict, now: datetime) -> bool:
    f, op, value = node["field"], node["op"], node["value"]
    m = r.m
    today = now.astimezone(TZ).date()
    if f.startswith("attr."):
        v = r.attrs.get(f[5:])
        if isinstance(v, date):
            return dcmp(v, op, value, today)
        return cmp(v, op, value)
    if f.startswith("consent."):
        state = r.consents.get(f[8:], "none")
        vals = value if isinstance(value, list) else [value]
        return (state in vals) == (op in ("eq", "in"))
    simple = {
        "profile.gender": m.gender,
        "profile.source": m.source,
        "profile.lifecycle": m.lifecycle,
        "profile.home_store": m.home_store.code if m.home_store else None,
        "profile.birthday_month": m.birthday.month if m.birthday else None,
        "region.province": m.province,
        "region.city": m.city,
        "orders.count": _s(r, "order_count", 0),
        "orders.spend": _s(r, "spend_total_fen", 0),
        "orders.discount_total": _s(r, "discount_total_fen", 0),
        "orders.recharge": _s(r, "recharge_total_fen", 0),
        "coupons.redeemed": r.coupons,
        "value.wallet_balance": r.wallet,
        "value.points_balance": r.points,
        "scores.rfm_r": _s(r, "rfm_r"),
        "scores.rfm_f": _s(r, "rfm_f"),
        "scores.rfm_m": _s(r, "rfm_m"),
        "scores.rfm_segment": _s(r, "rfm_segment"),
        "scores.p_alive": _s(r, "p_alive"),
        "scores.expected_purchases_90d": _s(r, "expected_purchases_90d"),
        "scores.clv": _s(r, "clv_fen"),
    }
    if f in simple:
        return cmp(simple[f], op, value)
    if f == "profile.group_member":
        return (m.group_account_id is not None) == value
    if f == "profile.registered_at":
        return tcmp(m.registered_at, op, value, now)
    if f == "profile.age":
        b = m.birthday
        age = None if b is None else today.year - b.year - ((today.month, today.day) < (b.month, b.day))
        return cmp(age, op, value)
    if f == "orders.first_order_at":
        return tcmp(_s(r, "first_order_at"), op, value, now)
    if f == "orders.last_order_at":
        return tcmp(_s(r, "last_order_at"), op, value, now)
    if f == "orders.days_since_last_order":
        last = _s(r, "last_order_at")
        return cmp(None if last is None else (now - last) // timedelta(days=1), op, value)
    if f == "orders.paid_at":
        if op == "is_null":
            return (not r.paid) == value
        return any(tcmp(p, op, value, now) for p in r.paid)
    if f == "orders.avg_basket":
        n = _s(r, "order_count", 0)
        return cmp(Fraction(_s(r, "spend_total_fen"), n) if n > 0 else None, op, value)
    if f == "orders.discount_share":
        s, d = _s(r, "spend_total_fen", 0), _s(r, "discount_total_fen", 0)
        share = Fraction(d, s + d) if s + d > 0 else None
        conv = (lambda x: Fraction(round(x * 10_000), 10_000)) if op not in ("is_null",) else (lambda x: x)
        val = [conv(x) for x in value] if op == "between" else conv(value)
        return cmp(share, op, val)
    if f == "orders.categories":
        paths = [c.path for c in Category.objects.filter(code__in=value)]
        found = any(p.startswith(q) for p in r.cat_paths for q in paths)
        return found if op == "any" else not found
    if f == "orders.skus":
        found = bool(r.skus & set(value))
        return found if op == "any" else not found
    if f == "tags":
        if op == "any":
            return bool(r.tags & set(value))
        if op == "all":
            return set(value) <= r.tags
        return not (r.tags & set(value))
    if f == "tier.level":
        vals = {int(v) for v in (value if isinstance(value, list) else [value])}
        inside = r.tier in vals
        return inside if op in ("eq", "in") else not inside
    raise AssertionError(f"oracle does not know {f}")


def holds(r: Row, node: dict, now: datetime) -> bool:
    if "all" in node:
        return all(holds(r, c, now) for c in node["all"])
    if "any" in node:
        return any(holds(r, c, now) for c in node["any"])
    if "not" in node:
        return not holds(r, node["not"], now)
    return leaf(r, node, now)


def select(rows: list[Row], rule: dict, now: datetime) -> set[int]:
    opt_in = rule.get("include_non_personalised") is True
    return {
        r.m.pk
        for r in rows
        if r.m.status == "active" and (opt_in or not r.m.exclude_personalised) and holds(r, rule, now)
    }
