"""Console pages of b2b (mounted under /admin/console/b2b/)."""

from django.contrib import admin
from django.urls import path

from . import b2b_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.index), name="b2b_index"),
    path("funnel.xlsx", admin.site.admin_view(v.funnel_xlsx), name="b2b_funnel_xlsx"),
    path("opportunities/<int:opp>/", admin.site.admin_view(v.opportunity_detail), name="b2b_opportunity"),
    path(
        "opportunities/<int:opp>/action/",
        admin.site.admin_view(v.opportunity_action),
        name="b2b_opportunity_action",
    ),
    path("customers/", admin.site.admin_view(v.customer_list), name="b2b_customers"),
    path("charge-accounts/", admin.site.admin_view(v.account_list), name="b2b_accounts"),
    path("charge-accounts/<int:account>/", admin.site.admin_view(v.account_detail), name="b2b_account"),
    path(
        "charge-accounts/<int:account>/entry/",
        admin.site.admin_view(v.account_entry),
        name="b2b_account_entry",
    ),
    path("surveys/", admin.site.admin_view(v.surveys), name="b2b_surveys"),
]
