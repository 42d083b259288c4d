"""Health and metrics endpoints (mounted at the site root by laoke.urls)."""

urlpatterns: list = []
