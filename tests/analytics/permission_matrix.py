"""Who may call each /api/v1/analytics endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 11 and 16: analysts and marketers read every report (campaign reports also the
service managers, who approve campaigns); marketers import external campaigns; imports of page
views, model fits, product roles and forecasts per analytics/apps.py. Each part of the app keeps
its rows in permission_matrix_<part>.py.
"""

from __future__ import annotations

import importlib

P = "/api/v1/analytics"
ADMIN = frozenset({"admin"})
CAMPAIGN_READERS = ADMIN | {"marketer", "analyst", "service_manager"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/campaigns/{{int:campaign_id}}/report"): CAMPAIGN_READERS,
    ("GET", f"{P}/campaigns/{{int:campaign_id}}/features"): CAMPAIGN_READERS,
    ("GET", f"{P}/campaigns/{{int:campaign_id}}/responder-purchases"): CAMPAIGN_READERS,
    ("POST", f"{P}/external-campaigns"): ADMIN | {"marketer"},
}
for _part in ("clv", "baskets", "behaviour"):
    _rows = importlib.import_module(f"tests.analytics.permission_matrix_{_part}").EXPECTED
    assert not set(_rows) & set(EXPECTED), f"analytics/{_part} re-classifies endpoints"
    EXPECTED.update(_rows)
