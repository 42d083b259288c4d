"""Console pages of the campaigns app (mounted under /admin/console/campaigns/)."""

urlpatterns: list = []
