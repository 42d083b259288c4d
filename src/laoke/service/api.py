"""/api/v1/service (thin adapters over services and selectors)."""

from ninja import Router

router = Router(tags=["service"])
