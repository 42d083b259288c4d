"""Console pages of staff (mounted under /admin/console/staff/)."""

from django.contrib import admin
from django.urls import path

from . import staff_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.staff_index), name="staff_index"),
    path("log/", admin.site.admin_view(v.staff_log), name="staff_log"),
    path("prospects/", admin.site.admin_view(v.staff_prospects), name="staff_prospects"),
    path(
        "prospects/<int:pk>/close/",
        admin.site.admin_view(v.staff_prospect_close),
        name="staff_prospect_close",
    ),
    path("assessment/", admin.site.admin_view(v.staff_assessment), name="staff_assessment"),
    path("assessment/file/", admin.site.admin_view(v.staff_assessment_file), name="staff_assessment_file"),
    path(
        "assessment/<int:pk>/sign/",
        admin.site.admin_view(v.staff_assessment_sign),
        name="staff_assessment_sign",
    ),
    path("assessment.xlsx", admin.site.admin_view(v.staff_assessment_xlsx), name="staff_assessment_xlsx"),
]
