"""Console pages: analytics (behaviour)."""

urlpatterns: list = []
