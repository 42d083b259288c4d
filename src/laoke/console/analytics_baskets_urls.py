"""Console pages: analytics (baskets) — cross-selling rules, what a set of members bought,
product roles and promotion suggestions."""

from django.contrib import admin
from django.urls import path

from . import analytics_baskets_views as v

urlpatterns: list = [
    path("rules/", admin.site.admin_view(v.rules_page), name="analytics_rules"),
    path("rules.xlsx", admin.site.admin_view(v.rules_xlsx), name="analytics_rules_xlsx"),
    path("purchases/", admin.site.admin_view(v.purchases_page), name="analytics_purchases"),
    path("roles/", admin.site.admin_view(v.roles_page), name="analytics_roles"),
]
