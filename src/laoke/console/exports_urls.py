"""Console pages of exports (mounted under /admin/console/exports/)."""

from django.contrib import admin
from django.urls import path

from . import exports_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.export_list), name="exports_list"),
    path("start/", admin.site.admin_view(v.export_start), name="exports_start"),
    path("<str:job_id>/progress/", admin.site.admin_view(v.export_progress), name="exports_progress"),
    path("<str:job_id>/file/", admin.site.admin_view(v.export_file), name="exports_file"),
]
