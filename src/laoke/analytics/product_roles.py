"""Product roles (SPEC 11 商品角色, S1): traffic drivers (引流), profit items (利润, with a discount
cap), marginal items (边缘), potential items (潜力), else regular — for SKUs and bundles (搭配套装).

Measures (each product, at ``now``; *period* = the last ``period_days`` days, default 90):
- ``units`` / ``revenue_fen``: net units and net revenue in the period (refunds netted, counted
  statuses as in the campaign attribution — see ``baskets.counted_lines``).
- ``margin``: (revenue − cost × units) ÷ revenue when the product has a cost price
  (``catalog.Product.cost_price_fen``). **Fallback** when there is no cost: the discount depth
  ``1 − revenue ÷ (list price × units)`` stands in — a deeply discounted item is treated as a
  low-margin one and an item sold near list price as a high-margin one (thresholds below).
- ``growth``: units in the period ÷ units in the period before, minus 1 (None when nothing sold
  before: a new item).
- ``rules`` / ``max_lift``: how many cross-selling rules (lift > 1, product-level baskets of the
  period, ``assoc_min_support``) the item takes part in, and the highest lift among them.
- ``repeat_share``: of the item's buyers in the period, the share who bought it in ≥ 2 orders
  over the two periods (old-customer stickiness 老客粘性).
- ``volume_rank``: the share of products that sold fewer units (0 = lowest, → 1 = highest).

Roles, first match wins (thresholds are arguments of ``classify`` / ``compute_roles``):
1. traffic: high volume (``volume_rank ≥ traffic_min_rank``) and low margin (``margin ≤
   traffic_max_margin``, or without cost ``discount_depth ≥ traffic_min_discount``);
2. profit: high margin (``margin ≥ profit_min_margin``, or without cost ``discount_depth ≤
   profit_max_discount``) bought again by its buyers (``repeat_share ≥ profit_min_repeat``);
   gets ``discount_cap_bp`` (few, limited discounts protect the customers with ≥ 2 purchases);
3. potential: growing (``growth ≥ potential_min_growth``, or new) with at least
   ``potential_min_units`` units;
4. marginal: low sales (``volume_rank ≤ marginal_max_rank``), no more than ``marginal_max_rules``
   rules, and ``repeat_share ≤ marginal_max_repeat`` — an item that sold nothing is marginal;
5. regular.

A bundle is measured as the group of its items (the hot item and the others): units, revenue,
cost and list value summed, growth from the summed units, buyers and repeat buyers over the union,
rules summed and the highest lift; its volume rank compares its average units per item with the
products. Rows set by hand (``manual=True``) are never overwritten by the computation.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from laoke.catalog.models import Product
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError
from laoke.core.money import fen_to_yuan
from laoke.promotions.models import Bundle, BundleItem
from laoke.segments.models import Segment
from laoke.segments.presets import preset_rules
from laoke.segments.selectors import segment_count

from . import error_codes_baskets as E
from .association import Baskets, association_rules, frequent_itemsets
from .baskets import counted_lines
from .models import ProductRole, Role

ONE_TIME_PRESET = "one_time_price_sensitive"


@dataclass(frozen=True)
class Thresholds:
    """The configurable thresholds (defaults chosen for a small shop; fractions, not percent)."""

    period_days: int = 90  # the measuring period; growth compares it with the one before
    assoc_min_support: float = 0.01  # baskets of the period an itemset needs to yield rules
    traffic_min_rank: float = 0.75  # high volume: outsells at least 3/4 of the products
    traffic_max_margin: float = 0.15  # low margin (with a cost price)
    traffic_min_discount: float = 0.15  # low margin without a cost price: sold ≥ 15% under list
    profit_min_margin: float = 0.35  # high margin (with a cost price)
    profit_max_discount: float = 0.05  # high margin without a cost price: sold within 5% of list
    profit_min_repeat: float = 0.3  # ≥ 30% of its buyers bought it again
    profit_discount_cap_bp: int = 1000  # the cap given to computed profit items (10%)
    potential_min_growth: float = 0.5  # +50% units on the period before (or new)
    potential_min_units: int = 3  # … with at least this many units
    marginal_max_rank: float = 0.3  # low sales: outsells at most 30% of the products
    marginal_max_rules: int = 0  # no cross-selling rule
    marginal_max_repeat: float = 0.2  # few buyers came back for it


@dataclass
class Measures:
    units: int = 0
    prior_units: int = 0
    revenue_fen: int = 0
    list_fen: int = 0  # list price × units
    cost_fen: int | None = 0  # None: some unit has no cost price
    buyers: int = 0
    repeat_buyers: int = 0
    rules: int = 0
    max_lift: float | None = None
    volume_rank: float = 0.0
    members: set = field(default_factory=set)  # buyers in the period (not stored)
    repeaters: set = field(default_factory=set)  # of them, those with ≥ 2 orders of the item

    @property
    def margin(self) -> float | None:
        if self.cost_fen is None or self.revenue_fen <= 0:
            return None
        return (self.revenue_fen - self.cost_fen) / self.revenue_fen

    @property
    def discount_depth(self) -> float | None:
        return 1 - self.revenue_fen / self.list_fen if self.list_fen > 0 else None

    @property
    def growth(self) -> float | None:
        return self.units / self.prior_units - 1 if self.prior_units else None

    @property
    def repeat_share(self) -> float:
        return self.repeat_buyers / self.buyers if self.buyers else 0.0

    def as_json(self) -> dict:
        d = asdict(self)
        d.pop("members")
        d.pop("repeaters")
        d.update(
            margin=self.margin,
            discount_depth=self.discount_depth,
            growth=self.growth,
            repeat_share=self.repeat_share,
        )
        return d


def classify(m: Measures, t: Thresholds = Thresholds()) -> str:
    """The role of one item from its measures (see the module docstring for the order)."""
    depth = m.discount_depth
    margin = m.margin
    if m.cost_fen is not None and margin is not None:
        low_margin, high_margin = margin <= t.traffic_max_margin, margin >= t.profit_min_margin
    else:
        low_margin = depth is not None and depth >= t.traffic_min_discount
        high_margin = depth is not None and depth <= t.profit_max_discount
    if m.units and m.volume_rank >= t.traffic_min_rank and low_margin:
        return Role.TRAFFIC
    if m.units and high_margin and m.repeat_share >= t.profit_min_repeat:
        return Role.PROFIT
    growing = m.prior_units == 0 or (m.growth is not None and m.growth >= t.potential_min_growth)
    if m.units >= t.potential_min_units and growing:
        return Role.POTENTIAL
    if (
        m.volume_rank <= t.marginal_max_rank
        and m.rules <= t.marginal_max_rules
        and m.repeat_share <= t.marginal_max_repeat
    ):
        return Role.MARGINAL
    return Role.REGULAR


def measure(
    *, now: datetime, t: Thresholds = Thresholds()
) -> tuple[dict[int, Measures], dict[int, Measures]]:
    """(product id → measures, bundle id → measures) at ``now``: every active product and every
    product sold in the two periods; every active bundle."""
    period = timedelta(days=t.period_days)
    start = now - period
    lines = [ln for ln in counted_lines(start=now - 2 * period, end=now) if ln.product_id is not None]
    products = {
        p["pk"]: p
        for p in Product.objects.filter(is_active=True).values("pk", "list_price_fen", "cost_price_fen")
    }
    sold = {ln.product_id for ln in lines} - set(products)
    if sold:
        products.update(
            {
                p["pk"]: p
                for p in Product.objects.filter(pk__in=sold).values("pk", "list_price_fen", "cost_price_fen")
            }
        )
    out = {
        pk: Measures(cost_fen=0 if p["cost_price_fen"] is not None else None) for pk, p in products.items()
    }
    orders_of: dict[tuple[int, int], set[int]] = defaultdict(set)  # (product, member) → orders
    current = [ln for ln in lines if ln.paid_at >= start]
    for ln in lines:
        m = out[ln.product_id]
        if ln.member_id is not None:
            orders_of[(ln.product_id, ln.member_id)].add(ln.order_id)
        if ln.paid_at < start:
            m.prior_units += ln.quantity
            continue
        p = products[ln.product_id]
        m.units += ln.quantity
        m.revenue_fen += ln.revenue_fen
        m.list_fen += p["list_price_fen"] * ln.quantity
        if m.cost_fen is not None:
            m.cost_fen += p["cost_price_fen"] * ln.quantity
        if ln.member_id is not None:
            m.members.add(ln.member_id)
    for pk, m in out.items():
        m.repeaters = {mid for mid in m.members if len(orders_of[(pk, mid)]) >= 2}
        m.buyers, m.repeat_buyers = len(m.members), len(m.repeaters)
    baskets = Baskets.from_pairs([ln.order_id for ln in current], [ln.product_id for ln in current])
    if baskets.n:
        itemsets = frequent_itemsets(baskets, min_support=t.assoc_min_support)
        for r in association_rules(itemsets, metric="lift", min_threshold=1.0):
            if r.lift <= 1.0:
                continue  # independence is no association
            for pid in {*r.antecedent, *r.consequent}:
                m = out[pid]
                m.rules += 1
                m.max_lift = r.lift if m.max_lift is None else max(m.max_lift, r.lift)
    volumes = sorted(m.units for m in out.values())
    _rank(out.values(), volumes)
    return out, _bundles(out, volumes)


def _rank(measures, volumes: list[float]) -> None:
    n = len(volumes)
    for m in measures:
        m.volume_rank = bisect_left(volumes, m.units) / n if n else 0.0


def _bundles(products: dict[int, Measures], volumes: list[int]) -> dict[int, Measures]:
    items: dict[int, set[int]] = defaultdict(set)
    for b in Bundle.objects.filter(is_active=True).values("pk", "hot_product_id"):
        items[b["pk"]].add(b["hot_product_id"])
    for bid, pid in BundleItem.objects.filter(bundle_id__in=list(items)).values_list(
        "bundle_id", "product_id"
    ):
        items[bid].add(pid)
    out = {}
    for bid, pids in items.items():
        parts = [products[p] for p in pids if p in products]
        b = Measures()
        for m in parts:
            b.units += m.units
            b.prior_units += m.prior_units
            b.revenue_fen += m.revenue_fen
            b.list_fen += m.list_fen
            b.cost_fen = None if b.cost_fen is None or m.cost_fen is None else b.cost_fen + m.cost_fen
            b.members |= m.members
            b.repeaters |= m.repeaters
            b.rules += m.rules
            if m.max_lift is not None:
                b.max_lift = m.max_lift if b.max_lift is None else max(b.max_lift, m.max_lift)
        if not parts:
            b.cost_fen = None
        b.buyers, b.repeat_buyers = len(b.members), len(b.repeaters)
        mean_units = b.units / len(parts) if parts else 0
        b.volume_rank = bisect_left(volumes, mean_units) / len(volumes) if volumes else 0.0
        out[bid] = b
    return out


def compute_roles(*, now: datetime, t: Thresholds = Thresholds()) -> tuple[dict, dict]:
    """(product id → (role, measures), bundle id → (role, measures)), nothing written."""
    products, bundles = measure(now=now, t=t)
    return (
        {pk: (classify(m, t), m) for pk, m in products.items()},
        {pk: (classify(m, t), m) for pk, m in bundles.items()},
    )


CHUNK = 2_000


def product_roles_compute(*, now: datetime, actor=None, thresholds: Thresholds = Thresholds()) -> dict:
    """Compute every role and store it (rows set by hand untouched): {role: count, "manual_kept": n}.

    Everything is read first; the rows are then written in short transactions of at most
    ``CHUNK`` rows (house rule 3), each re-reading which of its rows were set by hand meanwhile,
    so a manual assignment made during the run is never overwritten. The run is idempotent (a
    crash half-way is repaired by running again); one audit row records it."""
    products, bundles = compute_roles(now=now, t=thresholds)
    wanted = [("product_id", pk, role, m) for pk, (role, m) in products.items()]
    wanted += [("bundle_id", pk, role, m) for pk, (role, m) in bundles.items()]
    counts: dict[str, int] = defaultdict(int)
    kept = 0
    for i in range(0, max(len(wanted), 1), CHUNK):
        chunk = wanted[i : i + CHUNK]
        with transaction.atomic(durable=True):
            existing = {}
            for field_name in ("product_id", "bundle_id"):
                ids = [pk for f, pk, _, _ in chunk if f == field_name]
                for row in ProductRole.objects.filter(**{f"{field_name}__in": ids}):
                    existing[(field_name, getattr(row, field_name))] = row
            updates, creates = [], []
            for field_name, pk, role, m in chunk:
                row = existing.get((field_name, pk))
                if row is not None and row.manual:
                    kept += 1
                    continue
                counts[role] += 1
                values = {
                    "role": role,
                    "discount_cap_bp": thresholds.profit_discount_cap_bp if role == Role.PROFIT else None,
                    "metrics": m.as_json(),
                    "computed_at": now,
                }
                if row is None:
                    creates.append(ProductRole(**{field_name: pk}, **values))
                else:
                    for k, v in values.items():
                        setattr(row, k, v)
                    updates.append(row)
            ProductRole.objects.bulk_create(creates)
            ProductRole.objects.bulk_update(updates, ["role", "discount_cap_bp", "metrics", "computed_at"])
            if i + CHUNK >= len(wanted):
                summary = {**{r: counts.get(r, 0) for r in Role.values}, "manual_kept": kept}
                audit_write(
                    action="analytics.product_roles.compute",
                    object_type="analytics.productrole",
                    after=summary,
                    actor=actor,
                )
    return summary


def _snap(row: ProductRole) -> dict:
    return {"role": row.role, "manual": row.manual, "discount_cap_bp": row.discount_cap_bp}


def product_role_set(
    *,
    product_id: int | None = None,
    bundle_id: int | None = None,
    role: str | None,
    discount_cap_bp: int | None = None,
    actor,
    now: datetime,
) -> ProductRole:
    """Assign a role by hand (``manual=True``: the computation leaves it alone); ``role=None``
    hands the item back to the computation (``manual=False``, role kept until the next run).
    Audited with before and after."""
    if (product_id is None) == (bundle_id is None):
        raise DomainError(E.ANALYTICS_ROLE_TARGET_INVALID, field="product_id")
    if role is not None and role not in Role.values:
        raise DomainError(E.ANALYTICS_ROLE_INVALID, field="role")
    if discount_cap_bp is not None and (
        isinstance(discount_cap_bp, bool)
        or not isinstance(discount_cap_bp, int)
        or not 0 <= discount_cap_bp <= 10_000
    ):
        raise DomainError(E.ANALYTICS_DISCOUNT_CAP_INVALID, field="discount_cap_bp")
    target = {"product_id": product_id} if product_id is not None else {"bundle_id": bundle_id}
    model = Product if product_id is not None else Bundle
    with transaction.atomic(durable=True):
        if not model.objects.filter(pk=product_id if product_id is not None else bundle_id).exists():
            raise DomainError(
                E.ANALYTICS_ROLE_TARGET_INVALID, field="product_id" if product_id else "bundle_id"
            )
        row = ProductRole.objects.select_for_update().filter(**target).first()
        before = _snap(row) if row else None
        if row is None:
            if role is None:
                raise DomainError(E.ANALYTICS_ROLE_INVALID, field="role")
            row = ProductRole(**target, role=role, computed_at=now)
        if role is None:
            row.manual = False
        else:
            row.role, row.manual, row.discount_cap_bp = role, True, discount_cap_bp
        row.save()
        audit_write(
            action="analytics.product_role.set", obj=row, before=before, after=_snap(row), actor=actor
        )
    return row


def product_roles_list(*, role: str | None = None) -> list[dict]:
    """Every stored role with what it is about (SKU/title or bundle code/name)."""
    qs = ProductRole.objects.select_related("product", "bundle").order_by("role", "pk")
    if role:
        qs = qs.filter(role=role)
    out = []
    for r in qs:
        if r.product_id:
            kind, obj_id, code, title = "product", r.product_id, r.product.sku, r.product.title
        else:
            kind, obj_id, code, title = "bundle", r.bundle_id, r.bundle.code, r.bundle.name
        out.append(
            {
                "kind": kind,
                "id": obj_id,
                "code": code,
                "title": title,
                "role": r.role,
                "manual": r.manual,
                "discount_cap_bp": r.discount_cap_bp,
                "metrics": r.metrics,
                "revenue": fen_to_yuan(r.metrics.get("revenue_fen") or 0),
                "computed_at": r.computed_at,
            }
        )
    return out


def one_time_buyers_count(*, now: datetime) -> dict:
    """Churn-prone one-time price-sensitive buyers (the segments preset): who to tell first about
    a traffic/marginal promotion. Uses the stored preset segment's rule when installed."""
    seg = Segment.objects.filter(preset=ONE_TIME_PRESET).first()
    if seg is not None:
        rule = seg.rule
    else:
        rule = next(p["rule"] for p in preset_rules(now=now) if p["preset"] == ONE_TIME_PRESET)
    return {
        "preset": ONE_TIME_PRESET,
        "segment_id": seg.pk if seg else None,
        "count": segment_count(rule, now=now),
    }


def promotion_suggestions(*, now: datetime) -> dict:
    """Traffic and marginal items suggested for promotions (traffic first, by units), profit items
    with their discount cap (discount no deeper), and the one-time buyers to tell first."""
    rows = product_roles_list()
    promote = [r for r in rows if r["role"] in (Role.TRAFFIC, Role.MARGINAL)]
    promote.sort(key=lambda r: (r["role"] != Role.TRAFFIC, -(r["metrics"].get("units") or 0), r["code"]))
    protect = [r for r in rows if r["role"] == Role.PROFIT]
    return {"promote": promote, "protect": protect, "notify_first": one_time_buyers_count(now=now)}
