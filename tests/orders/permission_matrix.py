"""Who may call each /api/v1/orders endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 5 and 16: cashiers and the shop's systems quote and settle; refunds and returns
by cashiers, service managers and the systems; delivery and reviews by service staff and the
systems; a big order's extra discount is asked for by whoever settles and approved by a manager
(请示领导); the order policies are the admin's.
"""

from __future__ import annotations

P = "/api/v1/orders"
ADMIN = frozenset({"admin"})
SETTLERS = ADMIN | {"cashier", "api_client"}
REFUNDERS = SETTLERS | {"service_manager"}
SHIPPERS = ADMIN | {"service_manager", "service_agent", "api_client"}
APPROVERS = ADMIN | {"service_manager"}
READERS = REFUNDERS | SHIPPERS
ORDER_READERS = READERS | {"marketer", "analyst"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("POST", f"{P}/quote"): SETTLERS,
    ("POST", f"{P}"): SETTLERS,
    ("GET", f"{P}"): ORDER_READERS,
    ("GET", f"{P}/{{number}}"): ORDER_READERS,
    ("POST", f"{P}/{{number}}/refunds"): REFUNDERS,
    ("POST", f"{P}/{{number}}/ship"): SHIPPERS,
    ("POST", f"{P}/{{number}}/deliver"): SHIPPERS,
    ("POST", f"{P}/{{number}}/review"): SHIPPERS,
    ("GET", f"{P}/discount-approvals"): READERS,
    ("POST", f"{P}/discount-approvals"): SETTLERS,
    ("POST", f"{P}/discount-approvals/{{int:approval_id}}/approve"): APPROVERS,
    ("POST", f"{P}/discount-approvals/{{int:approval_id}}/reject"): APPROVERS,
    ("GET", f"{P}/settings"): READERS,
    ("PATCH", f"{P}/settings"): ADMIN,
}
