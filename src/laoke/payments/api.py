"""/api/v1/payments (thin adapters over services and selectors)."""

from ninja import Router

router = Router(tags=["payments"])
