"""Console pages of holidays (/admin/console/holidays/): the gift campaigns with their quotas
used/left and budget, the applications waiting for the caller's approval step, the application
form, the courier export; and the draw games with their prizes. Thin over laoke.holidays."""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.core import clock
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError
from laoke.core.money import format_yuan
from laoke.holidays import presets, selectors, services
from laoke.holidays.export import window_text
from laoke.holidays.models import DrawGame, GiftApplication, GiftCampaign, RecipientType

VIEW_CAMPAIGN, VIEW_GAMES = "holidays.view_giftcampaign", "holidays.view_drawgame"
ADD_APP, EXPORT = "holidays.add_giftapplication", "holidays.export_giftcampaign"
DECIDE = (
    "holidays.review_service_giftapplication",
    "holidays.review_sales_giftapplication",
    "holidays.approve_giftapplication",
)


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _need(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _campaign(campaign_id: int) -> GiftCampaign:
    c = GiftCampaign.objects.filter(pk=campaign_id).first()
    if c is None:
        raise Http404(campaign_id)
    return c


def _budget(c: GiftCampaign) -> dict:
    b = selectors.budget(c)
    return {
        "lines": [
            {
                "name": x.name,
                "count": x.count,
                "unit": format_yuan(x.unit_price_fen),
                "amount": format_yuan(x.amount_fen),
            }
            for x in b.lines
        ],
        "cards": b.cards,
        "card_unit": format_yuan(b.card_unit_price_fen),
        "cards_amount": format_yuan(b.cards_fen),
        "total": format_yuan(b.total_fen),
        "recipients": b.recipients,
    }


def index(request):
    can_gifts, can_games = request.user.has_perm(VIEW_CAMPAIGN), request.user.has_perm(VIEW_GAMES)
    if not (can_gifts or can_games):
        raise PermissionDenied
    campaigns = []
    if can_gifts:
        for c in GiftCampaign.objects.order_by("-year", "-pk")[:20]:
            campaigns.append(
                {"c": c, "quotas": selectors.quotas(c), "budget": _budget(c), "window": window_text(c)}
            )
    games = []
    if can_games:
        for g in DrawGame.objects.prefetch_related("prizes").order_by("-pk")[:20]:
            prizes = list(g.prizes.all())
            games.append(
                {
                    "g": g,
                    "prizes": [
                        {"p": p, "pct": f"{p.probability_bp / 100:g}%", "left": p.stock - p.awarded}
                        for p in prizes
                    ],
                    "no_prize_pct": f"{(10_000 - sum(p.probability_bp for p in prizes)) / 100:g}%",
                }
            )
    return TemplateResponse(
        request,
        "console/holidays/index.html",
        _ctx(
            request,
            _("Holiday campaigns"),
            campaigns=campaigns,
            games=games,
            can_gifts=can_gifts,
            can_games=can_games,
        ),
    )


def campaign(request, campaign_id: int):
    _need(request, VIEW_CAMPAIGN)
    c = _campaign(campaign_id)
    user = request.user
    review = [{"a": a, "steps": _steps_for(user, a)} for a in selectors.to_review(user, c, limit=200)]
    mine = (
        GiftApplication.objects.filter(campaign=c, requested_by=user)
        .select_related("level")
        .order_by("-pk")[:50]
    )
    return TemplateResponse(
        request,
        "console/holidays/campaign.html",
        _ctx(
            request,
            c.name,
            c=c,
            quotas=selectors.quotas(c),
            budget=_budget(c),
            seed_counts=presets.SEED_BUDGET_COUNTS,
            seed_total=presets.SEED_BUDGET_TOTAL,
            window=window_text(c),
            late=clock.today() > c.courier_deadline,
            review=review,
            mine=mine,
            can_apply=user.has_perm(ADD_APP),
            can_export=user.has_perm(EXPORT),
            types=RecipientType.choices,
            levels=list(c.levels.all()),
        ),
    )


def _steps_for(user, app: GiftApplication) -> list[tuple[str, str]]:
    labels = {
        services.STEP_SERVICE: _("Service manager review"),
        services.STEP_SALES: _("Sales manager review"),
        services.STEP_FINAL: _("Final approval"),
    }
    steps = []
    for step in selectors.review_steps_of(user):
        if step == services.STEP_FINAL and app.state == "reviewed":
            steps.append((step, labels[step]))
        elif step == services.STEP_SERVICE and app.state == "pending" and not app.service_review_at:
            steps.append((step, labels[step]))
        elif step == services.STEP_SALES and app.state == "pending" and not app.sales_review_at:
            steps.append((step, labels[step]))
    return steps


@require_POST
def apply(request, campaign_id: int):
    _need(request, ADD_APP)
    c = _campaign(campaign_id)
    post = request.POST
    data = {
        "recipient_type": post.get("recipient_type", ""),
        "name": post.get("name", ""),
        "company": post.get("company", ""),
        "address": post.get("address", ""),
        "phone": post.get("phone", ""),
        "decision_power": post.get("decision_power") == "on",
        "level": post.get("level", ""),
        "note": post.get("note", ""),
    }
    if post.get("visited_on"):
        try:
            data["visited_on"] = date.fromisoformat(post["visited_on"])
        except ValueError:
            data["visited_on"] = post["visited_on"]
    try:
        services.gift_application_file(campaign_id=c.pk, data=data, actor=request.user)
        messages.success(request, _("Application filed."))
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
    return redirect("holidays_campaign", campaign_id=c.pk)


@require_POST
def decide(request, application_id: int):
    if not any(request.user.has_perm(p) for p in DECIDE):  # no step this user could decide
        raise PermissionDenied
    app = GiftApplication.objects.filter(pk=application_id).first()
    if app is None:
        raise Http404(application_id)
    step = request.POST.get("step", "")
    approve = request.POST.get("decision") == "approve"
    reason = request.POST.get("reason", "")
    try:
        if step == services.STEP_FINAL:
            services.gift_application_decide(
                application_id=app.pk, approve=approve, reason=reason, actor=request.user
            )
        else:
            services.gift_application_review(
                application_id=app.pk, step=step, approve=approve, reason=reason, actor=request.user
            )
        messages.success(request, _("Decision recorded."))
    except DomainError as exc:
        if exc.status == 403 and exc.code == "APPROVAL_PERMISSION":
            raise PermissionDenied from exc
        messages.error(request, exc.message(request_lang(request)))
    return redirect("holidays_campaign", campaign_id=app.campaign_id)


def export(request, campaign_id: int):
    _need(request, EXPORT)
    c = _campaign(campaign_id)
    fmt = request.GET.get("format", "xlsx")
    try:
        f = services.gift_courier_export(
            campaign_id=c.pk, fmt=fmt, allow_late=request.GET.get("late") == "1", actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message(request_lang(request)))
        return redirect("holidays_campaign", campaign_id=c.pk)
    response = HttpResponse(f.content, content_type=f.content_type)
    response["Content-Disposition"] = f'attachment; filename="{f.filename}"'
    return response
