"""/livez, /healthz and /metrics: thin views over laoke.ops.selectors and laoke.ops.metrics.

None of them needs a login (a load balancer and Prometheus have no session) and none is under
/api/v1; /metrics is guarded by a Bearer token, or by loopback when no token is configured.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from . import metrics, selectors


@never_cache
@require_GET
def livez(request):
    """Liveness: the process serves requests. Touches nothing else (no database, no queue), so a
    database outage does not make a supervisor restart every web process."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def healthz(request):
    """Readiness: 200 when the database answers, every migration is applied, the queue's storage
    answers and the data directory has room; 503 otherwise. Only check names and ok/fail."""
    checks = selectors.health_checks()
    ok = all(checks.values())
    body = {"status": "ok" if ok else "fail", "checks": {k: "ok" if v else "fail" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if ok else 503)


def _is_loopback(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.strip().split("%")[0]).is_loopback
    except ValueError:
        return False


def _from_loopback(request) -> bool:
    """REMOTE_ADDR is loopback and no proxy says the request came from elsewhere: behind nginx on
    the same machine every request arrives from 127.0.0.1, with X-Real-IP/X-Forwarded-For set."""
    if not _is_loopback(request.META.get("REMOTE_ADDR")):
        return False
    forwarded = [request.META.get("HTTP_X_REAL_IP", "")]
    forwarded += request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    return all(_is_loopback(a) for a in forwarded if a.strip())


def _token_ok(request, token: str) -> bool:
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_GET
def metrics_view(request):
    token = settings.LAOKE.get("METRICS_TOKEN") or ""
    if token:
        if not _token_ok(request, token):
            response = HttpResponse("401 Unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _from_loopback(request):
        return HttpResponse(
            "403 Forbidden: set LAOKE_METRICS_TOKEN to scrape from another host\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
