"""Who may call each endpoint of /api/v1/exports (merged into tests/test_permission_matrix.py) and
each console page of /admin/console/exports/ (``CONSOLE``, checked by
tests/imports/test_exports_matrix.py). From imports/apps.py and decision 0029: marketers, analysts,
service managers and the admin export lists (each list also needs the right to see it, checked
per kind when an export is asked for); nobody else."""

from __future__ import annotations

P = "/api/v1/exports"
EXPORTERS = frozenset({"admin", "marketer", "analyst", "service_manager"})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", P): EXPORTERS,
    ("POST", P): EXPORTERS,
    ("GET", f"{P}/kinds"): EXPORTERS,
    ("GET", f"{P}/{{job_id}}"): EXPORTERS,
    ("GET", f"{P}/{{job_id}}/file"): EXPORTERS,
}

C = "/admin/console/exports"
CONSOLE: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{C}/"): EXPORTERS,
    ("POST", f"{C}/start/"): EXPORTERS,
    ("GET", f"{C}/{{job_id}}/progress/"): EXPORTERS,
    ("GET", f"{C}/{{job_id}}/file/"): EXPORTERS,
}
