"""Console pages of imports (mounted under /admin/console/imports/)."""

from django.contrib import admin
from django.urls import path

from . import imports_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.import_list), name="imports_list"),
    path("new/", admin.site.admin_view(v.import_new), name="imports_new"),
    path("<str:job_id>/", admin.site.admin_view(v.import_detail), name="imports_detail"),
    path("<str:job_id>/mapping/", admin.site.admin_view(v.import_mapping), name="imports_mapping"),
    path("<str:job_id>/progress/", admin.site.admin_view(v.import_progress), name="imports_progress"),
    path("<str:job_id>/check/", admin.site.admin_view(v.import_check), name="imports_check"),
    path("<str:job_id>/confirm/", admin.site.admin_view(v.import_confirm), name="imports_confirm"),
    path("<str:job_id>/errors.xlsx", admin.site.admin_view(v.import_errors_xlsx), name="imports_errors"),
]
