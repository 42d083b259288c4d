"""Who may call each /api/v1/shipping endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 7 and 16 and docs/decisions/0015-shipping.md, independently of shipping/apps.py:
- everyone who sells to, serves or analyses members reads the rules and may quote (the till and
  the shop's systems price orders; service staff explain a postage) — not the redemption clerk,
  who handles gifts only;
- marketers (and the admin) install presets and change rules: 包邮 is a promotion.
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

S = "/api/v1/shipping"
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("POST", f"{S}/quote"): READERS,
    ("GET", f"{S}/rule-sets"): READERS,
    ("GET", f"{S}/rule-sets/{{int:rule_set_id}}"): READERS,
    ("POST", f"{S}/rule-sets/presets"): DESIGNERS,
    ("PATCH", f"{S}/rule-sets/{{int:rule_set_id}}"): DESIGNERS,
}
