"""Who may call each /api/v1/staff endpoint (merged into tests/test_permission_matrix.py).

From SPEC 12 and the task (issue 8): sales reps work on their own plans, logs and prospects; sales
managers (branch heads) also set quotas, add customers and sign off assessments; the general
manager reads everything; the admin holds all. Nobody else sees staff work."""

from __future__ import annotations

S = "/api/v1/staff"
READERS = frozenset({"admin", "sales_rep", "sales_manager", "general_manager"})
WORKERS = frozenset({"admin", "sales_rep", "sales_manager"})
MANAGERS = frozenset({"admin", "sales_manager"})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{S}/quota"): READERS,
    ("PUT", f"{S}/quota"): MANAGERS,
    ("GET", f"{S}/day"): READERS,
    ("GET", f"{S}/logs"): READERS,
    ("POST", f"{S}/logs"): WORKERS,
    ("GET", f"{S}/cadence"): READERS,
    ("GET", f"{S}/accounts"): READERS,
    ("POST", f"{S}/accounts"): MANAGERS,
    ("POST", f"{S}/plans/items"): WORKERS,
    ("GET", f"{S}/prospects"): READERS,
    ("POST", f"{S}/prospects"): WORKERS,
    ("GET", f"{S}/prospects/pending"): READERS,
    ("GET", f"{S}/prospects/report"): READERS,
    ("GET", f"{S}/prospects/{{int:prospect_id}}"): READERS,
    ("POST", f"{S}/prospects/{{int:prospect_id}}/close"): WORKERS,
    ("GET", f"{S}/assessments"): READERS,
    ("GET", f"{S}/assessments/export"): READERS,
    ("POST", f"{S}/assessments"): WORKERS,
    ("POST", f"{S}/assessments/{{int:assessment_id}}/sign"): MANAGERS,
}
