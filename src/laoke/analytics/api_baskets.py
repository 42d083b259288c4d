"""/api/v1/analytics/…: cross-selling rules over the shop's baskets (JSON or xlsx), what a set of
members bought, product roles (list, compute, manual assignment) and promotion suggestions.

Dates are shop-local days (``since``/``until`` both included; default the last 90 days). Bad
parameters give stable ANALYTICS_* codes (422). Reads need ``analytics.view_productrole`` and
``analytics:read``; computing and assigning roles ``analytics.change_productrole`` and
``analytics:write``.
"""

from datetime import date

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from laoke.core import clock
from laoke.core.api import require
from laoke.core.errors import DomainError
from laoke.core.xlsx import workbook_bytes
from laoke.segments.selectors import segment_get, segment_queryset

from . import baskets, product_roles
from . import error_codes_baskets as E

router = Router(tags=["analytics"])

READ, WRITE = "analytics:read", "analytics:write"
VIEW, CHANGE = "analytics.view_productrole", "analytics.change_productrole"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/rules")
@require(VIEW, READ)
def rules(
    request,
    min_support: float = 0.01,
    min_lift: float = 1.0,
    min_confidence: float = 0.0,
    level: str = "product",
    since: date | None = None,
    until: date | None = None,
    limit: int = Query(200, ge=1, le=10_000),
    format: str = "json",
):
    """Association rules (support, confidence, lift, leverage, conviction) over the orders paid
    in the period, one basket per order, at product (SKU) or category level; best lift first.
    ``format=xlsx`` downloads the table."""
    start, end = baskets.period(since, until, now=clock.now())
    data = baskets.shop_rules(
        start=start,
        end=end,
        level=level,
        min_support=min_support,
        min_lift=min_lift,
        min_confidence=min_confidence,
        limit=limit,
    )
    if format == "xlsx":
        response = HttpResponse(workbook_bytes(baskets.rules_sheets(data)), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="rules-{level}.xlsx"'
        return response
    return data


def _member_ids(member_ids: str | None, segment_id: int | None) -> list[int]:
    if (member_ids is None) == (segment_id is None):
        raise DomainError(E.ANALYTICS_MEMBERS_REQUIRED, field="member_ids")
    if segment_id is not None:
        rule = segment_get(segment_id).rule
        return list(segment_queryset(rule, now=clock.now()).values_list("pk", flat=True))
    try:
        ids = [int(x) for x in member_ids.split(",") if x.strip()]
    except ValueError:
        raise DomainError(E.ANALYTICS_MEMBERS_REQUIRED, field="member_ids") from None
    if not ids or len(ids) > 100_000:
        raise DomainError(E.ANALYTICS_MEMBERS_REQUIRED, field="member_ids")
    return ids


@router.get("/purchases")
@require(VIEW, READ)
def purchases(
    request,
    member_ids: str | None = None,
    segment_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    top: int = Query(20, ge=1, le=500),
):
    """What a set of members bought in the period (``member_ids`` comma-separated, or the current
    members of ``segment_id``): top products and categories with orders, quantity, revenue
    (yuan), share of the set's buyers, and that share among all other buyers (lift)."""
    ids = _member_ids(member_ids, segment_id)
    start, end = baskets.period(since, until, now=clock.now())
    return baskets.members_purchases(ids, start, end, top=top)


@router.get("/product-roles")
@require(VIEW, READ)
def roles_list(request, role: str | None = None):
    """Every stored product/bundle role with its measures; ``role`` filters."""
    if role is not None and role not in product_roles.Role.values:
        raise DomainError(E.ANALYTICS_ROLE_INVALID, field="role")
    return {"items": product_roles.product_roles_list(role=role)}


@router.post("/product-roles/compute")
@require(CHANGE, WRITE)
def roles_compute(request):
    """Recompute every role now (rows set by hand are kept): the count per role."""
    return product_roles.product_roles_compute(now=clock.now(), actor=request.user)


class RoleIn(Schema):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Field(..., max_length=10)
    discount_cap_bp: int | None = None


@router.put("/product-roles/{kind}/{int:object_id}")
@require(CHANGE, WRITE)
def roles_set(request, kind: str, object_id: int, payload: RoleIn):
    """Assign a role by hand to a product or a bundle (``kind`` = product | bundle); ``role: null``
    hands it back to the computation. Audited."""
    if kind not in ("product", "bundle"):
        raise DomainError(E.ANALYTICS_ROLE_TARGET_INVALID, field="kind")
    row = product_roles.product_role_set(
        **{f"{kind}_id": object_id},
        role=payload.role,
        discount_cap_bp=payload.discount_cap_bp,
        actor=request.user,
        now=clock.now(),
    )
    return {
        "kind": kind,
        "id": object_id,
        "role": row.role,
        "manual": row.manual,
        "discount_cap_bp": row.discount_cap_bp,
    }


@router.get("/promotion-suggestions")
@require(VIEW, READ)
def suggestions(request):
    """Traffic and marginal items to promote, profit items with their discount cap, and how many
    churn-prone one-time buyers to tell first."""
    return product_roles.promotion_suggestions(now=clock.now())
