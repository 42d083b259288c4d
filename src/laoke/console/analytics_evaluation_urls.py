"""Console pages: analytics (evaluation)."""

urlpatterns: list = []
