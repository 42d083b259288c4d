"""/api/v1/staff (thin adapters over services and selectors)."""

from ninja import Router

router = Router(tags=["staff"])
