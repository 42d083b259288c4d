"""Who may call each /api/v1/cards endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 4 and 16: batches and their one-time PIN files belong to service managers
(and admins); cashiers sell cards and recharge at the till; service agents and the shop's
systems recharge and read wallets; 销卡, unlocking and cancelling need a manager.
"""

from __future__ import annotations

K = "/api/v1/cards"
ADMIN_MANAGER = frozenset({"admin", "service_manager"})
TILL = ADMIN_MANAGER | {"cashier", "service_agent", "api_client"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("POST", f"{K}/batches"): ADMIN_MANAGER,
    ("GET", f"{K}/batches/{{int:batch_id}}"): ADMIN_MANAGER,
    ("POST", f"{K}/batches/{{int:batch_id}}/download"): ADMIN_MANAGER,
    ("POST", f"{K}/batches/{{int:batch_id}}/activate"): ADMIN_MANAGER | {"cashier"},
    ("POST", f"{K}/batches/{{int:batch_id}}/cancel"): ADMIN_MANAGER,
    ("GET", f"{K}/cards/{{number}}"): TILL,
    ("POST", f"{K}/cards/{{number}}/unlock"): ADMIN_MANAGER,
    ("POST", f"{K}/recharge"): TILL,
    ("GET", f"{K}/wallets/{{int:member_id}}"): TILL,
    ("GET", f"{K}/wallets/{{int:member_id}}/history"): TILL,
    ("POST", f"{K}/wallets/{{int:member_id}}/close"): ADMIN_MANAGER,
}
