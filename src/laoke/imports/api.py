"""REST API of the imports app: /api/v1/imports/ (jobs, mappings) — see api_exports for exports."""

from ninja import Router

router = Router(tags=["imports"])
