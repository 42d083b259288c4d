"""/api/v1/holidays (thin adapters over services and selectors).

Gift campaigns (seed 000): ``/campaigns`` (list, create the mid-autumn preset for a year, detail
with quotas used/left, ``/budget``, ``/export`` of the courier list), ``/campaigns/{id}/applications``
(list, file), ``/applications/to-review`` (what the caller may decide), and one endpoint per
approval step: ``/service-review``, ``/sales-review``, ``/final``. Draw games (seed 002):
``/draw-games`` and ``/draw-games/{id}/draw`` (moves value — a coupon prize — so it needs an
Idempotency-Key). ``/promotions`` applies a holiday promotion preset for a year.
"""

import json
from datetime import date, datetime
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from laoke.core.api import idempotent_write, paginate, require

from . import draws, holiday_promotions, selectors, services
from .export import window_text
from .models import DrawGame, GiftApplication, GiftCampaign

router = Router(tags=["holidays"])

VIEW_CAMPAIGN, ADD_CAMPAIGN = "holidays.view_giftcampaign", "holidays.add_giftcampaign"
VIEW_APP, ADD_APP = "holidays.view_giftapplication", "holidays.add_giftapplication"
READ, WRITE = "campaigns:read", "campaigns:write"


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


# --- gift campaigns --------------------------------------------------------------------------------


class CampaignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(..., ge=1900, le=2100)
    high_price_fen: int = Field(..., gt=0)
    normal_price_fen: int = Field(..., gt=0)
    name: str = Field("", max_length=100)
    card_message: str | None = Field(None, max_length=300)


def campaign_dict(c: GiftCampaign, *, detail: bool = False) -> dict:
    out = {
        "id": c.pk,
        "name": c.name,
        "holiday": c.holiday,
        "year": c.year,
        "card_unit_price_fen": c.card_unit_price_fen,
        "card_message": c.card_message,
        "courier_deadline": c.courier_deadline,
        "delivery_from": c.delivery_from,
        "delivery_until": c.delivery_until,
        "delivery_window": window_text(c),
        "walkin_from": c.walkin_from,
        "walkin_until": c.walkin_until,
    }
    if detail:
        out["levels"] = [
            {"code": lv.code, "name": lv.name, "unit_price_fen": lv.unit_price_fen} for lv in c.levels.all()
        ]
        out["quotas"] = [
            {
                "recipient_type": q.recipient_type,
                "label": q.label,
                "quota": q.quota,
                "persons_per_gift": q.persons_per_gift,
                "approved": q.approved,
                "in_review": q.in_review,
                "left": q.left,
            }
            for q in selectors.quotas(c)
        ]
    return out


@router.get("/campaigns", summary="Gift campaigns")
@require(VIEW_CAMPAIGN, READ)
def campaigns_list(request):
    return [campaign_dict(c) for c in GiftCampaign.objects.order_by("-year", "-pk")[:100]]


@router.post("/campaigns", response={201: dict}, summary="Create the seed 000 mid-autumn campaign for a year")
@require(ADD_CAMPAIGN, WRITE)
def campaigns_create(request, payload: CampaignIn):
    data = payload.model_dump()
    extra = {"card_message": data["card_message"]} if data["card_message"] else {}
    return idempotent_write(
        request,
        scope="holidays.campaign_create",
        payload=data,
        call=lambda claim: services.gift_campaign_preset_create(
            year=data["year"],
            level_prices_fen={"high": data["high_price_fen"], "normal": data["normal_price_fen"]},
            name=data["name"],
            actor=request.user,
            idem=claim,
            **extra,
        ),
        render=lambda c: (201, _jsonable(campaign_dict(c, detail=True))),
    )


@router.get("/campaigns/{int:campaign_id}", summary="A campaign with its levels and quotas used/left")
@require(VIEW_CAMPAIGN, READ)
def campaigns_get(request, campaign_id: int):
    return campaign_dict(get_object_or_404(GiftCampaign, pk=campaign_id), detail=True)


@router.get("/campaigns/{int:campaign_id}/budget", summary="Budget computed from the approved list")
@require(VIEW_CAMPAIGN, READ)
def campaigns_budget(request, campaign_id: int):
    b = selectors.budget(get_object_or_404(GiftCampaign, pk=campaign_id))
    return {
        "levels": [
            {
                "level": x.level,
                "name": x.name,
                "unit_price_fen": x.unit_price_fen,
                "count": x.count,
                "amount_fen": x.amount_fen,
            }
            for x in b.lines
        ],
        "cards": b.cards,
        "card_unit_price_fen": b.card_unit_price_fen,
        "gifts_fen": b.gifts_fen,
        "cards_fen": b.cards_fen,
        "total_fen": b.total_fen,
    }


@router.get("/campaigns/{int:campaign_id}/export", summary="The courier list (xlsx or CSV)")
@require("holidays.export_giftcampaign", READ)
def campaigns_export(request, campaign_id: int, format: Literal["xlsx", "csv"] = "xlsx", late: bool = False):
    """Refused after the courier deadline (409 GIFT_EXPORT_LATE) unless ``late=true``; a late file
    is marked on every row and in its name."""
    f = services.gift_courier_export(campaign_id=campaign_id, fmt=format, allow_late=late, actor=request.user)
    response = HttpResponse(f.content, content_type=f.content_type)
    response["Content-Disposition"] = f'attachment; filename="{f.filename}"'
    response["X-Laoke-Late"] = "1" if f.late else "0"
    return response


# --- applications ----------------------------------------------------------------------------------


class ApplicationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    recipient_type: Literal["old_customer", "dealer", "key_prospect", "walk_in"]
    name: str = Field(..., max_length=100)
    company: str = Field("", max_length=100)
    address: str = Field(..., max_length=300)
    phone: str = Field(..., max_length=30)
    decision_power: bool
    level: str = Field(..., max_length=20)
    member_id: int | None = None
    visited_on: date | None = None
    note: str = Field("", max_length=300)


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    reason: str = Field("", max_length=300)


def application_dict(a: GiftApplication) -> dict:
    return {
        "id": a.pk,
        "campaign_id": a.campaign_id,
        "recipient_type": a.recipient_type,
        "name": a.name,
        "company": a.company,
        "address": a.address,
        "phone": a.phone,
        "decision_power": a.decision_power,
        "level": a.level.code,
        "member_id": a.member_id,
        "visited_on": a.visited_on,
        "state": a.state,
        "requested_by": a.requested_by_id,
        "requester_roles": a.requester_roles,
        "created_at": a.created_at,
        "service_review_at": a.service_review_at,
        "sales_review_at": a.sales_review_at,
        "decided_at": a.decided_at,
        "reject_step": a.reject_step,
        "reject_reason": a.reject_reason,
    }


@router.get("/campaigns/{int:campaign_id}/applications", summary="Applications of a campaign")
@require(VIEW_APP, READ)
def applications_list(
    request,
    campaign_id: int,
    state: str | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1, le=500),
):
    campaign = get_object_or_404(GiftCampaign, pk=campaign_id)
    rows, next_cursor = paginate(selectors.applications(campaign, state=state), cursor=cursor, limit=limit)
    return {"items": [application_dict(a) for a in rows], "next_cursor": next_cursor}


@router.post(
    "/campaigns/{int:campaign_id}/applications", response={201: dict}, summary="File a gift application"
)
@require(ADD_APP, WRITE)
def applications_file(request, campaign_id: int, payload: ApplicationIn):
    data = payload.model_dump()
    return idempotent_write(
        request,
        scope="holidays.application_file",
        payload=_jsonable(data),
        call=lambda claim: services.gift_application_file(
            campaign_id=campaign_id, data=data, actor=request.user, idem=claim
        ),
        render=lambda a: (201, _jsonable(application_dict(a))),
    )


@router.get("/applications/to-review", summary="Applications waiting for a step the caller may decide")
@require(VIEW_APP, READ)
def applications_to_review(request):
    return [application_dict(a) for a in selectors.to_review(request.user)]


def _review(request, application_id: int, payload: DecisionIn, step: str):
    data = payload.model_dump()

    def call(claim):
        if step == services.STEP_FINAL:
            return services.gift_application_decide(
                application_id=application_id, actor=request.user, idem=claim, **data
            )
        return services.gift_application_review(
            application_id=application_id, step=step, actor=request.user, idem=claim, **data
        )

    return idempotent_write(
        request,
        scope=f"holidays.{step}",
        payload={"id": application_id, **data},
        call=call,
        render=lambda a: (200, _jsonable(application_dict(a))),
    )


@router.post("/applications/{int:application_id}/service-review", summary="Service manager's review")
@require("holidays.review_service_giftapplication", WRITE)
def applications_service_review(request, application_id: int, payload: DecisionIn):
    return _review(request, application_id, payload, services.STEP_SERVICE)


@router.post("/applications/{int:application_id}/sales-review", summary="Sales manager's review")
@require("holidays.review_sales_giftapplication", WRITE)
def applications_sales_review(request, application_id: int, payload: DecisionIn):
    return _review(request, application_id, payload, services.STEP_SALES)


@router.post("/applications/{int:application_id}/final", summary="Planning department's final approval")
@require("holidays.approve_giftapplication", WRITE)
def applications_final(request, application_id: int, payload: DecisionIn):
    return _review(request, application_id, payload, services.STEP_FINAL)


# --- draw games and holiday promotions ---------------------------------------------------------------


class PrizeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=100)
    probability_bp: int = Field(..., gt=0, le=10_000)
    stock: int = Field(..., ge=0)
    coupon_template_id: int | None = None
    gift_item_id: int | None = None


class DrawGameIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=100)
    kind: Literal["pre_purchase", "receipt"] = "pre_purchase"
    starts_at: datetime
    ends_at: datetime
    daily_limit: int = Field(1, ge=1)
    entry_limit: int | None = Field(None, ge=1)
    min_receipt_fen: int = Field(0, ge=0)
    no_prize_label: str = Field("", max_length=100)
    prizes: list[PrizeIn]


class DrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    member_id: int
    receipt_ref: str = Field("", max_length=64)
    receipt_fen: int = Field(0, ge=0)


class PromotionsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    preset: Literal["mid_autumn", "national_day", "spring_festival"]
    year: int = Field(..., ge=1900, le=2100)
    skus: list[str] = Field(default_factory=list, max_length=200)
    receipt_threshold_fen: int = Field(10_000, gt=0)


def game_dict(g: DrawGame) -> dict:
    prizes = list(g.prizes.order_by("pk"))
    return {
        "id": g.pk,
        "code": g.code,
        "name": g.name,
        "kind": g.kind,
        "starts_at": g.starts_at,
        "ends_at": g.ends_at,
        "daily_limit": g.daily_limit,
        "entry_limit": g.entry_limit,
        "min_receipt_fen": g.min_receipt_fen,
        "no_prize_label": g.no_prize_label,
        "no_prize_bp": 10_000 - sum(p.probability_bp for p in prizes),
        "prizes": [
            {
                "id": p.pk,
                "name": p.name,
                "probability_bp": p.probability_bp,
                "stock": p.stock,
                "awarded": p.awarded,
                "coupon_template_id": p.coupon_template_id,
                "gift_item_id": p.gift_item_id,
            }
            for p in prizes
        ],
    }


@router.get("/draw-games", summary="Draw games")
@require("holidays.view_drawgame", READ)
def games_list(request):
    return [game_dict(g) for g in DrawGame.objects.order_by("-pk")[:100]]


@router.post("/draw-games", response={201: dict}, summary="Create a draw game with prize tiers")
@require("holidays.add_drawgame", WRITE)
def games_create(request, payload: DrawGameIn):
    data = payload.model_dump()
    data["prizes"] = [{k: v for k, v in p.items() if v is not None} for p in data["prizes"]]
    return idempotent_write(
        request,
        scope="holidays.draw_game_create",
        payload=_jsonable(data),
        call=lambda claim: draws.draw_game_create(data=data, actor=request.user, idem=claim),
        render=lambda g: (201, _jsonable(game_dict(g))),
    )


@router.get("/draw-games/{int:game_id}", summary="A draw game")
@require("holidays.view_drawgame", READ)
def games_get(request, game_id: int):
    return game_dict(get_object_or_404(DrawGame, pk=game_id))


@router.post("/draw-games/{int:game_id}/draw", response={201: dict}, summary="Draw once for a member")
@require("holidays.add_drawentry", "value:write")
def games_draw(request, game_id: int, payload: DrawIn):
    data = payload.model_dump()

    def render(e):
        return 201, {
            "entry_id": e.pk,
            "prize": e.prize.name if e.prize else None,
            "prize_id": e.prize_id,
            "coupon_code": e.coupon.code if e.coupon_id else None,
            "message": e.prize.name if e.prize else e.game.no_prize_label,
        }

    return idempotent_write(
        request,
        scope="holidays.draw",
        payload={"game": game_id, **data},
        call=lambda claim: draws.draw(game_id=game_id, actor=request.user, idem=claim, **data),
        render=render,
        required=True,
    )


@router.post("/promotions", response={201: dict}, summary="Apply a seed 002 holiday promotion preset")
@require("holidays.apply_holiday_promotions", WRITE)
def promotions_apply(request, payload: PromotionsIn):
    data = payload.model_dump()
    return Status(201, holiday_promotions.holiday_promotions_apply(actor=request.user, **data))
