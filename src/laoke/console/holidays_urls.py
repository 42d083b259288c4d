"""Console pages of holidays (mounted under /admin/console/holidays/)."""

from django.contrib import admin
from django.urls import path

from . import holidays_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.index), name="holidays_index"),
    path("campaigns/<int:campaign_id>/", admin.site.admin_view(v.campaign), name="holidays_campaign"),
    path("campaigns/<int:campaign_id>/apply/", admin.site.admin_view(v.apply), name="holidays_apply"),
    path("campaigns/<int:campaign_id>/export/", admin.site.admin_view(v.export), name="holidays_export"),
    path(
        "applications/<int:application_id>/decide/", admin.site.admin_view(v.decide), name="holidays_decide"
    ),
]
