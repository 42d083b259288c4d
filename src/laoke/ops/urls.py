"""Health and metrics endpoints (mounted at the site root by laoke.urls; docs/operations.md)."""

from django.urls import path

from . import views

urlpatterns = [
    path("livez", views.livez, name="ops_livez"),
    path("healthz", views.healthz, name="ops_healthz"),
    path("metrics", views.metrics_view, name="ops_metrics"),
]
