"""Console pages of customer value (under /admin/console/analytics/clv/): the RFM segment table
with a treemap, the CLV page (latest model fits, the scores overview, a P(alive) histogram), the
"refresh now" action and the RFM table as xlsx.

Thin over ``laoke.analytics.scores``; the same permissions as the API (``analytics.view_clvfit``
to read, ``analytics.add_clvfit`` to refresh).
"""

from __future__ import annotations

import numpy as np
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from laoke.analytics import scores
from laoke.core import clock

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VIEW, ADD = "analytics.view_clvfit", "analytics.add_clvfit"


def _ctx(request, title: str, **extra) -> dict:
    return {
        **admin.site.each_context(request),
        "title": title,
        "can_refresh": request.user.has_perm(ADD),
        **extra,
    }


@permission_required(VIEW, raise_exception=True)
def rfm_page(request):
    rows = scores.rfm_segment_table(now=clock.now())
    chart = {
        "labels": [r["label"] for r in rows],
        "members": [r["members"] for r in rows],
        "spend": [r["avg_spend"] for r in rows],
    }
    return TemplateResponse(
        request, "console/analytics/rfm.html", _ctx(request, _("RFM segments"), rows=rows, chart=chart)
    )


@permission_required(VIEW, raise_exception=True)
def rfm_xlsx(request):
    body = scores.rfm_table_xlsx(scores.rfm_segment_table(now=clock.now()))
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="rfm-segments.xlsx"'
    return response


@permission_required(VIEW, raise_exception=True)
def clv_page(request):
    fits = [scores.fit_as_dict(f) for f in scores.clv_fits_latest().values()]
    counts, edges = np.histogram(scores.p_alive_values(), bins=20, range=(0.0, 1.0))
    histogram = {"x": [round(float(e) + 0.025, 3) for e in edges[:-1]], "y": [int(c) for c in counts]}
    context = _ctx(
        request,
        _("Customer lifetime value"),
        fits=fits,
        overview=scores.scores_overview(),
        histogram=histogram,
    )
    return TemplateResponse(request, "console/analytics/clv.html", context)


@require_POST
@permission_required(ADD, raise_exception=True)
def clv_refresh(request):
    result = scores.member_scores_refresh(now=clock.now())
    messages.success(request, _("Scores refreshed: %(members)s members.") % {"members": result.members})
    if result.reason:
        messages.warning(request, _("No CLV: %(reason)s") % {"reason": result.reason})
    return redirect(reverse("analytics_clv"))
