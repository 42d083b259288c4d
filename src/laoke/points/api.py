"""REST endpoints of the points app (thin over services and selectors)."""

from ninja import Router

router = Router(tags=["points"])
