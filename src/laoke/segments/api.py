"""/api/v1/segments."""

from ninja import Router

router = Router(tags=["segments"])
