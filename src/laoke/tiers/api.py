"""REST endpoints of the tiers app (thin over services and selectors)."""

from ninja import Router

router = Router(tags=["tiers"])
