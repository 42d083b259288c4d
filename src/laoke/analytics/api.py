"""/api/v1/analytics: every report of SPEC 11 as JSON (and xlsx where a table is the point).

One router; each part of the app keeps its endpoints in its own module (``api_evaluation``,
``api_clv``, ``api_baskets``, ``api_behaviour``) mounted here. Reads need ``analytics:read``
(analysts, marketers, the admin); imports and fits ``analytics:write``.
"""

from ninja import Router

from .api_baskets import router as baskets_router
from .api_behaviour import router as behaviour_router
from .api_clv import router as clv_router
from .api_evaluation import router as evaluation_router

router = Router(tags=["analytics"])
router.add_router("/", evaluation_router)
router.add_router("/", clv_router)
router.add_router("/", baskets_router)
router.add_router("/", behaviour_router)
