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

from laoke.core.roles import ROLE_PERMISSIONS, SCOPES

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


# Building the test database (every migration) happens inside the first test that needs it and so
# counted against that test's pytest-timeout (120 s): on a loaded machine, e.g. CI's two suites at
# once, it could time out and error every test after it. That one test gets this much more.
DB_SETUP_SECONDS = 600
_db_timer_extended = False


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    global _db_timer_extended
    if _db_timer_extended or "django_db_setup" not in getattr(item, "fixturenames", ()):
        return None
    _db_timer_extended = True
    import pytest_timeout

    return pytest_timeout.pytest_timeout_set_timer(
        item=item, settings=settings._replace(timeout=settings.timeout + DB_SETUP_SECONDS)
    )


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """For a module-scoped fixture that builds data once for all tests of its module (Django's
    ``setUpTestData``): a transaction open for the whole module and rolled back when it ends; each
    test (``db``) runs in its own savepoint inside it, so what one test writes is undone before the
    next. Build the data inside ``with module_db():`` (database access allowed there). Only for
    modules whose tests use ``db`` (not ``transactional_db``: its flush would empty the data)."""
    from django.db import transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as TestCase's class-wide atomic: durable services nest in it
        outer.__enter__()
    try:
        yield django_db_blocker.unblock
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def pytest_sessionstart(session):
    if REQUIRE_PG and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise pytest.UsageError("LAOKE_REQUIRE_PG=1 needs DATABASE_URL=postgresql://…")


# What roles_sync() wrote the first time in this session: {role: [(app_label, codename), …]}.
_synced_roles: dict[str, list[tuple[str, str]]] = {}


@pytest.fixture
def roles(db):
    """The role groups exactly as ``roles_sync()`` leaves them. The first use in a session runs
    roles_sync() and remembers the outcome by permission natural key; later uses (each in a fresh,
    rolled-back test transaction) write the same groups and group-permission rows in four queries
    instead of ~470 (about a second per test on PostgreSQL). It falls back to roles_sync() whenever
    groups already exist or a remembered permission is missing, so the state is always the same."""
    from django.contrib.auth.models import Group, Permission

    from laoke.core.services import role_permission_names, roles_sync

    existed = Group.objects.exists()
    if existed or not _synced_roles:
        roles_sync()
        if not existed and not _synced_roles:
            for group in Group.objects.filter(name__in=ROLE_PERMISSIONS).prefetch_related(
                "permissions__content_type"
            ):
                _synced_roles[group.name] = [
                    (p.content_type.app_label, p.codename) for p in group.permissions.all()
                ]
        return
    perm_ids = {
        (a, c): pk for pk, a, c in Permission.objects.values_list("pk", "content_type__app_label", "codename")
    }
    if any(key not in perm_ids for keys in _synced_roles.values() for key in keys):
        roles_sync()
        return
    groups = Group.objects.bulk_create([Group(name=name) for name in _synced_roles])
    through = Group.permissions.through
    every = sorted(perm_ids.values())  # a "*" role (admin) holds every permission that exists now
    through.objects.bulk_create(
        [
            through(group_id=g.pk, permission_id=pk)
            for g in groups
            for pk in (
                every
                if role_permission_names(g.name) == "*"
                else [perm_ids[key] for key in _synced_roles[g.name]]
            )
        ]
    )


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
