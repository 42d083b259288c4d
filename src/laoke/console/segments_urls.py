"""Console pages of the segments app (mounted under /admin/console/segments/)."""

urlpatterns: list = []
