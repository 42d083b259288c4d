"""Staff permission matrix of /api/v1/me: none. The member router takes member sessions only
(staff tokens and console sessions get 401, tests/portal/test_login.py), so
tests/test_permission_matrix.py skips /api/v1/me; tests/portal/test_isolation.py walks every
operation of it instead (anonymous → 401, another member's ids → 404, nothing of theirs leaks)."""

from __future__ import annotations

EXPECTED: dict[tuple[str, str], frozenset[str]] = {}
