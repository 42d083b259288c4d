"""/api/v1/shipping."""

from ninja import Router

router = Router(tags=["shipping"])
