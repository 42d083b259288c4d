"""Console pages of the campaign evaluation: the report of one campaign (arms, uplift with its
interval per wave, response vs control over time, comparisons, feature distributions), its xlsx
export, the list of campaigns to evaluate and the external-campaign import form."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from laoke.analytics.evaluation import campaign_features, campaign_report, campaign_responder_purchases
from laoke.analytics.external import external_campaign_import, parse_yuan
from laoke.analytics.report_export import report_xlsx
from laoke.campaigns.models import Campaign, CampaignState, TargetMetric
from laoke.campaigns.selectors import campaign_get
from laoke.core.admin import request_lang
from laoke.core.errors import DomainError, RowErrors

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ctx(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _chart_data(report: dict) -> dict:
    """What the page's plotly charts draw: treatment uplift with its interval per run, and the
    cumulative response of each arm by day."""
    runs = []
    for r in report["runs"]:
        for arm in r["arms"]:
            up = arm.get("uplift")
            if up and up["status"] == "ok":
                runs.append(
                    {
                        "label": f"{r['wave']} #{r['loop'] + 1}",
                        "abs": up["abs"],
                        "low": up["ci_low"],
                        "high": up["ci_high"],
                    }
                )
    if not report["runs"]:  # an external campaign: one bar per treatment arm
        for arm in report["arms"]:
            up = arm.get("uplift")
            if up and up["status"] == "ok":
                runs.append(
                    {"label": arm["name"], "abs": up["abs"], "low": up["ci_low"], "high": up["ci_high"]}
                )
    return {"uplift": runs, "series": report["series"]}


@permission_required("campaigns.view_campaign", raise_exception=True)
def evaluation_list(request):
    campaigns = Campaign.objects.exclude(
        state__in=[CampaignState.DRAFT, CampaignState.APPROVED, CampaignState.SCHEDULED]
    ).order_by("-pk")[:200]
    return TemplateResponse(
        request,
        "console/analytics/evaluation_list.html",
        _ctx(
            request,
            _("Campaign evaluation"),
            campaigns=campaigns,
            can_import=request.user.has_perm("analytics.add_externalcontact"),
        ),
    )


@permission_required("campaigns.view_campaign", raise_exception=True)
def report_page(request, campaign_id: int):
    campaign = campaign_get(campaign_id)
    report = campaign_report(campaign)
    titles = {
        "channel": (_("By channel"), _("channel")),
        "offer": (_("By offer"), _("offer")),
        "branch": (_("By subgroup"), _("subgroup")),
        "loop": (_("By loop (period)"), _("loop")),
    }
    comparisons = [
        {
            "title": titles[key][0],
            "label": titles[key][1],
            "rows": [{"key": g[key] or "—", "arms": g["arms"]} for g in groups],
        }
        for key, groups in report["comparisons"].items()
        if len(groups) > 1
    ]
    runs = [{"key": f"{r['wave']} #{r['loop'] + 1}", "arms": r["arms"]} for r in report["runs"]]
    return TemplateResponse(
        request,
        "console/analytics/evaluation_report.html",
        _ctx(
            request,
            _("Evaluation: %(name)s") % {"name": campaign.name},
            campaign=campaign,
            report=report,
            charts=_chart_data(report),
            overall=[{"key": "", "arms": report["arms"]}],
            target_label=dict(TargetMetric.choices).get(report["target"]["metric"], ""),
            runs=runs,
            comparisons=comparisons,
            features=campaign_features(campaign),
            purchases=campaign_responder_purchases(campaign),
            feature_rows=[
                ("orders_before", _("orders before")),
                ("spend_before", _("spend before (yuan)")),
                ("days_since_last_order", _("days since the last order")),
                ("membership_days", _("days as a member")),
            ],
        ),
    )


@permission_required("campaigns.view_campaign", raise_exception=True)
def report_xlsx_download(request, campaign_id: int):
    response = HttpResponse(report_xlsx(campaign_report(campaign_get(campaign_id))), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign_id}-report.xlsx"'
    return response


@permission_required("campaigns.view_campaign", raise_exception=True)
def external_import(request):
    if not request.user.has_perm("analytics.add_externalcontact"):
        raise PermissionDenied
    errors, message, form = [], "", {"name": "", "window_days": 30, "cost": "0"}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}
        contacts, orders = request.FILES.get("contacts"), request.FILES.get("orders")
        cost = parse_yuan(form["cost"] or "0")
        try:
            window = int(form["window_days"] or 30)
        except ValueError:
            window = 0
        if contacts is None or orders is None:
            message = _("Choose both files.")
        elif cost is None:
            message = _("The cost must be an amount in yuan.")
        else:
            try:
                summary = external_campaign_import(
                    name=form["name"],
                    contacts=contacts.file,
                    orders=orders.file,
                    window_days=window,
                    cost_fen=cost,
                    contacts_name=contacts.name,
                    orders_name=orders.name,
                    actor=request.user,
                )
                return redirect("analytics_campaign_report", campaign_id=summary["id"])
            except RowErrors as err:
                body = err.as_body(request_lang(request))
                message, errors = body["message"], body["details"]["errors"]
            except DomainError as err:
                message = err.message(request_lang(request))
    return TemplateResponse(
        request,
        "console/analytics/evaluation_import.html",
        _ctx(request, _("Import an external campaign"), errors=errors, message=message, form=form),
    )
