"""/api/v1/promotions: coupon templates, issue (Idempotency-Key), claim by code, a member's
coupons, code import. Thin over services and selectors."""

from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from laoke.catalog.models import GiftItem
from laoke.core.api import idempotent_write, paginate, require
from laoke.members.selectors import member_visible_queryset

from . import selectors, services
from .models import Coupon, CouponKind, CouponTemplate

router = Router(tags=["promotions"])


class TemplateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    kind: CouponKind
    threshold_fen: int = Field(0, ge=0, le=10**10)
    amount_off_fen: int = Field(0, ge=0, le=10**10)
    rate_off_bp: int = Field(0, ge=0, le=10_000)
    cap_fen: int | None = Field(None, gt=0, le=10**10)
    face_value_fen: int = Field(0, ge=0, le=10**10)
    gift_id: int | None = None
    product_skus: list[str] = []
    per_member_limit: int | None = Field(None, gt=0)
    total_limit: int | None = Field(None, gt=0)
    budget_fen: int | None = Field(None, gt=0)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    valid_days: int | None = Field(None, gt=0, le=3650)
    channel_code: str = Field("", max_length=32)
    sales_channel: str = Field("", max_length=8)
    stackable: bool = False
    exclusive_group: str = Field("", max_length=32)
    return_on_cancel: bool = True
    code_prefix: str = Field("", max_length=8)
    is_active: bool = True


class TemplatePatch(Schema):
    """Only the fields sent change; value terms only while nothing has been issued."""

    name: str | None = Field(None, min_length=1, max_length=100)
    threshold_fen: int | None = Field(None, ge=0, le=10**10)
    amount_off_fen: int | None = Field(None, ge=0, le=10**10)
    rate_off_bp: int | None = Field(None, ge=0, le=10_000)
    cap_fen: int | None = Field(None, gt=0, le=10**10)
    face_value_fen: int | None = Field(None, ge=0, le=10**10)
    gift_id: int | None = None
    product_skus: list[str] | None = None
    valid_from: datetime | None = None
    valid_days: int | None = Field(None, gt=0, le=3650)
    sales_channel: str | None = Field(None, max_length=8)
    code_prefix: str | None = Field(None, max_length=8)
    per_member_limit: int | None = Field(None, gt=0)
    total_limit: int | None = Field(None, gt=0)
    budget_fen: int | None = Field(None, gt=0)
    valid_to: datetime | None = None
    channel_code: str | None = Field(None, max_length=32)
    stackable: bool | None = None
    exclusive_group: str | None = Field(None, max_length=32)
    return_on_cancel: bool | None = None
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str
    kind: str
    threshold_fen: int
    amount_off_fen: int
    rate_off_bp: int
    cap_fen: int | None
    face_value_fen: int
    gift_id: int | None
    product_skus: list[str]
    per_member_limit: int | None
    total_limit: int | None
    budget_fen: int | None
    valid_from: datetime | None
    valid_to: datetime | None
    valid_days: int | None
    channel_code: str
    sales_channel: str
    stackable: bool
    exclusive_group: str
    return_on_cancel: bool
    is_active: bool
    issued_count: int
    issued_value_fen: int


class TemplatePage(Schema):
    items: list[TemplateOut]
    next_cursor: str | None


class CouponOut(Schema):
    id: int
    code: str
    template_id: int
    template_name: str
    kind: str
    member_id: int | None
    shareable: bool
    state: str
    channel: str
    issued_at: datetime
    claimed_at: datetime | None
    valid_from: datetime
    valid_to: datetime
    order_ref: str
    redeemed_at: datetime | None


def _coupon_dict(coupon: Coupon) -> dict:
    fields = set(CouponOut.model_fields) - {"template_name", "kind"}
    data = {name: getattr(coupon, name) for name in fields}
    data.update(template_name=coupon.template.name, kind=coupon.template.kind)
    return CouponOut(**data).model_dump(mode="json")


def _render_coupon(coupon: Coupon) -> tuple[int, dict]:
    return 201, _coupon_dict(coupon)


def _nullable(name: str) -> bool:
    try:
        return CouponTemplate._meta.get_field(name).null
    except FieldDoesNotExist:
        return True  # not a column: the service decides


def _template_data(payload: Schema, *, exclude_unset: bool = False) -> dict:
    data = payload.dict(exclude_unset=exclude_unset)
    if "gift_id" in data:
        gift_id = data.pop("gift_id")
        data["gift"] = get_object_or_404(GiftItem, pk=gift_id) if gift_id else None
    return data


@router.get("/templates", response=TemplatePage, summary="Coupon templates, newest first")
@require("promotions.view_coupontemplate", "value:read")
def template_list(request, cursor: str | None = None, limit: int | None = None):
    rows, next_cursor = paginate(selectors.template_list(), cursor=cursor, limit=limit)
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/templates", response={201: TemplateOut}, summary="Create a coupon template")
@require("promotions.add_coupontemplate", "value:write")
def template_create(request, payload: TemplateIn):
    return Status(201, services.coupon_template_create(data=_template_data(payload), actor=request.user))


@router.get("/templates/{int:template_id}", response=TemplateOut, summary="A coupon template")
@require("promotions.view_coupontemplate", "value:read")
def template_get(request, template_id: int):
    return selectors.template_get(template_id)


@router.patch("/templates/{int:template_id}", response=TemplateOut, summary="Change a coupon template")
@require("promotions.change_coupontemplate", "value:write")
def template_update(request, template_id: int, payload: TemplatePatch):
    selectors.template_get(template_id)
    data = _template_data(payload, exclude_unset=True)
    # null clears what may be empty (a limit, a date, the gift); on a field that always has a value
    # (a flag, a name, an amount) it means "leave as is"
    data = {k: v for k, v in data.items() if v is not None or _nullable(k)}
    return services.coupon_template_update(template_id=template_id, data=data, actor=request.user)


class IssueIn(Schema):
    member_id: int | None = None  # none: a shareable coupon a friend claims by its code
    channel: str = Field("", max_length=32)


@router.post(
    "/templates/{int:template_id}/issue",
    response={201: CouponOut},
    summary="Issue a coupon to a member, or a shareable one (Idempotency-Key required)",
)
@require("promotions.issue_coupon", "value:write")
def coupon_issue(request, template_id: int, payload: IssueIn):
    template = selectors.template_get(template_id)
    member = (
        get_object_or_404(member_visible_queryset(request.user), pk=payload.member_id)
        if payload.member_id
        else None
    )

    def call(claim):
        return services.coupon_issue(
            template=template, member=member, channel=payload.channel, actor=request.user, idem=claim
        )

    return idempotent_write(
        request,
        scope="promotions.issue",
        payload={"template": template_id, **payload.dict()},
        call=call,
        render=_render_coupon,
        required=True,
    )


class ImportIn(Schema):
    csv: str = Field(..., min_length=1, max_length=2_000_000)
    channel: str = Field("", max_length=32)


class CountOut(Schema):
    count: int


@router.post(
    "/templates/{int:template_id}/import",
    response={201: CountOut},
    summary="Import coupon codes (CSV: code[,mobile]); every bad cell is reported by row and column",
)
@require("promotions.import_coupon", "value:write")
def coupon_import(request, template_id: int, payload: ImportIn):
    template = selectors.template_get(template_id)
    n = services.coupon_import(
        template=template, text=payload.csv, channel=payload.channel, actor=request.user
    )
    return Status(201, {"count": n})


class ClaimIn(Schema):
    code: str = Field(..., min_length=1, max_length=32)
    member_id: int


@router.post("/claim", response={200: CouponOut}, summary="A member claims a shared coupon by its code")
@require("promotions.change_coupon", "value:write")
def coupon_claim(request, payload: ClaimIn):
    member = get_object_or_404(member_visible_queryset(request.user), pk=payload.member_id)

    def call(claim):
        return services.coupon_claim(code=payload.code, member=member, actor=request.user, idem=claim)

    return idempotent_write(
        request,
        scope="promotions.claim",
        payload=payload.dict(),
        call=call,
        render=lambda c: (200, _coupon_dict(c)),
    )


@router.get("/coupons/{code}", response=CouponOut, summary="A coupon by its code")
@require("promotions.view_coupon", "value:read")
def coupon_get(request, code: str):
    return _coupon_dict(selectors.coupon_get(code))


class CouponPage(Schema):
    items: list[CouponOut]
    next_cursor: str | None


@router.get("/members/{int:member_id}/coupons", response=CouponPage, summary="A member's coupons")
@require("promotions.view_coupon", "value:read")
def member_coupons(
    request, member_id: int, state: str | None = None, cursor: str | None = None, limit: int | None = None
):
    member = get_object_or_404(member_visible_queryset(request.user), pk=member_id)
    rows, next_cursor = paginate(selectors.member_coupons(member, state=state), cursor=cursor, limit=limit)
    return {"items": [_coupon_dict(c) for c in rows], "next_cursor": next_cursor}


from . import api_rules  # noqa: E402,F401  (the order-rule endpoints register on this router)
