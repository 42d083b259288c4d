"""Console pages of the campaigns app (mounted under /admin/console/campaigns/)."""

from django.contrib import admin
from django.urls import path

from . import campaigns_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.campaign_list), name="campaigns_list"),
    path("new/", admin.site.admin_view(v.campaign_edit), name="campaigns_new"),
    path("presets/", admin.site.admin_view(v.presets_install), name="campaigns_presets"),
    path("settings/", admin.site.admin_view(v.campaign_settings), name="campaigns_settings"),
    path(
        "members/<int:member_id>/history/",
        admin.site.admin_view(v.member_history),
        name="campaigns_member_history",
    ),
    path("<int:campaign_id>/", admin.site.admin_view(v.campaign_edit), name="campaigns_edit"),
    path("<int:campaign_id>/action/", admin.site.admin_view(v.campaign_action), name="campaigns_action"),
    path("<int:campaign_id>/dry-run/", admin.site.admin_view(v.campaign_dry_run), name="campaigns_dry_run"),
    path(
        "<int:campaign_id>/progress/", admin.site.admin_view(v.campaign_progress), name="campaigns_progress"
    ),
    path(
        "<int:campaign_id>/progress.json",
        admin.site.admin_view(v.campaign_progress_json),
        name="campaigns_progress_json",
    ),
]
