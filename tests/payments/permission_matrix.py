"""Who may call each /api/v1/payments endpoint (merged into tests/test_permission_matrix.py), from
payments/apps.py: marketers (企划部) design packages; service roles and cashiers read packages and
purchases; the service manager refunds and reads the raw notifications; the admin holds all."""

from __future__ import annotations

P = "/api/v1/payments"
DESIGN = frozenset({"admin", "marketer"})
READERS = frozenset({"admin", "marketer", "service_manager", "service_agent", "cashier"})
REFUND = frozenset({"admin", "service_manager"})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/packages"): READERS,
    ("POST", f"{P}/packages"): DESIGN,
    ("PATCH", f"{P}/packages/{{int:package_id}}"): DESIGN,
    ("GET", f"{P}/purchases"): READERS,
    ("GET", f"{P}/purchases/{{int:purchase_id}}"): READERS,
    ("GET", f"{P}/purchases/{{int:purchase_id}}/notifications"): REFUND,
    ("POST", f"{P}/purchases/{{int:purchase_id}}/refund"): REFUND,
}

C = "/admin/console/payments"
CONSOLE: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{C}/"): READERS,
    ("GET", f"{C}/purchases/{{int:purchase_id}}/"): READERS,
}
