"""/api/v1/analytics/…: the CLV model fits, the member scores' refresh and the RFM segment table
(JSON or xlsx).

Reads need ``analytics.view_clvfit`` and ``analytics:read``; the refresh ``analytics.add_clvfit``
and ``analytics:write``. The refresh runs in the request (as the daily task does): seconds for a
shop of 100k members; it recomputes every member's RFM, P(alive), expected purchases and CLV and
stores the fits. Amounts in yuan.
"""

from django.http import HttpResponse
from ninja import Router

from laoke.core import clock
from laoke.core.api import idempotent_write, require

from . import scores

router = Router(tags=["analytics"])

READ, WRITE = "analytics:read", "analytics:write"
VIEW, ADD = "analytics.view_clvfit", "analytics.add_clvfit"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/clv/fits")
@require(VIEW, READ)
def clv_fits(request):
    """The latest fit of each model (BG/NBD, Pareto/NBD, Gamma-Gamma) and the scores overview:
    parameters by name, log-likelihood, customers, calibration end, time unit (days)."""
    return {
        "items": [scores.fit_as_dict(f) for f in scores.clv_fits_latest().values()],
        "scores": scores.scores_overview(),
    }


@router.post("/clv/refresh")
@require(ADD, WRITE)
def clv_refresh(request):
    """Recompute every member's scores now; ``clv`` false with a ``reason`` when the shop has too
    few repeat buyers to fit the models (RFM is written anyway). Accepts an Idempotency-Key."""
    return idempotent_write(
        request,
        scope="analytics.clv.refresh",
        payload={},
        call=lambda claim: scores.member_scores_refresh(now=clock.now(), idem=claim),
        render=lambda result: (200, result.as_dict()),
    )


@router.get("/rfm")
@require(VIEW, READ)
def rfm_table(request):
    """The RFM segments: members, share, average spend, days since the last order, P(alive), CLV."""
    return {"items": scores.rfm_segment_table(now=clock.now())}


@router.get("/rfm/export.xlsx")
@require(VIEW, READ)
def rfm_export(request):
    """The RFM segment table as xlsx."""
    body = scores.rfm_table_xlsx(scores.rfm_segment_table(now=clock.now()))
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="rfm-segments.xlsx"'
    return response
