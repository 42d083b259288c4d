"""Console pages of the campaign evaluation (under /admin/console/analytics/)."""

from django.contrib import admin
from django.urls import path

from . import analytics_evaluation_views as v

urlpatterns: list = [
    path("campaigns/", admin.site.admin_view(v.evaluation_list), name="analytics_evaluation"),
    path("campaigns/import/", admin.site.admin_view(v.external_import), name="analytics_external_import"),
    path(
        "campaigns/<int:campaign_id>/", admin.site.admin_view(v.report_page), name="analytics_campaign_report"
    ),
    path(
        "campaigns/<int:campaign_id>/report.xlsx",
        admin.site.admin_view(v.report_xlsx_download),
        name="analytics_campaign_report_xlsx",
    ),
]
