"""Who may call each /api/v1/referrals endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 6 and 16: whoever registers members (service desk, cashiers at the till, the
shop's systems) records the referrer a new member names, and marketers may too; everyone who
registers, plus analysts, reads referrals and the programme; marketers run the programme; the
referral-share KPI is a marketing figure for marketers and analysts.
"""

from __future__ import annotations

P = "/api/v1/referrals"
ADMIN = frozenset({"admin"})
DESIGNERS = ADMIN | {"marketer"}
REGISTRARS = DESIGNERS | {"service_manager", "service_agent", "cashier", "api_client"}
READERS = REGISTRARS | {"analyst"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("POST", P): REGISTRARS,
    ("GET", P): READERS,
    ("GET", f"{P}/programme"): READERS,
    ("PATCH", f"{P}/programme"): DESIGNERS,
    ("GET", f"{P}/kpi"): DESIGNERS | {"analyst"},
}
