"""Order rules as the settlement engine sees them (SPEC 6; docs/decisions/0018-promotion-rules.md).

promotions sits below orders (.importlinter), so it cannot build the engine's ``Benefit``; it
returns ``Offer`` objects shaped field for field like ``laoke.orders.engine.Benefit`` (plus
``gift_item_id``, which the engine does not need) and orders maps them one to one.

- Gift rules → ``gift`` offers in the ``gifts`` stage. A cart-product gift (须拍下, 不拍不送) names
  the cart line holding its SKU in ``gift_ref``; when no line holds it, ``gift_ref`` is
  ``"missing:<SKU>"`` — a ref that is not in the cart, so the engine answers ``gift_not_in_cart``
  (``gift_ref=None`` would mean a grant outside the cart, given regardless). Lines holding the
  gift's SKU never count towards the threshold. Thresholds count the whole order
  (``include_special_sale=True``): a gift is not a discount on the lines that earn it.
- ``item_price`` gifts: one offer per qualifying line (unit price ≥ threshold, list price as the
  cart gives it), ``gift_qty`` × the line's quantity (a gift box per item), or one offer for the
  order when ``once_per_order``.
- Bundles → an ``amount_off`` offer in the ``coupons`` stage on the bundle's lines: per complete
  set, the set's price at the lines' unit prices minus the bundle price, times the number of
  complete sets (lines flagged special sale do not make sets); their gift items → ``gift``
  grants, quantity per set × sets. The free-shipping card is issued at settlement
  (``rule_services._bundle_cards_issue``), not priced.
- Member special prices are not offers: ``member_prices()`` gives ``CartLine.member_price_fen``.
- Members-only rules are offered to members only, with ``member_only=True`` (the engine then
  refuses them on a group purchase: ``group_purchase``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from . import selectors
from .models import FullSendMode, FullSendTier, GiftKind, MemberPrice

GIFTS, COUPONS = "gifts", "coupons"
MISSING_PREFIX = "missing:"


@dataclass(frozen=True)
class RuleLine:
    """One cart line as settlement sees it."""

    ref: str
    product_id: int | None
    sku: str
    category_id: int | None
    unit_price_fen: int
    quantity: int
    special_sale: bool = False


@dataclass(frozen=True)
class Offer:
    """One engine benefit, engine-shaped (laoke/orders/engine/inputs.py ``Benefit``)."""

    code: str
    label: str
    kind: str  # "amount_off" | "rate_off" | "gift"
    stage: str  # "coupons" (bundles) | "gifts"
    amount_fen: int = 0
    off_bp: int = 0
    threshold_fen: int = 0
    cap_fen: int | None = None
    eligible_refs: frozenset[str] | None = None
    stackable: bool = True
    repeat: bool = False
    member_only: bool = False
    include_special_sale: bool = False
    gift_ref: str | None = None
    gift_qty: int = 1
    gift_item_id: int | None = None


# --- gifts ------------------------------------------------------------------------------------------


def _gift_offers(rule, lines: Sequence[RuleLine]) -> list[Offer]:
    gift_sku = rule.gift_product.sku if rule.gift_product_id else None
    common = {
        "kind": "gift",
        "stage": GIFTS,
        "member_only": rule.members_only,
        "include_special_sale": True,
        "gift_item_id": rule.gift_item_id,
        "label": rule.name,
    }
    others = [ln for ln in lines if ln.sku != gift_sku] if gift_sku else list(lines)
    if gift_sku:
        holders = [ln.ref for ln in lines if ln.sku == gift_sku]
        common["gift_ref"] = holders[0] if holders else f"{MISSING_PREFIX}{gift_sku}"
        common["eligible_refs"] = frozenset(ln.ref for ln in others)
    code = f"gift:{rule.pk}"
    if rule.kind == GiftKind.PER_THRESHOLD:
        return [
            Offer(
                code=code,
                threshold_fen=rule.threshold_fen,
                repeat=not rule.once_per_order,
                gift_qty=rule.gift_qty,
                **common,
            )
        ]
    if rule.kind == GiftKind.ALWAYS:
        return [Offer(code=code, gift_qty=rule.gift_qty, **common)]
    qualifying = [ln for ln in others if ln.unit_price_fen >= rule.threshold_fen]
    if not qualifying:
        return []
    if rule.once_per_order:
        refs = frozenset(ln.ref for ln in qualifying)
        return [Offer(code=code, gift_qty=rule.gift_qty, **{**common, "eligible_refs": refs})]
    return [
        Offer(
            code=f"{code}:{ln.ref}",
            gift_qty=rule.gift_qty * ln.quantity,
            **{**common, "eligible_refs": frozenset({ln.ref})},
        )
        for ln in qualifying
    ]


# --- bundles ----------------------------------------------------------------------------------------


def bundle_needs(bundle) -> dict[str, int]:
    """SKU → units per complete set (the hot item once, plus the other items)."""
    needs = {bundle.hot_product.sku: 1}
    for item in bundle.items.all():
        needs[item.product.sku] = needs.get(item.product.sku, 0) + item.quantity
    return needs


def bundle_sets(bundle, lines: Sequence[RuleLine]) -> tuple[int, list[RuleLine]]:
    """How many complete sets the cart holds, and the lines that make them (special-sale lines
    make no set: they are priced already)."""
    needs = bundle_needs(bundle)
    held = [ln for ln in lines if ln.sku in needs and not ln.special_sale]
    have: dict[str, int] = {}
    for ln in held:
        have[ln.sku] = have.get(ln.sku, 0) + ln.quantity
    sets = min(have.get(sku, 0) // qty for sku, qty in needs.items())
    return sets, held


def _bundle_offers(bundle, lines: Sequence[RuleLine]) -> list[Offer]:
    sets, held = bundle_sets(bundle, lines)
    if sets == 0:
        return []
    refs = frozenset(ln.ref for ln in held)
    out = []
    if bundle.bundle_price_fen is not None:
        price = {}
        for ln in held:
            price.setdefault(ln.sku, ln.unit_price_fen)
        full = sum(price[sku] * qty for sku, qty in bundle_needs(bundle).items())
        off = full - bundle.bundle_price_fen
        if off > 0:
            out.append(
                Offer(
                    code=f"bundle:{bundle.pk}",
                    label=bundle.name,
                    kind="amount_off",
                    stage=COUPONS,
                    amount_fen=off * sets,
                    eligible_refs=refs,
                    member_only=bundle.members_only,
                )
            )
    for gift in bundle.gifts.all():
        out.append(
            Offer(
                code=f"bundle:{bundle.pk}:gift:{gift.gift_item_id}",
                label=f"{bundle.name}: {gift.gift_item.name}",
                kind="gift",
                stage=GIFTS,
                eligible_refs=refs,
                member_only=bundle.members_only,
                include_special_sale=True,
                gift_qty=gift.quantity * sets,
                gift_item_id=gift.gift_item_id,
            )
        )
    return out


# --- entry points -----------------------------------------------------------------------------------


def order_offers(*, lines: Sequence[RuleLine], is_member: bool, now: datetime) -> list[Offer]:
    """Every gift-rule and bundle offer for this cart, in code order (4 queries; 2 when no
    bundle's hot item is in the cart). Members-only rules are offered only when ``is_member``,
    still with ``member_only=True`` so that the engine refuses them on a group purchase (团购: no
    member benefits)."""
    lines = list(lines)
    out: list[Offer] = []
    for rule in selectors.gift_rule_list().filter(selectors.in_window(now)).order_by("pk"):
        out += _gift_offers(rule, lines)
    skus = {ln.sku for ln in lines}
    bundles = selectors.bundle_list().filter(selectors.in_window(now), hot_product__sku__in=skus)
    for bundle in bundles.order_by("pk"):
        out += _bundle_offers(bundle, lines)
    if not is_member:
        out = [o for o in out if not o.member_only]
    return sorted(out, key=lambda o: o.code)


def member_prices(*, product_ids: Iterable[int], now: datetime) -> dict[int, int]:
    """product id → its member special price now (the lowest if several are active)."""
    out: dict[int, int] = {}
    rows = MemberPrice.objects.filter(selectors.in_window(now), product_id__in=list(product_ids))
    for pid, price in rows.values_list("product_id", "price_fen"):
        out[pid] = min(price, out.get(pid, price))
    return out


def full_send_due(paid_fen: int, now: datetime) -> list[FullSendTier]:
    """The tiers an order paying ``paid_fen`` earns: per active rule the highest tier met
    (``highest``) or every tier met (``cumulative``)."""
    due: list[FullSendTier] = []
    for rule in selectors.full_send_rule_list().filter(selectors.in_window(now)).order_by("pk"):
        met = [t for t in rule.tiers.all() if t.retired_at is None and paid_fen >= t.threshold_fen]
        if not met:
            continue
        due += met if rule.mode == FullSendMode.CUMULATIVE else [max(met, key=lambda t: t.threshold_fen)]
    return due


def full_send_preview(paid_fen: int, now: datetime) -> list[dict]:
    """What ``_full_send_issue`` would issue for an order paying ``paid_fen`` (for the quote)."""
    return [
        {
            "rule_id": t.rule_id,
            "tier_id": t.pk,
            "threshold_fen": t.threshold_fen,
            "template_id": t.template_id,
            "template_name": t.template.name,
            "kind": t.template.kind,
            "amount_off_fen": t.template.amount_off_fen,
        }
        for t in full_send_due(paid_fen, now)
    ]
