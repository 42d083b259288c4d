"""Console pages of the segments app (mounted under /admin/console/segments/)."""

from django.contrib import admin
from django.urls import path

from . import segments_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.segment_list), name="segments_list"),
    path("new/", admin.site.admin_view(v.segment_edit), name="segments_new"),
    path("<int:segment_id>/", admin.site.admin_view(v.segment_edit), name="segments_edit"),
    path("preview/", admin.site.admin_view(v.segment_preview), name="segments_preview"),
]
