"""Console pages of the analytics app (mounted under /admin/console/analytics/); each part keeps
its pages in its own url module."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("laoke.console.analytics_evaluation_urls")),
    path("clv/", include("laoke.console.analytics_clv_urls")),
    path("baskets/", include("laoke.console.analytics_baskets_urls")),
    path("behaviour/", include("laoke.console.analytics_behaviour_urls")),
]
