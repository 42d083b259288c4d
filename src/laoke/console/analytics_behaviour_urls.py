"""Console pages: analytics (behaviour) — traffic, cohorts, lifecycle, event forecasts."""

from django.contrib import admin
from django.urls import path

from . import analytics_behaviour_views as v

urlpatterns: list = [
    path("traffic/", admin.site.admin_view(v.traffic_page), name="analytics_traffic"),
    path("traffic.xlsx", admin.site.admin_view(v.traffic_xlsx), name="analytics_traffic_xlsx"),
    path("cohorts/", admin.site.admin_view(v.cohorts_page), name="analytics_cohorts"),
    path("cohorts.xlsx", admin.site.admin_view(v.cohorts_xlsx), name="analytics_cohorts_xlsx"),
    path("lifecycle/", admin.site.admin_view(v.lifecycle_page), name="analytics_lifecycle"),
    path("forecasts/", admin.site.admin_view(v.forecast_page), name="analytics_forecast"),
    path(
        "forecasts/<int:forecast_id>/",
        admin.site.admin_view(v.forecast_detail),
        name="analytics_forecast_detail",
    ),
]
