"""REST endpoints of the cards app (thin over services and selectors)."""

from ninja import Router

router = Router(tags=["cards"])
