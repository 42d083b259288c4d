"""Who may call each /api/v1/service endpoint (merged into tests/test_permission_matrix.py)."""

from __future__ import annotations

EXPECTED: dict[tuple[str, str], frozenset[str]] = {}
