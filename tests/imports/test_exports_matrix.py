"""The exports rows of the permission matrix: the API rows are what the mounted NinjaAPI serves (so
the shared matrix can merge them), and every console page answers each role as ``CONSOLE`` says
(allowed: neither 403 nor a redirect to the login; refused: 403)."""

from __future__ import annotations

import pytest

from .permission_matrix_exports import CONSOLE, EXPECTED

ROLES = [
    "admin",
    "marketer",
    "analyst",
    "service_manager",
    "service_agent",
    "cashier",
    "redemption_clerk",
    "api_client",
]


def test_api_rows_are_the_mounted_endpoints():
    from tests.test_permission_matrix import OPERATIONS

    ops = {(m, path) for m, path in OPERATIONS if path.startswith("/api/v1/exports")}
    assert ops == set(EXPECTED)


@pytest.mark.parametrize("role", ROLES)
def test_console_pages_by_role(role, staff, client):
    client.force_login(staff(role))
    for (method, path), allowed in CONSOLE.items():
        url = path.replace("{job_id}", "exp-none")
        r = client.post(url, {"kind": "nope"}) if method == "POST" else client.get(url)
        if role in allowed:
            assert r.status_code in (200, 302, 404), (role, path, r.status_code)
            assert "login" not in r.get("Location", ""), (role, path)
        else:
            assert r.status_code == 403, (role, path, r.status_code)
