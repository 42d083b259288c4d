"""/api/v1/b2b (thin adapters over services and selectors)."""

from ninja import Router

router = Router(tags=["b2b"])
