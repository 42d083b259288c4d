"""Console pages of staff (mounted under /admin/console/staff/)."""

urlpatterns: list = []
