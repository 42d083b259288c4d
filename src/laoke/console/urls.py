from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import cards_views, checkout_views, views

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
    path("admin/console/checkout/", admin.site.admin_view(checkout_views.checkout), name="orders_checkout"),
    path(
        "admin/console/checkout/receipt/<str:number>/",
        admin.site.admin_view(checkout_views.receipt),
        name="orders_receipt",
    ),
    path("admin/console/segments/", include("laoke.console.segments_urls")),
    path("admin/console/channels/", include("laoke.console.channels_urls")),
    path("admin/console/campaigns/", include("laoke.console.campaigns_urls")),
    path("admin/console/analytics/", include("laoke.console.analytics_urls")),
    path("admin/console/imports/", include("laoke.console.imports_urls")),
    path("admin/console/exports/", include("laoke.console.exports_urls")),
    path("admin/console/payments/", include("laoke.console.payments_urls")),
    path("admin/console/service/", include("laoke.console.service_urls")),
    path("admin/console/events/", include("laoke.console.events_urls")),
    path("admin/console/holidays/", include("laoke.console.holidays_urls")),
    path("admin/console/b2b/", include("laoke.console.b2b_urls")),
    path("admin/console/staff/", include("laoke.console.staff_urls")),
    path("admin/", admin.site.urls),
]
