"""Who may call each /api/v1/flash endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 6 and 16 and docs/decisions/0019-flash-zone.md, independently of flash/apps.py:
- the old-customer flash zone is a promotion: marketers (and the admin) add items, set floors,
  keep the holiday calendar and the zone's settings;
- everyone who sells to or serves members reads today's zone, the items, the settings and the
  holidays (the till and the shop's systems show the current price; service staff explain it;
  analysts measure it) — not the redemption clerk, who handles gifts only.
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

F = "/api/v1/flash"
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{F}/zone"): READERS,
    ("GET", f"{F}/settings"): READERS,
    ("PATCH", f"{F}/settings"): DESIGNERS,
    ("GET", f"{F}/items"): READERS,
    ("POST", f"{F}/items"): DESIGNERS,
    ("GET", f"{F}/items/{{int:item_id}}"): READERS,
    ("PATCH", f"{F}/items/{{int:item_id}}"): DESIGNERS,
    ("POST", f"{F}/items/{{int:item_id}}/retire"): DESIGNERS,
    ("GET", f"{F}/holidays"): READERS,
    ("POST", f"{F}/holidays"): DESIGNERS,
}
