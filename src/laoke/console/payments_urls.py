"""Console pages of payments (mounted under /admin/console/payments/)."""

urlpatterns: list = []
