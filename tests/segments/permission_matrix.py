"""Who may call each /api/v1/segments endpoint (merged into tests/test_permission_matrix.py).

Written from SPEC 8 and 16 and the issue: marketers build segments (create, change, archive,
snapshot, export the members to xlsx — masked, audited); analysts read and preview them; the admin does everything. Cashiers, service staff,
redemption clerks and the shop's systems have no business with audiences.
"""

from __future__ import annotations

P = "/api/v1/segments"
ADMIN = frozenset({"admin"})
WRITERS = ADMIN | {"marketer"}
READERS = WRITERS | {"analyst"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", P): READERS,
    ("POST", P): WRITERS,
    ("GET", f"{P}/fields"): READERS,
    ("POST", f"{P}/preview"): READERS,
    ("GET", f"{P}/{{int:segment_id}}"): READERS,
    ("PATCH", f"{P}/{{int:segment_id}}"): WRITERS,
    ("POST", f"{P}/{{int:segment_id}}/archive"): WRITERS,
    ("GET", f"{P}/{{int:segment_id}}/export.xlsx"): WRITERS,  # personal data leaves the system
    ("GET", f"{P}/{{int:segment_id}}/snapshots"): READERS,
    ("POST", f"{P}/{{int:segment_id}}/snapshots"): WRITERS,
    ("GET", f"{P}/{{int:segment_id}}/snapshots/{{int:snapshot_id}}"): READERS,
    ("GET", f"{P}/{{int:segment_id}}/snapshots/{{int:snapshot_id}}/members"): READERS,
}
