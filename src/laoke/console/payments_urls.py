"""Console pages of payments (mounted under /admin/console/payments/)."""

from django.contrib import admin
from django.urls import path

from . import payments_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.payments_index), name="payments_index"),
    path("packages/new/", admin.site.admin_view(v.package_new), name="payments_package_new"),
    path(
        "packages/<int:package_id>/toggle/",
        admin.site.admin_view(v.package_toggle),
        name="payments_package_toggle",
    ),
    path("purchases/<int:purchase_id>/", admin.site.admin_view(v.purchase_detail), name="payments_purchase"),
    path(
        "purchases/<int:purchase_id>/refund/",
        admin.site.admin_view(v.purchase_refund),
        name="payments_purchase_refund",
    ),
]
