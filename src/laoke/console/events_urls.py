"""Console pages of events (mounted under /admin/console/events/)."""

urlpatterns: list = []
