"""Console pages of holidays (mounted under /admin/console/holidays/)."""

urlpatterns: list = []
