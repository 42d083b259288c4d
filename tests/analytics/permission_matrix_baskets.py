"""Who may call the basket / product-role endpoints of /api/v1/analytics (merged by the lead into
tests/test_permission_matrix.py).

Written from SPEC 11 and analytics/apps.py: analysts and marketers read every report (rules, what
a set of members bought, product roles, promotion suggestions); computing and assigning product
roles (the discount cap of profit items is a commercial decision) is the marketers' and the
admin's.
"""

from __future__ import annotations

P = "/api/v1/analytics"
ADMIN = frozenset({"admin"})
WRITERS = ADMIN | {"marketer"}
READERS = WRITERS | {"analyst"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/rules"): READERS,
    ("GET", f"{P}/purchases"): READERS,
    ("GET", f"{P}/product-roles"): READERS,
    ("POST", f"{P}/product-roles/compute"): WRITERS,
    ("PUT", f"{P}/product-roles/{{kind}}/{{int:object_id}}"): WRITERS,
    ("GET", f"{P}/promotion-suggestions"): READERS,
}
