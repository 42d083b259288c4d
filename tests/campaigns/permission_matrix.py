"""Who may call each /api/v1/campaigns endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 9 and 16: marketers design, schedule, pause and cancel campaigns; approval is a
service manager's (or the admin's) — the four-eyes rule against the creator is the service's;
analysts read; service agents see what a member received (to answer "what is this SMS?"); the
marketing guards (quiet hours, caps) are the admin's.
"""

from __future__ import annotations

P = "/api/v1/campaigns"
ADMIN = frozenset({"admin"})
DESIGNERS = ADMIN | {"marketer"}
APPROVERS = ADMIN | {"service_manager"}
READERS = DESIGNERS | {"analyst", "service_manager"}
HISTORY = READERS | {"service_agent"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", P): READERS,
    ("POST", P): DESIGNERS,
    ("GET", f"{P}/settings"): READERS,
    ("PUT", f"{P}/settings"): ADMIN,
    ("GET", f"{P}/members/{{int:member_id}}/history"): HISTORY,
    ("POST", f"{P}/presets"): DESIGNERS,
    ("GET", f"{P}/{{int:campaign_id}}"): READERS,
    ("PATCH", f"{P}/{{int:campaign_id}}"): DESIGNERS,
    ("POST", f"{P}/{{int:campaign_id}}/approve"): APPROVERS,
    ("POST", f"{P}/{{int:campaign_id}}/schedule"): DESIGNERS,
    ("POST", f"{P}/{{int:campaign_id}}/pause"): DESIGNERS,
    ("POST", f"{P}/{{int:campaign_id}}/resume"): DESIGNERS,
    ("POST", f"{P}/{{int:campaign_id}}/cancel"): DESIGNERS,
    ("GET", f"{P}/{{int:campaign_id}}/dry-run"): READERS,
    ("GET", f"{P}/{{int:campaign_id}}/progress"): READERS,
}
