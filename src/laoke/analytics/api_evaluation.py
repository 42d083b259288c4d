"""/api/v1/analytics/campaigns/…: the evaluation of a campaign (JSON, xlsx or HTML), its feature
distributions, and the import of an externally run campaign (multipart: two CSV files)."""

from typing import Literal

from django.http import HttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from laoke.campaigns.selectors import campaign_get
from laoke.core.api import require

from .evaluation import campaign_features, campaign_report, campaign_responder_purchases
from .external import external_campaign_import, parse_yuan
from .report_export import report_html, report_xlsx

router = Router(tags=["analytics"])


class ExternalImportOut(Schema):
    id: int
    name: str
    job_id: str
    contacts: int
    orders: int
    arms: dict[str, int]
    members_created: int
    window_days: int
    warnings: list[str]


READ, WRITE = "analytics:read", "analytics:write"


@router.get("/campaigns/{int:campaign_id}/report")
@require("campaigns.view_campaign", READ)
def report(request, campaign_id: int, format: Literal["json", "xlsx", "html"] = "json"):
    """Every arm with its responders, response rate, revenue per member and, for treatment arms,
    the uplift (Wald interval, pooled z-test) and the revenue uplift (Welch); totals, cost, ROI,
    target vs actual; each wave run, comparisons by channel / offer / branch / loop, and the
    cumulative response of each arm over time. Rates are fractions, money yuan."""
    data = campaign_report(campaign_get(campaign_id))
    if format == "json":
        return data
    if format == "xlsx":
        response = HttpResponse(
            report_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(report_html(data), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign_id}-report.{format}"'
    return response


@router.get("/campaigns/{int:campaign_id}/features")
@require("campaigns.view_campaign", READ)
def features(request, campaign_id: int):
    """Responders vs non-responders vs control on what was known at the start."""
    return campaign_features(campaign_get(campaign_id))


@router.get("/campaigns/{int:campaign_id}/responder-purchases")
@require("campaigns.view_campaign", READ)
def responder_purchases(request, campaign_id: int, top: int = Query(10, ge=1, le=100)):
    """What the responders bought during the campaign against every other buyer (share, lift);
    ``null`` for an external campaign or before anyone responded."""
    return campaign_responder_purchases(campaign_get(campaign_id), top=top)


@router.post("/external-campaigns", response={201: ExternalImportOut})
@require("analytics.add_externalcontact", WRITE)
def import_external(
    request,
    contacts: File[UploadedFile],
    orders: File[UploadedFile],
    name: Form[str],
    window_days: Form[int] = 30,
    cost: Form[str] = "0",
):
    """Import an externally run campaign: ``contacts`` CSV member_ref,arm,contacted_at (arm
    ``control`` is the holdout) and ``orders`` CSV member_ref,ordered_at,amount (yuan). A bad row
    anywhere: 422 ANALYTICS_IMPORT_INVALID with every problem by file, row and column, nothing
    imported. Returns the campaign id and counts (201)."""
    from laoke.core.errors import FIELD_INVALID, DomainError

    cost_fen = parse_yuan(cost)
    if cost_fen is None:
        raise DomainError(FIELD_INVALID, field="cost")
    summary = external_campaign_import(
        name=name,
        contacts=contacts.file,
        orders=orders.file,
        window_days=window_days,
        cost_fen=cost_fen,
        contacts_name=contacts.name or "contacts.csv",
        orders_name=orders.name or "orders.csv",
        actor=request.user,
    )
    return Status(201, summary)
