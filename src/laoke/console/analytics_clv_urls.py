"""Console pages: analytics (clv) — the CLV fits and P(alive), the RFM segments."""

from django.contrib import admin
from django.urls import path

from . import analytics_clv_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.clv_page), name="analytics_clv"),
    path("refresh/", admin.site.admin_view(v.clv_refresh), name="analytics_clv_refresh"),
    path("rfm/", admin.site.admin_view(v.rfm_page), name="analytics_rfm"),
    path("rfm.xlsx", admin.site.admin_view(v.rfm_xlsx), name="analytics_rfm_xlsx"),
]
