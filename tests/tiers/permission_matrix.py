"""Who may call each /api/v1/tiers endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 2 and 16 and docs/decisions/0012-tiers.md, independently of tiers/apps.py:
- everyone who serves, sells to or analyses members reads programmes and a member's tier and
  history (the redemption clerk handles gifts only);
- marketers (and the admin) design programmes and levels;
- a manual grant is a service manager's decision (seed 001: "客服灵活把握 多请示领导");
- re-evaluating rules (upgrades only) is also open to the shop's systems (API client);
- group accounts' tiers follow the object rule: only those who see group members.
"""

from __future__ import annotations

ROLES = frozenset(
    {
        "admin",
        "marketer",
        "analyst",
        "service_manager",
        "service_agent",
        "cashier",
        "redemption_clerk",
        "api_client",
    }
)
READERS = ROLES - {"redemption_clerk"}
DESIGNERS = frozenset({"admin", "marketer"})
GRANTERS = frozenset({"admin", "service_manager"})
EVALUATORS = GRANTERS | {"api_client"}
GROUP_READERS = frozenset({"admin", "service_manager", "api_client"})

T = "/api/v1/tiers"
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{T}/programmes"): READERS,
    ("POST", f"{T}/programmes"): DESIGNERS,
    ("GET", f"{T}/programmes/{{int:programme_id}}"): READERS,
    ("PATCH", f"{T}/programmes/{{int:programme_id}}"): DESIGNERS,
    ("DELETE", f"{T}/programmes/{{int:programme_id}}"): DESIGNERS,
    ("POST", f"{T}/programmes/{{int:programme_id}}/levels"): DESIGNERS,
    ("PATCH", f"{T}/levels/{{int:level_id}}"): DESIGNERS,
    ("DELETE", f"{T}/levels/{{int:level_id}}"): DESIGNERS,
    ("GET", f"{T}/members/{{int:member_id}}"): READERS,
    ("GET", f"{T}/members/{{int:member_id}}/history"): READERS,
    ("POST", f"{T}/members/{{int:member_id}}/grant"): GRANTERS,
    ("POST", f"{T}/members/{{int:member_id}}/evaluate"): EVALUATORS,
    ("GET", f"{T}/groups/{{int:group_id}}"): GROUP_READERS,
    ("GET", f"{T}/groups/{{int:group_id}}/history"): GROUP_READERS,
    ("POST", f"{T}/groups/{{int:group_id}}/grant"): GRANTERS,
    ("POST", f"{T}/groups/{{int:group_id}}/evaluate"): EVALUATORS,
}
