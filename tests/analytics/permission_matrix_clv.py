"""Who may call each CLV / RFM endpoint of /api/v1/analytics (merged into
tests/test_permission_matrix.py). From SPEC 11 and analytics/apps.py: analysts, marketers and the
admin read the fits and the RFM table and may refresh the scores; nobody else."""

from __future__ import annotations

P = "/api/v1/analytics"
READERS = frozenset({"admin", "marketer", "analyst"})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/clv/fits"): READERS,
    ("POST", f"{P}/clv/refresh"): READERS,
    ("GET", f"{P}/rfm"): READERS,
    ("GET", f"{P}/rfm/export.xlsx"): READERS,
}
