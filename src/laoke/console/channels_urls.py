"""Console pages of the channels app (mounted under /admin/console/channels/)."""

from django.contrib import admin
from django.urls import path

from . import channels_views as v

urlpatterns: list = [
    path("templates/", admin.site.admin_view(v.template_list), name="channels_templates"),
    path("templates/new/", admin.site.admin_view(v.template_edit), name="channels_template_new"),
    path("templates/preview/", admin.site.admin_view(v.template_preview), name="channels_template_preview"),
    path(
        "templates/<int:template_id>/", admin.site.admin_view(v.template_edit), name="channels_template_edit"
    ),
    path("tasks/", admin.site.admin_view(v.task_list), name="channels_tasks"),
    path("mail-export/", admin.site.admin_view(v.mail_export), name="channels_mail_export"),
]
