"""Console pages of b2b (mounted under /admin/console/b2b/)."""

urlpatterns: list = []
