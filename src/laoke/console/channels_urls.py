"""Console pages of the channels app (mounted under /admin/console/channels/)."""

urlpatterns: list = []
