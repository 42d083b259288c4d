"""Console pages: analytics (clv)."""

urlpatterns: list = []
