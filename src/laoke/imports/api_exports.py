"""REST API of exports: /api/v1/exports/."""

from ninja import Router

router = Router(tags=["exports"])
