"""Console pages: analytics (baskets)."""

urlpatterns: list = []
