"""Order-rule writes (decision 0018): 满就送 rules with tiers, gift rules, bundles and member special
prices — validated completely before anything is written, audited with a before/after snapshot —
and the helpers settlement calls inside its own transaction: ``_full_send_issue`` /
``_full_send_revoke`` (满就送 coupons of an order) and ``_bundle_cards_issue`` (a bundle's
free-shipping card).

Lists inside a rule (tiers, bundle items and gifts) are replaced as a whole when given: an
operator edits the table, not a diff. A 满就送 tier is never deleted (issued coupons name it in
their key): one taken out is retired.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from laoke.catalog.models import GiftItem, Product
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import DomainError
from laoke.members.models import Member

from . import error_codes as E
from . import selectors
from .models import (
    Bundle,
    BundleGift,
    BundleItem,
    Coupon,
    CouponKind,
    CouponState,
    CouponTemplate,
    FullSendMode,
    FullSendRule,
    FullSendTier,
    GiftKind,
    GiftRule,
    MemberPrice,
)
from .rules import RuleLine, bundle_sets, full_send_due
from .services import _coupon_issue, _require_atomic

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$")
MAX_FEN = 10**10
COMMON = ("code", "name", "is_active", "valid_from", "valid_to")


def _bad(field: str) -> DomainError:
    return DomainError(E.RULE_INVALID, field=field)


def _fen(data: dict, name: str, *, positive: bool = False, optional: bool = False) -> None:
    v = data.get(name)
    if v is None and optional:
        return
    if isinstance(v, bool) or not isinstance(v, int) or not (0 < v if positive else 0 <= v) or v > MAX_FEN:
        raise _bad(name)


def _check_common(data: dict) -> None:
    if not isinstance(data.get("code"), str) or not CODE_RE.match(data["code"]):
        raise _bad("code")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise _bad("name")
    if not isinstance(data.get("is_active", True), bool):
        raise _bad("is_active")
    for end in ("valid_from", "valid_to"):
        v = data.get(end)
        if v is not None and (not isinstance(v, datetime) or v.tzinfo is None):
            raise _bad(end)
    if data.get("valid_from") and data.get("valid_to") and data["valid_from"] >= data["valid_to"]:
        raise _bad("valid_to")


def _iso(v):
    return v.isoformat() if isinstance(v, datetime) else v


def _snap(obj, names: Sequence[str]) -> dict[str, Any]:
    return {n: _iso(getattr(obj, n)) for n in names}


def _code_free(model, code: str, exclude_pk: int | None = None) -> None:
    qs = model.objects.filter(code=code)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise DomainError(E.RULE_CODE_TAKEN, field="code", code=code)


def _lock(model, pk: int):
    obj = model.objects.select_for_update().filter(pk=pk).first()
    if obj is None:
        raise DomainError(E.RULE_NOT_FOUND, field="id")
    return obj


def _merged(obj, names: Sequence[str], data: dict) -> dict:
    unknown = set(data) - set(names)
    if unknown:
        raise _bad(sorted(unknown)[0])
    merged = {n: getattr(obj, n) for n in names if hasattr(obj, n)}
    merged.update(data)
    return merged


# --- 满就送 ---------------------------------------------------------------------------------------

FULL_SEND_FIELDS = (*COMMON, "mode", "tiers")


def _check_tiers(tiers) -> list[tuple[int, CouponTemplate]]:
    if not isinstance(tiers, list) or not tiers or len(tiers) > 20:
        raise _bad("tiers")
    out, seen = [], set()
    for t in tiers:
        if not isinstance(t, dict):
            raise _bad("tiers")
        _fen(t, "threshold_fen", positive=True)
        if t["threshold_fen"] in seen:
            raise _bad("tiers")
        seen.add(t["threshold_fen"])
        tpl = CouponTemplate.objects.filter(pk=t.get("template_id")).first()
        if tpl is None or not isinstance(t.get("template_id"), int):
            raise _bad("template_id")
        out.append((t["threshold_fen"], tpl))
    return sorted(out, key=lambda x: x[0])


def _check_full_send(data: dict) -> list[tuple[int, CouponTemplate]]:
    _check_common(data)
    if data.get("mode", FullSendMode.HIGHEST) not in FullSendMode.values:
        raise _bad("mode")
    return _check_tiers(data.get("tiers"))


def _full_send_snapshot(rule: FullSendRule) -> dict:
    tiers = rule.tiers.filter(retired_at__isnull=True).order_by("threshold_fen")
    return {
        **_snap(rule, (*COMMON, "mode")),
        "tiers": [{"threshold_fen": t.threshold_fen, "template_id": t.template_id} for t in tiers],
    }


def _tiers_replace(rule: FullSendRule, tiers: list[tuple[int, CouponTemplate]], now: datetime) -> None:
    current = {t.threshold_fen: t for t in rule.tiers.filter(retired_at__isnull=True)}
    wanted = dict(tiers)
    for threshold, tier in current.items():
        if threshold not in wanted:
            tier.retired_at = now
            tier.save(update_fields=["retired_at"])
    for threshold, tpl in wanted.items():
        tier = current.get(threshold)
        if tier is None:
            FullSendTier.objects.create(rule=rule, threshold_fen=threshold, template=tpl)
        elif tier.template_id != tpl.pk:
            # A new template is a new tier: coupons issued under the old one keep their tier.
            tier.retired_at = now
            tier.save(update_fields=["retired_at"])
            FullSendTier.objects.create(rule=rule, threshold_fen=threshold, template=tpl)


def _full_send_rule_create(*, data: dict, actor=None) -> FullSendRule:
    _require_atomic()
    data = {**data}
    data.setdefault("mode", FullSendMode.HIGHEST)
    tiers = _check_full_send(data)
    _code_free(FullSendRule, data["code"])
    now = clock.now()
    fields = {k: data[k] for k in (*COMMON, "mode") if k in data}
    rule = FullSendRule.objects.create(**fields, created_at=now, updated_at=now)
    _tiers_replace(rule, tiers, now)
    audit_write(action="full_send_rule.create", obj=rule, after=_full_send_snapshot(rule), actor=actor)
    return rule


def full_send_rule_create(*, data: dict, actor=None, idem: idempotency.Claim | None = None) -> FullSendRule:
    """A 满就送 rule: ``code``, ``name``, ``mode`` (highest | cumulative), ``tiers`` =
    [{threshold_fen, template_id}], optional ``is_active``, ``valid_from``, ``valid_to``."""
    with transaction.atomic(durable=True):
        rule = _full_send_rule_create(data=data, actor=actor)
        idempotency.complete(idem, rule)
    return rule


def full_send_rule_update(
    *, rule_id: int, data: dict, actor=None, idem: idempotency.Claim | None = None
) -> FullSendRule:
    with transaction.atomic(durable=True):
        rule = _lock(FullSendRule, rule_id)
        before = _full_send_snapshot(rule)
        merged = _merged(rule, FULL_SEND_FIELDS, data)
        merged["tiers"] = data["tiers"] if "tiers" in data else before["tiers"]
        tiers = _check_full_send(merged)
        _code_free(FullSendRule, merged["code"], exclude_pk=rule.pk)
        now = clock.now()
        for k in (*COMMON, "mode"):
            setattr(rule, k, merged[k])
        rule.updated_at = now
        rule.save()
        if "tiers" in data:
            _tiers_replace(rule, tiers, now)
        b, a = diff(before, _full_send_snapshot(rule))
        audit_write(action="full_send_rule.update", obj=rule, before=b, after=a, actor=actor)
        idempotency.complete(idem, rule)
    return rule


def _fullsend_key(order_ref: str, tier_id: int) -> str:
    return f"fullsend:{order_ref}:{tier_id}"


def _full_send_issue(*, member: Member | None, order_ref: str, paid_fen: int, now: datetime) -> list[Coupon]:
    """Issue the 满就送 coupons an order earns, inside the settlement's transaction. Idempotent by
    ``order_ref`` (keys ``fullsend:{order_ref}:{tier_id}``: a repeat returns the same coupons).
    No member (or a group purchase, for which settlement passes ``member=None``) → nothing. A
    tier whose template cannot issue (inactive, ended, limit or budget reached) is skipped and
    recorded in the audit row: a coupon the shop ran out of never fails a sale."""
    _require_atomic()
    if member is None or paid_fen <= 0:
        return []
    if not order_ref or len(order_ref) > 64:
        raise _bad("order_ref")
    out: list[Coupon] = []
    fresh, skipped = [], {}
    for tier in full_send_due(paid_fen, now):
        key = _fullsend_key(order_ref, tier.pk)
        existing = Coupon.objects.filter(issue_key=key).first()
        if existing is not None:
            out.append(existing)
            continue
        try:
            with transaction.atomic():
                coupon = _coupon_issue(template=tier.template, member=member, key=key, now=now)
        except DomainError as exc:
            skipped[str(tier.pk)] = exc.code
            continue
        except IntegrityError:  # the same order settled concurrently: its coupon stands
            coupon = Coupon.objects.get(issue_key=key)
        out.append(coupon)
        fresh.append(coupon.code)
    if fresh or skipped:
        audit_write(
            action="full_send.issue",
            object_type="promotions.order",
            object_id=order_ref,
            after={"member": member.pk, "paid_fen": paid_fen, "issued": fresh, "skipped": skipped},
        )
    return out


def _full_send_revoke(*, order_ref: str, paid_fen_after: int, now: datetime) -> list[Coupon]:
    """After a refund: void the order's still-unused 满就送 coupons whose tier the remaining paid
    amount no longer meets. Coupons already redeemed stay (the audit row lists them); nothing
    lower is issued in exchange — settlement may call ``_full_send_issue`` again with the
    remaining amount if the shop wants the lower tier given (its keys are per tier)."""
    _require_atomic()
    head = f"fullsend:{order_ref}"
    coupons = [
        c
        for c in Coupon.objects.filter(issue_key__startswith=head + ":").order_by("pk")
        if c.issue_key.rpartition(":")[0] == head and c.issue_key.rpartition(":")[2].isdigit()
    ]
    tiers = FullSendTier.objects.in_bulk([int(c.issue_key.rpartition(":")[2]) for c in coupons])
    voided: list[Coupon] = []
    kept: list[dict] = []
    for c in coupons:
        tier = tiers.get(int(c.issue_key.rpartition(":")[2]))
        if tier is None or paid_fen_after >= tier.threshold_fen:
            continue
        if Coupon.objects.filter(pk=c.pk, state=CouponState.ISSUED).update(
            state=CouponState.VOIDED, closed_at=now
        ):
            c.refresh_from_db()
            voided.append(c)
            continue
        c.refresh_from_db()
        if c.state == CouponState.REDEEMED:
            kept.append({"code": c.code, "order_ref": c.order_ref})
    if voided or kept:
        audit_write(
            action="full_send.revoke",
            object_type="promotions.order",
            object_id=order_ref,
            after={
                "paid_fen_after": paid_fen_after,
                "voided": [c.code for c in voided],
                "kept_redeemed": kept,
            },
        )
    return voided


# --- gift rules -----------------------------------------------------------------------------------

GIFT_FIELDS = (
    *COMMON,
    "kind",
    "threshold_fen",
    "once_per_order",
    "gift_product",
    "gift_item",
    "gift_qty",
    "members_only",
)


def _check_gift(data: dict) -> None:
    _check_common(data)
    if data.get("kind") not in GiftKind.values:
        raise _bad("kind")
    _fen(data, "threshold_fen", positive=data["kind"] != GiftKind.ALWAYS)
    if data["kind"] == GiftKind.ALWAYS and data["threshold_fen"]:
        raise _bad("threshold_fen")
    product, item = data.get("gift_product"), data.get("gift_item")
    if (product is None) == (item is None):
        raise _bad("gift_item" if product is None else "gift_product")
    if product is not None and not (isinstance(product, Product) and product.is_active):
        raise _bad("gift_product")
    if item is not None and not (isinstance(item, GiftItem) and item.is_active):
        raise _bad("gift_item")
    qty = data.get("gift_qty", 1)
    if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= 1000:
        raise _bad("gift_qty")
    for flag in ("once_per_order", "members_only"):
        if not isinstance(data.get(flag, False), bool):
            raise _bad(flag)


def _gift_snapshot(rule: GiftRule) -> dict:
    snap = _snap(rule, [f for f in GIFT_FIELDS if f not in ("gift_product", "gift_item")])
    return {**snap, "gift_product": rule.gift_product_id, "gift_item": rule.gift_item_id}


def _gift_rule_create(*, data: dict, actor=None) -> GiftRule:
    _require_atomic()
    data = {"threshold_fen": 0, **data}
    unknown = set(data) - set(GIFT_FIELDS)
    if unknown:
        raise _bad(sorted(unknown)[0])
    _check_gift(data)
    _code_free(GiftRule, data["code"])
    now = clock.now()
    rule = GiftRule.objects.create(**data, created_at=now, updated_at=now)
    audit_write(action="gift_rule.create", obj=rule, after=_gift_snapshot(rule), actor=actor)
    return rule


def gift_rule_create(*, data: dict, actor=None, idem: idempotency.Claim | None = None) -> GiftRule:
    """A gift rule: ``kind`` per_threshold | item_price | always, ``threshold_fen``, exactly one
    of ``gift_product`` (须拍下: a cart product) or ``gift_item`` (a grant outside the cart),
    ``gift_qty``, ``once_per_order``, ``members_only`` and the common fields."""
    with transaction.atomic(durable=True):
        rule = _gift_rule_create(data=data, actor=actor)
        idempotency.complete(idem, rule)
    return rule


def gift_rule_update(
    *, rule_id: int, data: dict, actor=None, idem: idempotency.Claim | None = None
) -> GiftRule:
    with transaction.atomic(durable=True):
        rule = _lock(GiftRule, rule_id)
        before = _gift_snapshot(rule)
        merged = _merged(rule, GIFT_FIELDS, data)
        _check_gift(merged)
        _code_free(GiftRule, merged["code"], exclude_pk=rule.pk)
        for k, v in merged.items():
            setattr(rule, k, v)
        rule.updated_at = clock.now()
        rule.save()
        b, a = diff(before, _gift_snapshot(rule))
        audit_write(action="gift_rule.update", obj=rule, before=b, after=a, actor=actor)
        idempotency.complete(idem, rule)
    return rule


# --- bundles --------------------------------------------------------------------------------------

BUNDLE_FIELDS = (*COMMON, "hot_product", "bundle_price_fen", "free_shipping_template", "members_only")
BUNDLE_LISTS = ("items", "gifts")


def _check_bundle(data: dict) -> tuple[list[tuple[Product, int]], list[tuple[GiftItem, int]]]:
    _check_common(data)
    hot = data.get("hot_product")
    if not isinstance(hot, Product) or not hot.is_active:
        raise _bad("hot_product")
    _fen(data, "bundle_price_fen", optional=True)
    card = data.get("free_shipping_template")
    if card is not None and not (isinstance(card, CouponTemplate) and card.kind == CouponKind.FREE_SHIPPING):
        raise _bad("free_shipping_template")
    if not isinstance(data.get("members_only", False), bool):
        raise _bad("members_only")

    def pairs(name, model, key):
        rows = data.get(name) or []
        if not isinstance(rows, list) or len(rows) > 20:
            raise _bad(name)
        out, seen = [], {hot.pk} if model is Product else set()
        for row in rows:
            qty = row.get("quantity", 1) if isinstance(row, dict) else None
            obj = (
                model.objects.filter(pk=row.get(key), is_active=True).first()
                if isinstance(row, dict)
                else None
            )
            if obj is None or obj.pk in seen:
                raise _bad(key)
            if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= 100:
                raise _bad("quantity")
            seen.add(obj.pk)
            out.append((obj, qty))
        return out

    items = pairs("items", Product, "product_id")
    gifts = pairs("gifts", GiftItem, "gift_item_id")
    if data.get("bundle_price_fen") is None and not gifts and card is None:
        raise _bad("bundle_price_fen")  # a bundle that gives nothing
    return items, gifts


def _bundle_snapshot(b: Bundle) -> dict:
    return {
        **_snap(b, (*COMMON, "bundle_price_fen", "members_only")),
        "hot_product": b.hot_product_id,
        "free_shipping_template": b.free_shipping_template_id,
        "items": [{"product_id": i.product_id, "quantity": i.quantity} for i in b.items.order_by("pk")],
        "gifts": [{"gift_item_id": g.gift_item_id, "quantity": g.quantity} for g in b.gifts.order_by("pk")],
    }


def _bundle_lists(bundle: Bundle, items, gifts) -> None:
    bundle.items.all().delete()
    bundle.gifts.all().delete()
    BundleItem.objects.bulk_create([BundleItem(bundle=bundle, product=p, quantity=q) for p, q in items])
    BundleGift.objects.bulk_create([BundleGift(bundle=bundle, gift_item=g, quantity=q) for g, q in gifts])


def bundle_create(*, data: dict, actor=None, idem: idempotency.Claim | None = None) -> Bundle:
    """A bundle: ``hot_product``, ``items`` = [{product_id, quantity}], ``bundle_price_fen``
    (the price of one complete set; none = the lines' own prices), ``gifts`` =
    [{gift_item_id, quantity}] per set, ``free_shipping_template`` (a 包邮卡 issued per set)."""
    unknown = set(data) - {*BUNDLE_FIELDS, *BUNDLE_LISTS}
    if unknown:
        raise _bad(sorted(unknown)[0])
    with transaction.atomic(durable=True):
        items, gifts = _check_bundle(data)
        _code_free(Bundle, data["code"])
        now = clock.now()
        bundle = Bundle.objects.create(
            **{k: v for k, v in data.items() if k in BUNDLE_FIELDS}, created_at=now, updated_at=now
        )
        _bundle_lists(bundle, items, gifts)
        audit_write(action="bundle.create", obj=bundle, after=_bundle_snapshot(bundle), actor=actor)
        idempotency.complete(idem, bundle)
    return bundle


def bundle_update(*, bundle_id: int, data: dict, actor=None, idem: idempotency.Claim | None = None) -> Bundle:
    with transaction.atomic(durable=True):
        bundle = _lock(Bundle, bundle_id)
        before = _bundle_snapshot(bundle)
        merged = _merged(bundle, (*BUNDLE_FIELDS, *BUNDLE_LISTS), data)
        for name in BUNDLE_LISTS:
            merged[name] = data[name] if name in data else before[name]
        items, gifts = _check_bundle(merged)
        _code_free(Bundle, merged["code"], exclude_pk=bundle.pk)
        for k in BUNDLE_FIELDS:
            setattr(bundle, k, merged[k])
        bundle.updated_at = clock.now()
        bundle.save()
        if any(name in data for name in BUNDLE_LISTS):
            _bundle_lists(bundle, items, gifts)
        b, a = diff(before, _bundle_snapshot(bundle))
        audit_write(action="bundle.update", obj=bundle, before=b, after=a, actor=actor)
        idempotency.complete(idem, bundle)
    return bundle


def _bundle_cards_issue(
    *, member: Member | None, order_ref: str, lines: Sequence[RuleLine], now: datetime
) -> list[Coupon]:
    """Inside settlement's transaction: one free-shipping card per complete set of each active
    bundle that gives one, keys ``bundle:{order_ref}:{bundle_id}:{n}`` (idempotent). Like
    满就送, a card the template can no longer issue is skipped, never failing the sale."""
    _require_atomic()
    if member is None:
        return []
    if not order_ref or len(order_ref) > 64:
        raise _bad("order_ref")
    out: list[Coupon] = []
    fresh, skipped = [], {}
    bundles = selectors.bundle_list().filter(selectors.in_window(now), free_shipping_template__isnull=False)
    for bundle in bundles.order_by("pk"):
        sets, _ = bundle_sets(bundle, lines)
        for n in range(1, sets + 1):
            key = f"bundle:{order_ref}:{bundle.pk}:{n}"
            existing = Coupon.objects.filter(issue_key=key).first()
            if existing is not None:
                out.append(existing)
                continue
            try:
                with transaction.atomic():
                    coupon = _coupon_issue(
                        template=bundle.free_shipping_template, member=member, key=key, now=now
                    )
            except DomainError as exc:
                skipped[str(bundle.pk)] = exc.code
                break
            except IntegrityError:  # the same order settled concurrently: its card stands
                coupon = Coupon.objects.get(issue_key=key)
            out.append(coupon)
            fresh.append(coupon.code)
    if fresh or skipped:
        audit_write(
            action="bundle.cards_issue",
            object_type="promotions.order",
            object_id=order_ref,
            after={"member": member.pk, "issued": fresh, "skipped": skipped},
        )
    return out


# --- member special prices ------------------------------------------------------------------------

MEMBER_PRICE_FIELDS = ("product", "price_fen", "is_active", "valid_from", "valid_to")


def _check_member_price(data: dict) -> None:
    product = data.get("product")
    if not isinstance(product, Product):
        raise _bad("product")
    _fen(data, "price_fen")
    if data["price_fen"] >= product.list_price_fen:
        raise _bad("price_fen")  # a member price is below the list price
    _check_common({**data, "code": "x", "name": "x"})


def member_price_create(*, data: dict, actor=None, idem: idempotency.Claim | None = None) -> MemberPrice:
    """会员特价: ``product``, ``price_fen`` (below its list price), optional window and flag."""
    unknown = set(data) - set(MEMBER_PRICE_FIELDS)
    if unknown:
        raise _bad(sorted(unknown)[0])
    _check_member_price(data)
    now = clock.now()
    with transaction.atomic(durable=True):
        mp = MemberPrice.objects.create(**data, created_at=now, updated_at=now)
        audit_write(
            action="member_price.create",
            obj=mp,
            after={**_snap(mp, MEMBER_PRICE_FIELDS[1:]), "product": mp.product_id},
            actor=actor,
        )
        idempotency.complete(idem, mp)
    return mp


def member_price_update(
    *, price_id: int, data: dict, actor=None, idem: idempotency.Claim | None = None
) -> MemberPrice:
    with transaction.atomic(durable=True):
        mp = _lock(MemberPrice, price_id)
        before = {**_snap(mp, MEMBER_PRICE_FIELDS[1:]), "product": mp.product_id}
        merged = _merged(mp, MEMBER_PRICE_FIELDS, data)
        _check_member_price(merged)
        for k, v in merged.items():
            setattr(mp, k, v)
        mp.updated_at = clock.now()
        mp.save()
        b, a = diff(before, {**_snap(mp, MEMBER_PRICE_FIELDS[1:]), "product": mp.product_id})
        audit_write(action="member_price.update", obj=mp, before=b, after=a, actor=actor)
        idempotency.complete(idem, mp)
    return mp
