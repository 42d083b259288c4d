"""Who may call each /api/v1/points endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 3 and 16, seed 002 and docs/decisions/0013-points.md, independently of
points/apps.py:
- everyone who serves, sells to or analyses members reads the programme, the gift catalogue and a
  member's points (the redemption clerk too: a redemption starts with the balance);
- marketers (and the admin) change the programme's settings;
- gifts are handed out by the redemption clerk ("积分礼品的兑换专由一人负责") or by the shop's
  systems (member centre), and the admin;
- receipt claims (补积分) are taken at the till, by service staff and by the member centre; a
  service manager decides them; manual adjustments and old-programme migration are a service
  manager's decision too;
- daily sign-in is recorded at the till, by service staff and by the member centre.
"""

from __future__ import annotations

ALL = frozenset(
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
DESIGNERS = frozenset({"admin", "marketer"})
MANAGERS = frozenset({"admin", "service_manager"})
REDEEMERS = frozenset({"admin", "redemption_clerk", "api_client"})
CLAIM_READERS = MANAGERS | {"service_agent", "api_client"}
TILL = CLAIM_READERS | {"cashier"}

P = "/api/v1/points"
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/programme"): ALL,
    ("PATCH", f"{P}/programme"): DESIGNERS,
    ("POST", f"{P}/quote"): ALL,
    ("GET", f"{P}/members/{{int:member_id}}/balance"): ALL,
    ("GET", f"{P}/members/{{int:member_id}}/lots"): ALL,
    ("GET", f"{P}/members/{{int:member_id}}/history"): ALL,
    ("POST", f"{P}/members/{{int:member_id}}/adjustments"): MANAGERS,
    ("POST", f"{P}/members/{{int:member_id}}/sign-in"): TILL,
    ("POST", f"{P}/members/{{int:member_id}}/migration"): MANAGERS,
    ("GET", f"{P}/gift-offers"): ALL,
    ("POST", f"{P}/redemptions"): REDEEMERS,
    # Undoing a redemption (gift brought back) gives points back: a manager's decision.
    ("POST", f"{P}/redemptions/{{int:redemption_id}}/cancel"): MANAGERS,
    ("GET", f"{P}/claims"): CLAIM_READERS,
    ("POST", f"{P}/claims"): TILL,
    ("POST", f"{P}/claims/{{int:claim_id}}/decide"): MANAGERS,
}
