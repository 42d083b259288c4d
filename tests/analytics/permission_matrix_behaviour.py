"""Who may call each behaviour endpoint of /api/v1/analytics (merged into tests/test_permission_matrix.py).

Written from SPEC 11 and 16: analysts and marketers read every report; both import page views and
save event forecasts; recording a forecast's actuals is the marketers' (they ran the event); the
admin everything. Cashiers, service staff, clerks and API clients see none of it.
"""

from __future__ import annotations

P = "/api/v1/analytics"
ADMIN = frozenset({"admin"})
READERS = ADMIN | {"marketer", "analyst"}
IMPORTERS = READERS  # analytics.add_pageview: marketer and analyst
FORECASTERS = READERS  # analytics.add_eventforecast: marketer and analyst
ACTUALS = ADMIN | {"marketer"}  # analytics.change_eventforecast

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("POST", f"{P}/pageviews/import"): IMPORTERS,
    ("GET", f"{P}/traffic/entries"): READERS,
    ("GET", f"{P}/traffic/paths"): READERS,
    ("GET", f"{P}/traffic/funnel"): READERS,
    ("GET", f"{P}/traffic/daily"): READERS,
    ("GET", f"{P}/cohorts"): READERS,
    ("GET", f"{P}/repurchase-intervals"): READERS,
    ("GET", f"{P}/lifecycle"): READERS,
    ("POST", f"{P}/forecasts/calculate"): READERS,
    ("GET", f"{P}/forecasts"): READERS,
    ("POST", f"{P}/forecasts"): FORECASTERS,
    ("GET", f"{P}/forecasts/{{int:forecast_id}}"): READERS,
    ("PATCH", f"{P}/forecasts/{{int:forecast_id}}"): ACTUALS,
}
