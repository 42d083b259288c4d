"""Who may call each /api/v1/imports and /api/v1/exports endpoint (merged into
tests/test_permission_matrix.py); each part keeps its rows in permission_matrix_<part>.py."""

from __future__ import annotations

from tests.imports.permission_matrix_exports import EXPECTED as EXPORTS
from tests.imports.permission_matrix_imports import EXPECTED as IMPORTS

assert not set(EXPORTS) & set(IMPORTS)
EXPECTED = {**IMPORTS, **EXPORTS}
