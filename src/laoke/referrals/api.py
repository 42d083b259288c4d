"""/api/v1/referrals: register a referral (Idempotency-Key: it issues coupons), list, the
programme settings, the referral-share KPI. Thin over services and selectors."""

from datetime import date, datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from laoke.core import clock
from laoke.core.api import idempotent_write, paginate, require
from laoke.core.errors import FIELD_INVALID, DomainError
from laoke.members.selectors import member_visible_queryset

from . import selectors, services
from .models import Referral, ReferralProgramme, ReferralState, Trigger

router = Router(tags=["referrals"])


class RegisterIn(Schema):
    new_member_id: int
    referrer: str = Field(
        ..., min_length=1, max_length=32, description="the referrer's mobile or member number"
    )
    device_id: str = Field("", max_length=128)


class ReferralOut(Schema):
    id: int
    referrer_id: int
    referrer_code: str
    new_member_id: int
    new_member_code: str
    state: str
    trigger: str
    reason: str
    device_id: str
    reward_order_ref: str
    referrer_coupon_id: int | None
    new_member_coupon_id: int | None
    created_at: datetime
    rewarded_at: datetime | None


def _referral_dict(r: Referral) -> dict:
    fields = set(ReferralOut.model_fields) - {"referrer_code", "new_member_code"}
    data = {name: getattr(r, name) for name in fields}
    data.update(referrer_code=r.referrer.code, new_member_code=r.new_member.code)
    return ReferralOut(**data).model_dump(mode="json")


@router.post(
    "",
    response={201: ReferralOut},
    summary="Record the referrer a new member named (Idempotency-Key required: rewards are coupons)",
)
@require("referrals.add_referral", "value:write")
def referral_register(request, payload: RegisterIn):
    member = get_object_or_404(member_visible_queryset(request.user), pk=payload.new_member_id)

    def call(claim):
        return services.referral_register(
            new_member=member,
            referrer_ref=payload.referrer,
            device_id=payload.device_id,
            actor=request.user,
            idem=claim,
        )

    return idempotent_write(
        request,
        scope="referrals.register",
        payload=payload.dict(),
        call=call,
        render=lambda r: (201, _referral_dict(r)),
        required=True,
    )


class ReferralPage(Schema):
    items: list[ReferralOut]
    next_cursor: str | None


@router.get("", response=ReferralPage, summary="Referrals, newest first (a member's: made or received)")
@require("referrals.view_referral", "value:read")
def referral_list(
    request,
    member_id: int | None = None,
    state: ReferralState | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    member = get_object_or_404(member_visible_queryset(request.user), pk=member_id) if member_id else None
    qs = selectors.referral_list(member=member, state=state)
    rows, next_cursor = paginate(qs, cursor=cursor, limit=limit)
    return {"items": [_referral_dict(r) for r in rows], "next_cursor": next_cursor}


class ProgrammeOut(Schema):
    is_active: bool
    trigger: str
    referrer_template_id: int | None
    new_member_template_id: int | None
    fraud_guard: bool
    window_days: int
    kpi_target_bp: int
    updated_at: datetime


class ProgrammePatch(Schema):
    """Only the fields sent change."""

    is_active: bool | None = None
    trigger: Trigger | None = None
    referrer_template_id: int | None = None
    new_member_template_id: int | None = None
    fraud_guard: bool | None = None
    window_days: int | None = Field(None, ge=1, le=3650)
    kpi_target_bp: int | None = Field(None, ge=0, le=10_000)


def _programme_dict(p: ReferralProgramme) -> dict:
    return ProgrammeOut(**{name: getattr(p, name) for name in ProgrammeOut.model_fields}).model_dump(
        mode="json"
    )


@router.get("/programme", response=ProgrammeOut, summary="The referral programme settings")
@require("referrals.view_referralprogramme", "value:read")
def programme_get(request):
    return _programme_dict(selectors.programme_get())


@router.patch("/programme", response=ProgrammeOut, summary="Change the referral programme settings")
@require("referrals.change_referralprogramme", "value:write")
def programme_update(request, payload: ProgrammePatch):
    data = payload.dict(exclude_unset=True)
    for side in ("referrer", "new_member"):
        if f"{side}_template_id" in data:
            data[f"{side}_template"] = data.pop(f"{side}_template_id")
    if data.get("trigger") is not None:
        data["trigger"] = str(data["trigger"])
    data = {k: v for k, v in data.items() if v is not None or k.endswith("_template")}

    def call(claim):
        return services.referral_programme_update(data=data, actor=request.user, idem=claim)

    return idempotent_write(
        request,
        scope="referrals.programme",
        payload=payload.dict(exclude_unset=True),
        call=call,
        render=lambda p: (200, _programme_dict(p)),
    )


class KpiMonthOut(Schema):
    month: date
    referred_fen: int
    total_fen: int
    share_bp: int | None
    target_bp: int
    met: bool


class KpiOut(Schema):
    months: list[KpiMonthOut]


@router.get("/kpi", response=KpiOut, summary="Referral share of sales per month (seed 002 target: 20%)")
@require("referrals.view_referralsale", "value:read")
def kpi(request, start: date | None = None, end: date | None = None):
    end = end or clock.today()
    start = start or end.replace(day=1)
    if start > end or (end.year - start.year) * 12 + end.month - start.month > 36:
        raise DomainError(FIELD_INVALID, field="start")
    return {"months": [vars(m) for m in selectors.kpi_report(start=start, end=end)]}
