"""Plain Django views of payments (not the API)."""

urlpatterns: list = []
