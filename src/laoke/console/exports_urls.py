"""Console pages of exports (mounted under /admin/console/exports/)."""

urlpatterns: list = []
