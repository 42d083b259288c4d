"""/api/v1/channels."""

from ninja import Router

router = Router(tags=["channels"])
