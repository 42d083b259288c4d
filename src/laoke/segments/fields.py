"""The field registry of segment rules: what a leaf ``{"field", "op", "value"}`` may name.

A field is a :class:`FieldSpec`: a stable ``key``, a translatable ``label``, a value ``type``, the
operators it allows and a ``compile(op, value, ctx) -> Q`` over ``members.Member``. Compiled
leaves combine into one ``Q`` and so into ONE SQL statement: profile columns are read from the
member row, order figures and model scores from ``stats.MemberStats`` (one LEFT JOIN, kept by
settlement), everything else by correlated ``EXISTS`` / ``IN`` sub-queries on indexed tables
(tags, consents, attribute values, category statistics, wallet and points accounts, redeemed
coupons; SKUs bought and "paid in a window" read order lines/orders of the member by the
``(member, paid_at)`` index — never a scan of all orders).

Null semantics (the same for every field): a leaf over a missing value (no birthday, no order
yet, no score computed) is false for every operator except ``is_null``; a member without a
statistics row has spend/orders/discount 0 and no order dates; a member without a wallet or
points account has balance 0; ``not`` of a leaf is its exact complement.

Extension point (decision 0022): an app above segments declares
``segment_fields = "dotted.path"`` on its AppConfig, naming a callable that returns a list of
``FieldSpec``; :func:`registry` collects them through Django's app registry (like
``member_merge_hook``, decision 0011). Keys of app fields should start with the app label
(``campaigns.received_wave``). ``attr.<key>`` fields (custom attributes) are resolved from the
database when a rule names them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, lookups
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from laoke.catalog.models import Category
from laoke.core import clock
from laoke.core.models import Store
from laoke.ledger.models import Account
from laoke.members.models import AttributeDefinition, AttributeValue, Channel, Consent, Member, MemberTag, Tag
from laoke.orders.models import Order, OrderLine, OrderStatus
from laoke.promotions.models import Coupon, CouponState
from laoke.stats.models import MemberCategoryStats
from laoke.tiers.models import TierLevel

# Value types. Numbers: int (whole), fen (money, integer fen), days (whole days), float, ratio
# (0–1). Times: date, datetime (ISO strings; a date means shop-local midnight). Lists of names:
# tags, category (codes, a category includes its descendants), sku.
NUMBER_TYPES = ("int", "fen", "days", "float", "ratio")
TIME_TYPES = ("date", "datetime")
LIST_TYPES = ("tags", "category", "sku")
TYPES = (*NUMBER_TYPES, *TIME_TYPES, "bool", "choice", "text", *LIST_TYPES)

CMP = ("eq", "ne", "lt", "lte", "gt", "gte", "between")
NUM_OPS = (*CMP, "is_null")
TIME_OPS = ("between", "before", "on_or_after", "within_days", "not_within_days", "is_null")
CHOICE_OPS = ("eq", "ne", "in", "not_in")
TEXT_OPS = ("eq", "ne", "in", "not_in", "contains", "is_empty")
LIST_OPS = ("any", "none")
TAG_OPS = ("any", "all", "none")

# Orders that count as bought (not cancelled, not wholly refunded).
BOUGHT = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
)
MAX_LIST = 200


@dataclass(frozen=True)
class Ctx:
    """What compilation may depend on besides the rule: the clock of the evaluation."""

    now: datetime

    @property
    def today(self) -> date:
        return clock.to_local(self.now).date()


@dataclass(frozen=True)
class FieldSpec:
    """One field of the rule language.

    - ``key``: stable identifier stored in rules (never rename; add a new field instead).
    - ``label``: gettext_lazy text for the builder; ``group``: the builder's section.
    - ``type``: one of ``TYPES`` — decides how values are checked and entered.
    - ``ops``: the operators allowed (a subset of the type's operators).
    - ``compile(op, value, ctx) -> Q`` over ``members.Member``; receives a checked value.
    - ``choices``: ``() -> [(value, label)]`` for ``choice`` fields (may read the database;
      called by the catalogue, and by validation when ``strict_choices``).
    - ``check(op, value) -> str | None``: extra validation; returns what was expected on failure.
    - ``minimum``/``maximum``: bounds of number values.
    """

    key: str
    label: Any
    type: str
    ops: tuple[str, ...]
    compile: Callable[[str, Any, Ctx], Q]
    group: str = "profile"
    choices: Callable[[], list[tuple[str, str]]] | None = None
    strict_choices: bool = False
    check: Callable[[str, Any], str | None] | None = None
    minimum: float | None = None
    maximum: float | None = None
    extra: dict = field(default_factory=dict)


# --- value helpers -------------------------------------------------------------------------------


def instant(text: str, *, end: bool = False) -> datetime | None:
    """An ISO date (shop-local midnight; ``end=True``: the next midnight, so a date "to" is
    inclusive) or an aware ISO datetime; None when not parseable."""
    if not isinstance(text, str):
        return None
    try:
        d = parse_date(text)
    except ValueError:
        return None
    if d is not None:
        if end:
            d += timedelta(days=1)
        return datetime.combine(d, time(0), tzinfo=clock.shop_tz())
    try:
        dt = parse_datetime(text)
    except ValueError:
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=clock.shop_tz())
    return dt


def _pred(op: str, value: Any) -> Callable[[Any], bool]:
    """The Python meaning of a comparison (used for defaults: is a missing row a match?)."""
    if op == "between":
        return lambda v: v is not None and value[0] <= v <= value[1]
    if op == "in":
        return lambda v: v in value
    if op == "not_in":
        return lambda v: v is not None and v not in value
    fn = {
        "eq": lambda a: a == value,
        "ne": lambda a: a != value,
        "lt": lambda a: a < value,
        "lte": lambda a: a <= value,
        "gt": lambda a: a > value,
        "gte": lambda a: a >= value,
    }[op]
    return lambda v: v is not None and fn(v)


def compare(col: str, op: str, value: Any) -> Q:
    """``col op value`` where a NULL column never matches (except ``is_null``)."""
    if op == "is_null":
        return Q(**{f"{col}__isnull": bool(value)})
    if op == "is_empty":
        empty = Q(**{col: ""}) | Q(**{f"{col}__isnull": True})
        return empty if value else ~empty
    if op == "contains":
        return Q(**{f"{col}__contains": value})
    if op == "between":
        return Q(**{f"{col}__gte": value[0], f"{col}__lte": value[1]})
    if op == "ne":
        return Q(**{f"{col}__isnull": False}) & ~Q(**{col: value})
    if op == "in":
        return Q(**{f"{col}__in": list(value)})
    if op == "not_in":
        return Q(**{f"{col}__isnull": False}) & ~Q(**{f"{col}__in": list(value)})
    if op == "eq":
        return Q(**{col: value})
    return Q(**{f"{col}__{op}": value})


def compare_time(col: str, op: str, value: Any, ctx: Ctx) -> Q:
    if op == "is_null":
        return Q(**{f"{col}__isnull": bool(value)})
    if op == "between":
        return Q(**{f"{col}__gte": instant(value[0]), f"{col}__lt": instant(value[1], end=True)})
    if op == "before":
        return Q(**{f"{col}__lt": instant(value)})
    if op == "on_or_after":
        return Q(**{f"{col}__gte": instant(value)})
    if op == "within_days":
        return Q(**{f"{col}__gte": ctx.now - timedelta(days=value)})
    if op == "not_within_days":
        return Q(**{f"{col}__lt": ctx.now - timedelta(days=value)})
    raise ValueError(op)


def compare_date(col: str, op: str, value: Any, ctx: Ctx) -> Q:
    """Like :func:`compare_time` for a DateField (shop-local calendar days)."""
    if op == "is_null":
        return Q(**{f"{col}__isnull": bool(value)})
    if op == "between":
        return Q(**{f"{col}__gte": parse_date(value[0]), f"{col}__lte": parse_date(value[1])})
    if op == "before":
        return Q(**{f"{col}__lt": parse_date(value)})
    if op == "on_or_after":
        return Q(**{f"{col}__gte": parse_date(value)})
    if op == "within_days":
        return Q(**{f"{col}__gte": ctx.today - timedelta(days=value), f"{col}__lte": ctx.today})
    if op == "not_within_days":
        return Q(**{f"{col}__lt": ctx.today - timedelta(days=value)})
    raise ValueError(op)


def _with_default(q: Q, op: str, value: Any, default: Any, missing: Q) -> Q:
    """OR the members whose row is missing when the default value matches."""
    if op == "is_null":
        return q | missing if (default is None) == bool(value) else q
    if op == "is_empty":
        return q | missing if value else q
    if op == "contains":
        return q
    if default is not None and _pred(op, value)(default):
        return q | missing
    return q


# --- compile functions ---------------------------------------------------------------------------


def member_col(col: str) -> Callable[[str, Any, Ctx], Q]:
    return lambda op, value, ctx: compare(col, op, value)


def member_time(col: str) -> Callable[[str, Any, Ctx], Q]:
    return lambda op, value, ctx: compare_time(col, op, value, ctx)


def stats_col(col: str, default: Any = None) -> Callable[[str, Any, Ctx], Q]:
    def comp(op, value, ctx):
        return _with_default(compare(f"stats__{col}", op, value), op, value, default, Q(stats__isnull=True))

    return comp


def stats_time(col: str) -> Callable[[str, Any, Ctx], Q]:
    def comp(op, value, ctx):
        return _with_default(
            compare_time(f"stats__{col}", op, value, ctx), op, value, None, Q(stats__isnull=True)
        )

    return comp


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February in a year without one
        return d.replace(year=d.year - years, day=28)


def _age(op: str, value: Any, ctx: Ctx) -> Q:
    """Age in whole years on the shop's today: age ≥ n ⇔ born on or before today − n years."""
    if op == "is_null":
        return Q(birthday__isnull=bool(value))
    today = ctx.today

    def at_least(n: int) -> Q:
        return Q(birthday__lte=_years_before(today, n))

    def at_most(n: int) -> Q:
        return Q(birthday__gt=_years_before(today, n + 1))

    if op == "between":
        return at_least(value[0]) & at_most(value[1])
    if op == "eq":
        return at_least(value) & at_most(value)
    if op == "ne":
        return Q(birthday__isnull=False) & ~(at_least(value) & at_most(value))
    return {
        "gte": lambda: at_least(value),
        "gt": lambda: at_least(value + 1),
        "lte": lambda: at_most(value),
        "lt": lambda: at_most(value - 1) if value > 0 else Q(pk__in=[]),
    }[op]()


def _days_since_last_order(op: str, value: Any, ctx: Ctx) -> Q:
    """Whole days since the last order: days ≥ n ⇔ last order ≤ now − n days."""
    if op == "is_null":
        return _with_default(
            Q(stats__last_order_at__isnull=bool(value)), op, value, None, Q(stats__isnull=True)
        )
    col = "stats__last_order_at"

    def at_least(n: int) -> Q:
        return Q(**{f"{col}__lte": ctx.now - timedelta(days=n)})

    def at_most(n: int) -> Q:
        return Q(**{f"{col}__gt": ctx.now - timedelta(days=n + 1)})

    if op == "between":
        return at_least(value[0]) & at_most(value[1])
    if op == "eq":
        return at_least(value) & at_most(value)
    if op == "ne":
        return Q(**{f"{col}__isnull": False}) & ~(at_least(value) & at_most(value))
    return {
        "gte": lambda: at_least(value),
        "gt": lambda: at_least(value + 1),
        "lte": lambda: at_most(value),
        "lt": lambda: at_most(value - 1) if value > 0 else Q(pk__in=[]),
    }[op]()


def _avg_basket(op: str, value: Any, ctx: Ctx) -> Q:
    """spend / orders compared exactly in integers: avg ≥ x ⇔ spend ≥ x × orders (orders > 0)."""
    has = Q(stats__isnull=False) & Q(stats__order_count__gt=0)
    if op == "is_null":
        return ~has if value else has
    s, n = "stats__spend_total_fen", F("stats__order_count")

    def c(o: str, x: int) -> Q:
        return Q(**{f"{s}__{o}": n * x})

    if op == "between":
        return has & c("gte", value[0]) & c("lte", value[1])
    if op == "eq":
        return has & c("exact", value)
    if op == "ne":
        return has & ~c("exact", value)
    return has & c(op, value)


def _discount_share(op: str, value: Any, ctx: Ctx) -> Q:
    """discount / (spend + discount), compared in basis points without division:
    share ≥ x ⇔ discount × 10000 ≥ round(x × 10000) × (spend + discount); nothing bought → NULL."""
    has = Q(stats__isnull=False) & ~Q(stats__spend_total_fen=0, stats__discount_total_fen=0)
    if op == "is_null":
        return ~has if value else has
    d = F("stats__discount_total_fen") * 10_000
    total = F("stats__spend_total_fen") + F("stats__discount_total_fen")

    def c(o: str, x: float) -> Q:
        return _expr_cmp(d, o, total * round(x * 10_000))

    if op == "between":
        return has & c("gte", value[0]) & c("lte", value[1])
    if op == "eq":
        return has & c("exact", value)
    if op == "ne":
        return has & ~c("exact", value)
    return has & c(op, value)


def _expr_cmp(lhs, op: str, rhs) -> Q:
    cls = {
        "exact": lookups.Exact,
        "lt": lookups.LessThan,
        "lte": lookups.LessThanOrEqual,
        "gt": lookups.GreaterThan,
        "gte": lookups.GreaterThanOrEqual,
    }[op]
    return Q(cls(lhs, rhs))


def _count_q(rows, op: str, value: Any) -> Q:
    """Members whose number of ``rows`` (a queryset with ``member_id``) satisfies the comparison:
    the GROUP BY … HAVING sub-query for counts ≥ 1, plus the members with no row when 0 matches."""
    if op == "is_null":
        return Q(pk__in=[]) if value else ~Q(pk__in=[])
    counted = rows.values("member_id").annotate(c=Count("pk"))
    pred = _pred(op, value)
    if op == "between":
        having: dict | None = {"c__gte": value[0], "c__lte": value[1]}
    elif op == "eq":
        having = {"c": value}
    elif op == "ne":
        having = None
    else:
        having = {f"c__{op}": value}
    if having is None:
        q = Q(pk__in=counted.exclude(c=value).values("member_id"))
    else:
        q = Q(pk__in=counted.filter(**having).values("member_id"))
    if pred(0):
        q |= ~Exists(rows.filter(member_id=OuterRef("pk")))
    return q


def _coupons_redeemed(op: str, value: Any, ctx: Ctx) -> Q:
    return _count_q(Coupon.objects.filter(state=CouponState.REDEEMED, member__isnull=False), op, value)


def _balance(kind: str) -> Callable[[str, Any, Ctx], Q]:
    def comp(op, value, ctx):
        acc = Account.objects.filter(member=OuterRef("pk"), kind=kind)
        q = Q(Exists(acc.filter(compare("balance", op, value))))
        if op != "is_null" and _pred(op, value)(0):
            q |= ~Exists(acc)
        return q

    return comp


def _categories(op: str, value: Any, ctx: Ctx) -> Q:
    """Bought (net units > 0) in any of the categories or their descendants. The subtree ids are
    read first (one small query on the category tree) so the database plans the count with the
    real ids: with a path pattern it misjudges how many statistics rows match (4× slower at 10M
    orders, docs/performance.md)."""
    under = Q(pk__in=[])
    for code in value:
        under |= Q(path__startswith=Subquery(Category.objects.filter(code=code).values("path")[:1]))
    ids = list(Category.objects.filter(under).values_list("pk", flat=True))
    found = Exists(
        MemberCategoryStats.objects.filter(member=OuterRef("pk"), category_id__in=ids, quantity__gt=0)
    )
    return Q(found) if op == "any" else ~Q(found)


def _skus(op: str, value: Any, ctx: Ctx) -> Q:
    found = Exists(
        OrderLine.objects.filter(
            order__member=OuterRef("pk"),
            order__status__in=BOUGHT,
            sku__in=list(value),
            quantity__gt=F("refunded_quantity"),
        )
    )
    return Q(found) if op == "any" else ~Q(found)


def _paid_in(op: str, value: Any, ctx: Ctx) -> Q:
    """Has an order (not cancelled or wholly refunded) paid at a time matching the operator."""
    if op == "is_null":
        found = Exists(Order.objects.filter(member=OuterRef("pk"), status__in=BOUGHT, paid_at__isnull=False))
        return ~Q(found) if value else Q(found)
    orders = Order.objects.filter(
        compare_time("paid_at", op, value, ctx), member=OuterRef("pk"), status__in=BOUGHT
    )
    return Q(Exists(orders))


def _tags(op: str, value: Any, ctx: Ctx) -> Q:
    def has(names) -> Exists:
        return Exists(MemberTag.objects.filter(member=OuterRef("pk"), tag__name__in=list(names)))

    if op == "any":
        return Q(has(value))
    if op == "none":
        return ~Q(has(value))
    q = Q()
    for name in value:
        q &= Q(has([name]))
    return q


def _tags_check(op: str, value: Any) -> str | None:
    found = dict(Tag.objects.filter(name__in=list(value)).values_list("name", "kind"))
    for name in value:
        if name not in found:
            return f"existing tag names (unknown: {name})"
        if found[name] == Tag.Kind.SENSITIVE:
            return f"non-sensitive tags (PIPL art. 28: {name})"
    return None


def _categories_check(op: str, value: Any) -> str | None:
    found = set(Category.objects.filter(code__in=list(value)).values_list("code", flat=True))
    missing = [c for c in value if c not in found]
    return f"existing category codes (unknown: {missing[0]})" if missing else None


def _tier(op: str, value: Any, ctx: Ctx) -> Q:
    ids = [int(v) for v in (value if isinstance(value, list) else [value])]
    inside = Q(tier__level_id__in=ids)
    if op in ("eq", "in"):
        return inside
    return ~inside  # ne / not_in: members without a tier are "not in" any level


def _consent(channel: str) -> Callable[[str, Any, Ctx], Q]:
    def one(state: str) -> Q:
        rows = Consent.objects.filter(member=OuterRef("pk"), channel=channel)
        if state == "none":
            return ~Q(Exists(rows))
        return Q(Exists(rows.filter(state=state)))

    def comp(op, value, ctx):
        states = value if isinstance(value, list) else [value]
        q = Q(pk__in=[])
        for s in states:
            q |= one(s)
        return q if op in ("eq", "in") else ~q

    return comp


def _choices_of(model_choices) -> Callable[[], list[tuple[str, str]]]:
    return lambda: [(str(v), str(label)) for v, label in model_choices]


def _stores() -> list[tuple[str, str]]:
    return [(s.code, s.name) for s in Store.objects.order_by("code")]


def _tier_levels() -> list[tuple[str, str]]:
    return [
        (str(lv.pk), f"{lv.programme.name} · {lv.name}")
        for lv in TierLevel.objects.select_related("programme").order_by("programme_id", "rank")
    ]


def _level_check(op: str, value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v.isdigit() for v in values):
        return "tier level ids"
    return None


CONSENT_STATES = [
    ("granted", _("Granted")),
    ("withdrawn", _("Withdrawn / unsubscribed")),
    ("none", _("Not asked")),
]


def builtin_fields() -> list[FieldSpec]:
    F_ = FieldSpec
    fields = [
        # profile
        F_(
            "profile.gender",
            _("Gender"),
            "choice",
            CHOICE_OPS,
            member_col("gender"),
            choices=_choices_of(Member.Gender.choices),
            strict_choices=True,
        ),
        F_("profile.age", _("Age (years)"), "int", NUM_OPS, _age, minimum=0, maximum=150),
        F_(
            "profile.birthday_month",
            _("Birthday month"),
            "int",
            (*CMP, "in", "not_in", "is_null"),
            member_col("birthday__month"),
            minimum=1,
            maximum=12,
        ),
        F_("profile.registered_at", _("Registered"), "datetime", TIME_OPS[:-1], member_time("registered_at")),
        F_(
            "profile.source",
            _("Source"),
            "choice",
            CHOICE_OPS,
            member_col("source"),
            choices=_choices_of(Member.Source.choices),
            strict_choices=True,
        ),
        F_(
            "profile.home_store",
            _("Home store"),
            "choice",
            CHOICE_OPS,
            member_col("home_store__code"),
            choices=_stores,
        ),
        F_(
            "profile.lifecycle",
            _("Lifecycle"),
            "choice",
            CHOICE_OPS,
            member_col("lifecycle"),
            choices=_choices_of(Member.Lifecycle.choices),
            strict_choices=True,
        ),
        F_(
            "profile.group_member",
            _("Belongs to a group account"),
            "bool",
            ("eq",),
            lambda op, v, ctx: Q(group_account__isnull=not v),
        ),
        # region
        F_("region.province", _("Province"), "text", TEXT_OPS, member_col("province"), group="region"),
        F_("region.city", _("City"), "text", TEXT_OPS, member_col("city"), group="region"),
        # tier
        F_(
            "tier.level",
            _("Tier level"),
            "choice",
            CHOICE_OPS,
            _tier,
            group="tier",
            choices=_tier_levels,
            check=_level_check,
        ),
        # tags
        F_("tags", _("Tags"), "tags", TAG_OPS, _tags, group="tags", check=_tags_check),
        # orders (member statistics)
        F_(
            "orders.first_order_at",
            _("First order"),
            "datetime",
            TIME_OPS,
            stats_time("first_order_at"),
            group="orders",
        ),
        F_(
            "orders.last_order_at",
            _("Last order"),
            "datetime",
            TIME_OPS,
            stats_time("last_order_at"),
            group="orders",
        ),
        F_(
            "orders.days_since_last_order",
            _("Days since the last order (dormancy)"),
            "days",
            NUM_OPS,
            _days_since_last_order,
            group="orders",
            minimum=0,
        ),
        F_("orders.paid_at", _("Has an order paid"), "datetime", TIME_OPS, _paid_in, group="orders"),
        F_(
            "orders.count",
            _("Number of orders"),
            "int",
            CMP,
            stats_col("order_count", 0),
            group="orders",
            minimum=0,
        ),
        F_(
            "orders.spend",
            _("Cumulative spend"),
            "fen",
            CMP,
            stats_col("spend_total_fen", 0),
            group="orders",
            minimum=0,
        ),
        F_("orders.avg_basket", _("Average basket"), "fen", NUM_OPS, _avg_basket, group="orders", minimum=0),
        F_(
            "orders.discount_total",
            _("Cumulative discount"),
            "fen",
            CMP,
            stats_col("discount_total_fen", 0),
            group="orders",
            minimum=0,
        ),
        F_(
            "orders.discount_share",
            _("Price sensitivity (discount share)"),
            "ratio",
            NUM_OPS,
            _discount_share,
            group="orders",
            minimum=0,
            maximum=1,
        ),
        F_(
            "orders.categories",
            _("Bought in category"),
            "category",
            LIST_OPS,
            _categories,
            group="orders",
            check=_categories_check,
        ),
        F_("orders.skus", _("Bought SKU"), "sku", LIST_OPS, _skus, group="orders"),
        F_(
            "orders.recharge",
            _("Cumulative recharge"),
            "fen",
            CMP,
            stats_col("recharge_total_fen", 0),
            group="orders",
            minimum=0,
        ),
        F_(
            "coupons.redeemed",
            _("Coupons redeemed"),
            "int",
            CMP,
            _coupons_redeemed,
            group="orders",
            minimum=0,
        ),
        # value
        F_(
            "value.wallet_balance",
            _("Stored-value balance"),
            "fen",
            CMP,
            _balance(Account.Kind.WALLET),
            group="value",
        ),
        F_(
            "value.points_balance",
            _("Points balance"),
            "int",
            CMP,
            _balance(Account.Kind.POINTS),
            group="value",
        ),
        # scores (computed by analytics; NULL until then)
        F_(
            "scores.rfm_r",
            _("RFM recency score"),
            "int",
            NUM_OPS,
            stats_col("rfm_r"),
            group="scores",
            minimum=1,
            maximum=5,
        ),
        F_(
            "scores.rfm_f",
            _("RFM frequency score"),
            "int",
            NUM_OPS,
            stats_col("rfm_f"),
            group="scores",
            minimum=1,
            maximum=5,
        ),
        F_(
            "scores.rfm_m",
            _("RFM monetary score"),
            "int",
            NUM_OPS,
            stats_col("rfm_m"),
            group="scores",
            minimum=1,
            maximum=5,
        ),
        F_(
            "scores.rfm_segment", _("RFM segment"), "text", TEXT_OPS, stats_col("rfm_segment"), group="scores"
        ),
        F_(
            "scores.p_alive",
            _("P(alive)"),
            "ratio",
            NUM_OPS,
            stats_col("p_alive"),
            group="scores",
            minimum=0,
            maximum=1,
        ),
        F_(
            "scores.expected_purchases_90d",
            _("Expected purchases in 90 days"),
            "float",
            NUM_OPS,
            stats_col("expected_purchases_90d"),
            group="scores",
            minimum=0,
        ),
        F_("scores.clv", _("Predicted CLV"), "fen", NUM_OPS, stats_col("clv_fen"), group="scores"),
    ]
    for channel, label in Channel.choices:
        fields.append(
            F_(
                f"consent.{channel}",
                label,
                "choice",
                CHOICE_OPS,
                _consent(channel),
                group="consent",
                choices=lambda: [(v, str(lab)) for v, lab in CONSENT_STATES],
                strict_choices=True,
            )
        )
    return fields


# --- custom attributes ---------------------------------------------------------------------------

_ATTR_TYPES = {
    AttributeDefinition.Type.TEXT: ("text", "value_text", (*TEXT_OPS[:-1], "is_null")),
    AttributeDefinition.Type.INTEGER: ("int", "value_int", NUM_OPS),
    AttributeDefinition.Type.DECIMAL: ("float", "value_decimal", NUM_OPS),
    AttributeDefinition.Type.DATE: ("date", "value_date", TIME_OPS),
    AttributeDefinition.Type.BOOLEAN: ("bool", "value_bool", ("eq", "is_null")),
    AttributeDefinition.Type.CHOICE: ("choice", "value_text", (*CHOICE_OPS, "is_null")),
}


def attribute_field(definition: AttributeDefinition) -> FieldSpec:
    type_, col, ops = _ATTR_TYPES[definition.type]

    def comp(op, value, ctx):
        rows = AttributeValue.objects.filter(member=OuterRef("pk"), definition_id=definition.pk)
        if op == "is_null":
            q = Q(Exists(rows))
            return ~q if value else q
        if op == "contains":
            cond = Q(**{f"{col}__contains": value})
        elif type_ == "date":
            cond = compare_date(col, op, value, ctx)
        else:
            cond = compare(col, op, value)
        return Q(Exists(rows.filter(cond)))

    choices = [(str(c), str(c)) for c in definition.choices or []] if type_ == "choice" else None
    return FieldSpec(
        f"attr.{definition.key}",
        definition.label,
        type_,
        ops,
        comp,
        group="attributes",
        choices=(lambda: choices) if choices is not None else None,
        strict_choices=choices is not None,
        extra={"sensitive": definition.is_sensitive},
    )


# --- the registry --------------------------------------------------------------------------------


def _app_fields() -> list[FieldSpec]:
    out: list[FieldSpec] = []
    for cfg in apps.get_app_configs():
        path = getattr(cfg, "segment_fields", None)
        if path:
            out.extend(import_string(path)())
    return out


@functools.cache
def registry() -> dict[str, FieldSpec]:
    """Every static field by key: the built-in ones, then those of the apps declaring
    ``segment_fields`` (INSTALLED_APPS order). A key defined twice is a programming error."""
    out: dict[str, FieldSpec] = {}
    for spec in [*builtin_fields(), *_app_fields()]:
        if spec.key in out:
            raise RuntimeError(f"segment field {spec.key} defined twice")
        if spec.type not in TYPES:
            raise RuntimeError(f"segment field {spec.key}: unknown type {spec.type}")
        out[spec.key] = spec
    return out


def resolve(key: str) -> FieldSpec | None:
    """The field named by a rule leaf, or None. ``attr.<key>`` reads the attribute definition."""
    if not isinstance(key, str):
        return None
    spec = registry().get(key)
    if spec is None and key.startswith("attr."):
        definition = AttributeDefinition.objects.filter(key=key[5:]).first()
        if definition is not None and not definition.is_sensitive:
            spec = attribute_field(definition)
    return spec


def all_fields() -> list[FieldSpec]:
    """The static fields and one field per (non-sensitive) custom attribute."""
    out = list(registry().values())
    for d in AttributeDefinition.objects.filter(is_sensitive=False).order_by("key"):
        out.append(attribute_field(d))
    return out


def is_number(v: Any, type_: str) -> bool:
    if isinstance(v, bool):
        return False
    if type_ in ("int", "fen", "days"):
        return isinstance(v, int)
    return isinstance(v, int | float) and math.isfinite(v)
