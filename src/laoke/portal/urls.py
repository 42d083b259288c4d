"""Plain Django views of portal (not the API)."""

urlpatterns: list = []
