"""Console pages of service (mounted under /admin/console/service/)."""

urlpatterns: list = []
