"""/api/v1/events (thin adapters over services and selectors)."""

from ninja import Router

router = Router(tags=["events"])
