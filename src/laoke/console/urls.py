from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from . import cards_views, views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/console/member/<int:member_id>/", admin.site.admin_view(views.member_360), name="member_360"),
    path("admin/console/cards/recharge/", admin.site.admin_view(cards_views.recharge), name="cards_recharge"),
    path(
        "admin/console/cards/batches/new/",
        admin.site.admin_view(cards_views.batch_create),
        name="cards_batch_new",
    ),
    path(
        "admin/console/cards/batches/<int:batch_id>/",
        admin.site.admin_view(cards_views.batch_progress),
        name="cards_batch_progress",
    ),
    path(
        "admin/console/cards/batches/<int:batch_id>/download/",
        admin.site.admin_view(cards_views.batch_download),
        name="cards_batch_download",
    ),
    path("admin/", admin.site.urls),
]
