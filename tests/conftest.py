"""Shared fixtures. Set up state through the real services; fake only what is outside.

- ``LAOKE_REQUIRE_PG=1`` turns a skipped PostgreSQL test into a failure and asserts the run is
  on PostgreSQL; ``LAOKE_REQUIRE_BROWSER=1`` does the same for Chromium.
- ``staff(role)`` makes a staff user in a role; ``api(role, scopes=None)`` a test client with a
  Bearer token of that user (all scopes unless narrowed).
"""

from __future__ import annotations

import itertools
import os
import shutil

import pytest
from django.db import connection

from laoke.core.roles import SCOPES

REQUIRE_PG = os.environ.get("LAOKE_REQUIRE_PG") == "1"
REQUIRE_BROWSER = os.environ.get("LAOKE_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("LAOKE_CHROMIUM", "/usr/bin/chromium")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("concurrency") and not item.get_closest_marker("pg"):
            item.add_marker(pytest.mark.pg)


@pytest.fixture(autouse=True)
def _require_backends(request):
    if request.node.get_closest_marker("pg") and not is_postgres():
        if REQUIRE_PG:
            pytest.fail("LAOKE_REQUIRE_PG=1 but the tests are not running on PostgreSQL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    if request.node.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        if REQUIRE_BROWSER:
            pytest.fail(f"LAOKE_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"needs Chromium at {CHROMIUM}")


def pytest_sessionstart(session):
    if REQUIRE_PG and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise pytest.UsageError("LAOKE_REQUIRE_PG=1 needs DATABASE_URL=postgresql://…")


@pytest.fixture
def roles(db):
    from laoke.core.services import roles_sync

    roles_sync()


_counter = itertools.count(1)


@pytest.fixture
def staff(roles):
    from laoke.core.services import staff_user_create

    def make(role: str, *, username: str | None = None, password: str = "test-password-123", store=None):
        return staff_user_create(
            username=username or f"{role}{next(_counter)}", password=password, role=role, store=store
        )

    return make


@pytest.fixture
def api(staff):
    """api("cashier") → a django.test.Client sending a Bearer token of a new cashier."""
    from django.test import Client

    from laoke.core.services import api_token_create

    def make(role: str, *, scopes: list[str] | None = None, user=None, lang: str = "en"):
        user = user or staff(role)
        _, secret = api_token_create(
            user=user, name="test", scopes=scopes if scopes is not None else list(SCOPES)
        )
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE=lang)
        client.user = user
        return client

    return make
