"""/api/v1/flash."""

from ninja import Router

router = Router(tags=["flash"])
