"""/api/v1/holidays (thin adapters over services and selectors)."""

from ninja import Router

router = Router(tags=["holidays"])
