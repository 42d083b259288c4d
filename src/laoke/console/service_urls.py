"""Console pages of service (mounted under /admin/console/service/)."""

from django.contrib import admin
from django.urls import path

from . import service_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.service_index), name="service_index"),
    path("new/", admin.site.admin_view(v.service_case_new), name="service_case_new"),
    path("cases/<int:case_id>/", admin.site.admin_view(v.service_case), name="service_case"),
    path("libraries/", admin.site.admin_view(v.service_libraries), name="service_libraries"),
    path("rules/", admin.site.admin_view(v.service_rules), name="service_rules"),
]
