"""/api/v1/portal (thin adapters over services and selectors)."""

from ninja import Router

router = Router(tags=["portal"])
