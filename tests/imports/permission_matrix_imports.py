"""Who may call each endpoint of /api/v1/imports (to merge into tests/test_permission_matrix.py) and
each console page of the import wizard under /admin/console/imports/ (``CONSOLE``, checked by
tests/imports/test_console_imports.py). From imports/apps.py and decision 0029: marketers bring a
shop's history in (jobs and saved column mappings); the admin holds everything; nobody else
imports or reads imports (analysts and service managers only export)."""

from __future__ import annotations

P = "/api/v1/imports"
IMPORTERS = frozenset({"admin", "marketer"})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/fields"): IMPORTERS,
    ("GET", P): IMPORTERS,
    ("POST", P): IMPORTERS,
    ("GET", f"{P}/mappings"): IMPORTERS,
    ("POST", f"{P}/mappings"): IMPORTERS,
    ("DELETE", f"{P}/mappings/{{int:mapping_id}}"): IMPORTERS,
    ("GET", f"{P}/{{job_id}}"): IMPORTERS,
    ("GET", f"{P}/{{job_id}}/errors.xlsx"): IMPORTERS,
    ("POST", f"{P}/{{job_id}}/mapping"): IMPORTERS,
    ("POST", f"{P}/{{job_id}}/confirm"): IMPORTERS,
}

C = "/admin/console/imports"
CONSOLE: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{C}/"): IMPORTERS,
    ("GET", f"{C}/new/"): IMPORTERS,
    ("POST", f"{C}/new/"): IMPORTERS,
    ("GET", f"{C}/{{job_id}}/"): IMPORTERS,
    ("GET", f"{C}/{{job_id}}/mapping/"): IMPORTERS,
    ("POST", f"{C}/{{job_id}}/mapping/"): IMPORTERS,
    ("GET", f"{C}/{{job_id}}/progress/"): IMPORTERS,
    ("POST", f"{C}/{{job_id}}/check/"): IMPORTERS,
    ("POST", f"{C}/{{job_id}}/confirm/"): IMPORTERS,
    ("GET", f"{C}/{{job_id}}/errors.xlsx"): IMPORTERS,
}
