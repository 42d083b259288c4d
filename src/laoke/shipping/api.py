"""/api/v1/shipping: the shipping quote (writes nothing) and the rule sets (read, preset install,
change — validated by the services, audited, Idempotency-Key accepted).

Reading and quoting need ``shipping.view_shippingruleset`` and the ``value:read`` scope (the till,
POS and service staff quote); changing rules is the marketers' (``value:write``: shipping is
priced like the other value rules until a ``shipping:write`` scope exists).
"""

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema
from pydantic import ConfigDict

from laoke.core.api import idempotent_write, lang_of, require
from laoke.core.errors import FIELD_INVALID, NOT_FOUND, DomainError
from laoke.members.selectors import member_visible_queryset

from . import selectors, services
from .models import ShippingRuleSet
from .quote import shipping_quote

router = Router(tags=["shipping"])
VIEW = ("shipping.view_shippingruleset", "value:read")


class In(Schema):
    """Request bodies: an unknown field is a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class QuoteIn(In):
    subtotal_fen: int = Field(..., description="Order amount the thresholds test, in fen")
    courier: str = Field(..., max_length=12, description="normal, sf or ems")
    member_id: int | None = Field(None, description="Derive old/new customer from this member")
    member_kind: str | None = Field(None, max_length=12, description="old, new or non_member")
    address: str | None = Field(None, max_length=255)
    province: str | None = Field(None, max_length=40)
    country: str = Field("CN", max_length=8, description="ISO 3166 alpha-2; not CN/HK/MO/TW = overseas")
    free_shipping_card: bool = False
    tier_free_shipping: bool | None = Field(None, description="Default: from the member's tier level")
    prefer_gift: bool = Field(False, description="The customer takes the threshold gift instead")


class ReasonOut(Schema):
    rule_code: str
    applied: bool
    text: str


class QuoteOut(Schema):
    postage_fen: int
    charged_fen: int
    discount_fen: int
    rule_code: str
    courier: str
    member_kind: str
    region_group: str
    province: str
    country: str
    normal_postage_fen: int
    difference_fen: int
    free_shipping: bool
    gift_alternative: bool
    card_used: bool
    tier_used: bool
    explanation: str
    reasons: list[ReasonOut]


@router.post(
    "/quote", response=QuoteOut, summary="Shipping charge of an order, with the reasons (writes nothing)"
)
@require(*VIEW)
def quote(request, payload: QuoteIn):
    member = None
    if payload.member_id is not None:
        if payload.member_kind is not None:
            raise DomainError(FIELD_INVALID, field="member_kind")
        member = member_visible_queryset(request.user).filter(pk=payload.member_id).first()
        if member is None:
            raise DomainError(NOT_FOUND, field="member_id")
    kind = payload.member_kind
    if kind is None and member is None:
        kind = "non_member"
    q = shipping_quote(
        subtotal_fen=payload.subtotal_fen,
        courier=payload.courier,
        member_kind=kind,
        member=member,
        address=payload.address,
        province=payload.province,
        country=payload.country,
        free_shipping_card=payload.free_shipping_card,
        tier_free_shipping=payload.tier_free_shipping,
        prefer_gift=payload.prefer_gift,
    )
    lang = lang_of(request)
    return {
        **{k: getattr(q, k) for k in QuoteOut.model_fields if k not in ("explanation", "reasons")},
        "explanation": q.explain(lang),
        "reasons": [
            {"rule_code": r.rule_code, "applied": r.applied, "text": r.text(lang)} for r in q.explanation
        ],
    }


# --- rule sets -------------------------------------------------------------------------------------


class RuleIn(In):
    rank: int
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=60)
    member: str = Field(..., max_length=12)
    region: str = Field("any", max_length=12)
    min_subtotal_fen: int = 0
    outcome: str = Field(..., max_length=12)
    amount_fen: int = 0
    gift_alternative: bool = False


class RuleOut(Schema):
    rank: int
    code: str
    name: str
    member: str
    region: str
    min_subtotal_fen: int
    outcome: str
    amount_fen: int
    gift_alternative: bool


class RateIn(In):
    courier: str = Field(..., max_length=12)
    region_group: str = Field(..., max_length=12)
    postage_fen: int


class RateOut(Schema):
    courier: str
    region_group: str
    postage_fen: int


class RuleSetOut(Schema):
    id: int
    code: str
    name: str
    is_active: bool
    old_customer_min_orders: int
    old_customer_window_months: int | None
    updated_at: datetime
    rules: list[RuleOut]
    rates: list[RateOut]
    regions: dict[str, str]


class RuleSetPatch(In):
    name: str | None = Field(None, max_length=60)
    old_customer_min_orders: int | None = None
    old_customer_window_months: int | None = None
    is_active: bool | None = None
    rules: list[RuleIn] | None = Field(None, max_length=100)
    rates: list[RateIn] | None = Field(None, max_length=40)
    regions: dict[str, str] | None = Field(None, max_length=40)


class PresetIn(In):
    preset: str = Field(..., max_length=40)
    remote_reading: str = Field("minus", max_length=12, description="minus: postage − 10元; flat: 10元")
    activate: bool = True


def _out(rs: ShippingRuleSet) -> dict[str, Any]:
    return {
        **{k: getattr(rs, k) for k in RuleSetOut.model_fields if k not in ("rules", "rates", "regions")},
        "rules": [
            {k: getattr(r, k) for k in RuleOut.model_fields}
            for r in sorted(rs.rules.all(), key=lambda r: r.rank)
        ],
        "rates": [
            {k: getattr(r, k) for k in RateOut.model_fields}
            for r in sorted(rs.rates.all(), key=lambda r: (r.courier, r.region_group))
        ],
        "regions": {r.province: r.region_group for r in sorted(rs.regions.all(), key=lambda r: r.province)},
    }


def _rule_set(rule_set_id: int) -> ShippingRuleSet:
    rs = selectors.rule_set_list().filter(pk=rule_set_id).first()
    if rs is None:
        raise DomainError(NOT_FOUND, field="rule_set_id")
    return rs


@router.get(
    "/rule-sets", response=list[RuleSetOut], summary="Shipping rule sets with rules, postage and regions"
)
@require(*VIEW)
def rule_set_list(request):
    return [_out(rs) for rs in selectors.rule_set_list()]


@router.get("/rule-sets/{int:rule_set_id}", response=RuleSetOut, summary="One shipping rule set")
@require(*VIEW)
def rule_set_detail(request, rule_set_id: int):
    return _out(_rule_set(rule_set_id))


@router.post(
    "/rule-sets/presets",
    response={201: RuleSetOut},
    summary="Install a preset rule set (seed_001); idempotent by code (accepts Idempotency-Key)",
)
@require("shipping.add_shippingruleset", "value:write")
def preset_install(request, payload: PresetIn):
    def call(claim):
        return services.shipping_presets_install(
            preset=payload.preset,
            remote_reading=payload.remote_reading,
            activate=payload.activate,
            actor=request.user,
            idem=claim,
        )

    def render(rs):
        return 201, RuleSetOut(**_out(_rule_set(rs.pk))).model_dump(mode="json")

    return idempotent_write(
        request, scope="shipping.preset.install", payload=payload.dict(), call=call, render=render
    )


@router.patch(
    "/rule-sets/{int:rule_set_id}",
    response=RuleSetOut,
    summary="Change a rule set; rules, rates and regions replace the whole list (accepts Idempotency-Key)",
)
@require("shipping.change_shippingruleset", "value:write")
def rule_set_update(request, rule_set_id: int, payload: RuleSetPatch):
    data = payload.dict(exclude_unset=True)

    def call(claim):
        return services.shipping_rule_set_update(
            rule_set_id=rule_set_id, data=data, actor=request.user, idem=claim
        )

    def render(rs):
        return 200, RuleSetOut(**_out(_rule_set(rs.pk))).model_dump(mode="json")

    return idempotent_write(
        request, scope=f"shipping.rule_set.update:{rule_set_id}", payload=data, call=call, render=render
    )
