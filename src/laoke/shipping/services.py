"""Writes of shipping rules: rule sets with their rules, postage table and region groups
(validated, audited), one rule or rate at a time for the console, and the seed presets.

Every write locks its rule set row; activation locks every rule set in pk order first, so two
concurrent activations queue and the second retires the first instead of tripping the
one-active index. ``check_*`` run the same validation without writing (console forms).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection, transaction

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.core.validation import check_choice, check_length, require

from .error_codes import (
    SHIPPING_AMOUNT_INVALID,
    SHIPPING_RULE_AMOUNT_MISMATCH,
    SHIPPING_RULE_DUPLICATE,
    SHIPPING_RULE_SET_ACTIVE,
    SHIPPING_RULE_SET_CODE_TAKEN,
)
from .models import (
    Courier,
    Outcome,
    PostageRate,
    RegionAssignment,
    RegionGroup,
    RuleMember,
    RuleRegion,
    ShippingRule,
    ShippingRuleSet,
)
from .quote import AMOUNT_MAX, province_normalise

CODE_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
RULE_FIELDS = (
    "rank",
    "code",
    "name",
    "member",
    "region",
    "min_subtotal_fen",
    "outcome",
    "amount_fen",
    "gift_alternative",
)
# Test-only switch for the negative control of the activation race: no lock on the rule sets.
_UNGUARDED_FOR_TESTS = False
SET_CHANGEABLE = ("name", "old_customer_min_orders", "old_customer_window_months", "is_active")


def _need_transaction(name: str) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError(f"{name} needs the caller's transaction")


def _int(field: str, value, lo: int, hi: int, error=FIELD_INVALID) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DomainError(error, field=field)
    return value


def _code(field: str, value) -> str:
    require(field, value)
    check_length(field, value, 40)
    if not CODE_RE.match(value):
        raise DomainError(FIELD_INVALID, field=field)
    return value


def _name(field: str, value) -> str:
    require(field, value)
    check_length(field, value, 60)
    return value.strip()


# --- validation (no writes) -----------------------------------------------------------------------


def check_rule(data: dict[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """A rule's fields, validated and completed with defaults."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise DomainError(FIELD_INVALID, field=f"{prefix}{sorted(unknown)[0]}")
    out = {
        "rank": _int(f"{prefix}rank", data.get("rank"), 0, 999),
        "code": _code(f"{prefix}code", data.get("code")),
        "name": _name(f"{prefix}name", data.get("name")),
        "member": data.get("member"),
        "region": data.get("region", RuleRegion.ANY),
        "min_subtotal_fen": _int(
            f"{prefix}min_subtotal_fen",
            data.get("min_subtotal_fen", 0),
            0,
            AMOUNT_MAX,
            SHIPPING_AMOUNT_INVALID,
        ),
        "outcome": data.get("outcome"),
        "amount_fen": _int(
            f"{prefix}amount_fen", data.get("amount_fen", 0), 0, AMOUNT_MAX, SHIPPING_AMOUNT_INVALID
        ),
        "gift_alternative": bool(data.get("gift_alternative", False)),
    }
    check_choice(f"{prefix}member", out["member"], RuleMember.values)
    check_choice(f"{prefix}region", out["region"], RuleRegion.values)
    check_choice(f"{prefix}outcome", out["outcome"], Outcome.values)
    if out["outcome"] not in (Outcome.REDUCE, Outcome.FLAT) and out["amount_fen"]:
        raise DomainError(SHIPPING_RULE_AMOUNT_MISMATCH, field=f"{prefix}amount_fen")
    return out


def check_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [check_rule(r, prefix=f"rules[{i}].") for i, r in enumerate(rules)]
    for key in ("rank", "code"):
        seen: set = set()
        for r in out:
            if r[key] in seen:
                raise DomainError(SHIPPING_RULE_DUPLICATE, field=key, value=r[key])
            seen.add(r[key])
    return out


def check_rate(data: dict[str, Any], *, prefix: str = "") -> dict[str, Any]:
    unknown = set(data) - {"courier", "region_group", "postage_fen"}
    if unknown:
        raise DomainError(FIELD_INVALID, field=f"{prefix}{sorted(unknown)[0]}")
    check_choice(f"{prefix}courier", data.get("courier"), Courier.values)
    check_choice(f"{prefix}region_group", data.get("region_group"), RegionGroup.values)
    return {
        "courier": data["courier"],
        "region_group": data["region_group"],
        "postage_fen": _int(
            f"{prefix}postage_fen", data.get("postage_fen"), 0, AMOUNT_MAX, SHIPPING_AMOUNT_INVALID
        ),
    }


def check_rates(rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [check_rate(r, prefix=f"rates[{i}].") for i, r in enumerate(rates)]
    seen: set = set()
    for r in out:
        key = (r["courier"], r["region_group"])
        if key in seen:
            raise DomainError(SHIPPING_RULE_DUPLICATE, field="rates", value="/".join(key))
        seen.add(key)
    return out


def check_regions(regions: dict[str, str]) -> dict[str, str]:
    if not isinstance(regions, dict):
        raise DomainError(FIELD_INVALID, field="regions")
    out: dict[str, str] = {}
    for raw, group in regions.items():
        province = province_normalise(raw, field="regions")
        check_choice(f"regions.{raw}", group, [RegionGroup.REMOTE, RegionGroup.HMT])
        if province in out:
            raise DomainError(SHIPPING_RULE_DUPLICATE, field="regions", value=province)
        out[province] = group
    return out


def check_rule_set(*, name=None, old_customer_min_orders=None, old_customer_window_months=None) -> None:
    if name is not None:
        _name("name", name)
    if old_customer_min_orders is not None:
        _int("old_customer_min_orders", old_customer_min_orders, 1, 10_000)
    if old_customer_window_months is not None:
        _int("old_customer_window_months", old_customer_window_months, 1, 120)


# --- snapshots -------------------------------------------------------------------------------------


def _snapshot(rs: ShippingRuleSet) -> dict[str, Any]:
    return {
        "code": rs.code,
        "name": rs.name,
        "is_active": rs.is_active,
        "old_customer_min_orders": rs.old_customer_min_orders,
        "old_customer_window_months": rs.old_customer_window_months,
        "rules": [
            {k: getattr(r, k) for k in RULE_FIELDS}
            for r in ShippingRule.objects.filter(rule_set=rs).order_by("rank")
        ],
        "rates": sorted(
            [r.courier, r.region_group, r.postage_fen] for r in PostageRate.objects.filter(rule_set=rs)
        ),
        "regions": dict(
            sorted(RegionAssignment.objects.filter(rule_set=rs).values_list("province", "region_group"))
        ),
    }


# --- helpers (need the caller's transaction) ---------------------------------------------------------


def _lock(rule_set_id: int) -> ShippingRuleSet:
    rs = ShippingRuleSet.objects.select_for_update().filter(pk=rule_set_id).first()
    if rs is None:
        raise DomainError(NOT_FOUND, field="rule_set_id")
    return rs


def _lock_all() -> None:
    if not _UNGUARDED_FOR_TESTS:
        list(ShippingRuleSet.objects.select_for_update().order_by("pk").values_list("pk", flat=True))


def _activate(rs: ShippingRuleSet, actor) -> None:
    """Lock every rule set in pk order, retire the active one, activate ``rs``."""
    _need_transaction("_activate")
    _lock_all()
    for other in ShippingRuleSet.objects.filter(is_active=True).exclude(pk=rs.pk):
        ShippingRuleSet.objects.filter(pk=other.pk).update(is_active=False, updated_at=clock.now())
        audit_write(
            action="shipping_rule_set.deactivate",
            obj=other,
            before={"is_active": True},
            after={"is_active": False},
            actor=actor,
        )
    ShippingRuleSet.objects.filter(pk=rs.pk).update(is_active=True, updated_at=clock.now())
    rs.is_active = True


def _replace_rules(rs: ShippingRuleSet, rules: list[dict[str, Any]]) -> None:
    ShippingRule.objects.filter(rule_set=rs).delete()
    ShippingRule.objects.bulk_create([ShippingRule(rule_set=rs, **r) for r in rules])


def _replace_rates(rs: ShippingRuleSet, rates: list[dict[str, Any]]) -> None:
    PostageRate.objects.filter(rule_set=rs).delete()
    PostageRate.objects.bulk_create([PostageRate(rule_set=rs, **r) for r in rates])


def _replace_regions(rs: ShippingRuleSet, regions: dict[str, str]) -> None:
    RegionAssignment.objects.filter(rule_set=rs).delete()
    RegionAssignment.objects.bulk_create(
        [RegionAssignment(rule_set=rs, province=p, region_group=g) for p, g in regions.items()]
    )


def _rule_set_create(
    *,
    code: str,
    name: str,
    old_customer_min_orders: int = 1,
    old_customer_window_months: int | None = None,
    is_active: bool = False,
    rules: list[dict[str, Any]] = (),
    rates: list[dict[str, Any]] = (),
    regions: dict[str, str] | None = None,
    actor=None,
) -> ShippingRuleSet:
    _need_transaction("_rule_set_create")
    _code("code", code)
    check_rule_set(
        name=name,
        old_customer_min_orders=old_customer_min_orders,
        old_customer_window_months=old_customer_window_months,
    )
    rules, rates, regions = check_rules(list(rules)), check_rates(list(rates)), check_regions(regions or {})
    if ShippingRuleSet.objects.filter(code=code).exists():
        raise DomainError(SHIPPING_RULE_SET_CODE_TAKEN, field="code", code=code)
    now = clock.now()
    rs = ShippingRuleSet.objects.create(
        code=code,
        name=name.strip(),
        old_customer_min_orders=old_customer_min_orders,
        old_customer_window_months=old_customer_window_months,
        created_at=now,
        updated_at=now,
    )
    _replace_rules(rs, rules)
    _replace_rates(rs, rates)
    _replace_regions(rs, regions)
    if is_active:
        _activate(rs, actor)
    audit_write(action="shipping_rule_set.create", obj=rs, after=_snapshot(rs), actor=actor)
    return rs


# --- public services ------------------------------------------------------------------------------


def shipping_rule_set_create(*, idem: idempotency.Claim | None = None, **spec: Any) -> ShippingRuleSet:
    """A rule set with its rules, postage table and regions (validated, audited)."""
    with transaction.atomic(durable=True):
        rs = _rule_set_create(**spec)
        idempotency.complete(idem, rs)
    return rs


def shipping_rule_set_update(
    *, rule_set_id: int, data: dict[str, Any], actor=None, idem: idempotency.Claim | None = None
) -> ShippingRuleSet:
    """Change a rule set: scalars of ``SET_CHANGEABLE``; ``rules``, ``rates`` and ``regions``
    replace the whole list (what an operator edits is the table, not a diff). Activating retires
    the active set; the active set cannot be deactivated (activate another)."""
    unknown = set(data) - set(SET_CHANGEABLE) - {"rules", "rates", "regions"}
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    check_rule_set(
        name=data.get("name"),
        old_customer_min_orders=data.get("old_customer_min_orders"),
        old_customer_window_months=data.get("old_customer_window_months"),
    )
    if "old_customer_min_orders" in data and data["old_customer_min_orders"] is None:
        raise DomainError(FIELD_INVALID, field="old_customer_min_orders")
    rules = check_rules(list(data["rules"])) if data.get("rules") is not None else None
    rates = check_rates(list(data["rates"])) if data.get("rates") is not None else None
    regions = check_regions(data["regions"]) if data.get("regions") is not None else None
    with transaction.atomic(durable=True):
        if data.get("is_active"):
            _lock_all()  # before our own row: every activation locks in the same (pk) order
        rs = _lock(rule_set_id)
        before = _snapshot(rs)
        if data.get("is_active") is False and rs.is_active:
            raise DomainError(SHIPPING_RULE_SET_ACTIVE, field="is_active")
        for key in ("name", "old_customer_min_orders", "old_customer_window_months"):
            if key in data:
                setattr(rs, key, data[key].strip() if key == "name" else data[key])
        rs.updated_at = clock.now()
        rs.save(update_fields=["name", "old_customer_min_orders", "old_customer_window_months", "updated_at"])
        if rules is not None:
            _replace_rules(rs, rules)
        if rates is not None:
            _replace_rates(rs, rates)
        if regions is not None:
            _replace_regions(rs, regions)
        if data.get("is_active") and not rs.is_active:
            _activate(rs, actor)
        b, a = diff(before, _snapshot(rs))
        if a:
            audit_write(action="shipping_rule_set.update", obj=rs, before=b, after=a, actor=actor)
        idempotency.complete(idem, rs)
    return rs


def shipping_rule_save(
    *, rule_set: ShippingRuleSet, data: dict[str, Any], rule_id: int | None = None, actor=None
) -> ShippingRule:
    """Add one rule to a rule set, or change one (the console's rule page)."""
    with transaction.atomic(durable=True):
        rs = _lock(rule_set.pk)
        before = _snapshot(rs)
        rules = [
            {k: getattr(r, k) for k in RULE_FIELDS}
            for r in ShippingRule.objects.filter(rule_set=rs).order_by("rank")
            if r.pk != rule_id
        ]
        if rule_id is not None and not ShippingRule.objects.filter(rule_set=rs, pk=rule_id).exists():
            raise DomainError(NOT_FOUND, field="rule_id")
        new = check_rule(data)
        check_rules([*rules, new])
        if rule_id is None:
            rule = ShippingRule.objects.create(rule_set=rs, **new)
        else:
            ShippingRule.objects.filter(pk=rule_id).update(**new)
            rule = ShippingRule.objects.get(pk=rule_id)
        b, a = diff(before, _snapshot(rs))
        audit_write(action="shipping_rule_set.update", obj=rs, before=b, after=a, actor=actor)
    return rule


def shipping_rule_delete(*, rule_id: int, actor=None) -> None:
    rule = ShippingRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise DomainError(NOT_FOUND, field="rule_id")
    with transaction.atomic(durable=True):
        rs = _lock(rule.rule_set_id)
        before = _snapshot(rs)
        ShippingRule.objects.filter(pk=rule_id).delete()
        b, a = diff(before, _snapshot(rs))
        audit_write(action="shipping_rule_set.update", obj=rs, before=b, after=a, actor=actor)


def postage_rate_save(
    *, rule_set: ShippingRuleSet, courier: str, region_group: str, postage_fen: int, actor=None
) -> PostageRate:
    """Set one cell of the postage table (the console's postage page)."""
    cell = check_rate({"courier": courier, "region_group": region_group, "postage_fen": postage_fen})
    with transaction.atomic(durable=True):
        rs = _lock(rule_set.pk)
        before = _snapshot(rs)
        rate, _ = PostageRate.objects.update_or_create(
            rule_set=rs,
            courier=cell["courier"],
            region_group=cell["region_group"],
            defaults={"postage_fen": cell["postage_fen"]},
        )
        b, a = diff(before, _snapshot(rs))
        if a:
            audit_write(action="shipping_rule_set.update", obj=rs, before=b, after=a, actor=actor)
    return rate


from .presets import shipping_presets_install  # noqa: E402  (re-exported: the public service)

__all__ = [
    "check_rule",
    "check_rule_set",
    "postage_rate_save",
    "shipping_presets_install",
    "shipping_rule_delete",
    "shipping_rule_save",
    "shipping_rule_set_create",
    "shipping_rule_set_update",
]
