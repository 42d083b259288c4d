"""Console pages of imports (mounted under /admin/console/imports/)."""

urlpatterns: list = []
