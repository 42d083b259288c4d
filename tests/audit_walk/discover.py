"""Find every public service function from the code, so a new one cannot escape the audit walk.

A *service module* is ``laoke.<app>.services`` (and ``services_*``) or any other module of an app
package that opens a durable transaction (ARCHITECTURE.md rule 1: every public write service runs
in ``transaction.atomic(durable=True)``), e.g. ``laoke.cards.wallet`` or ``laoke.points.earning``.
Its public functions (no leading underscore, defined inside the same app, re-exports counted once
under their defining module) are the services. Adapters (api, admin, views, cli, tasks), models
and migrations are not service modules.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib

import laoke

SKIP_STEMS = {"__init__", "api", "admin", "apps", "models", "urls", "tasks", "cli", "views", "forms"}
SKIP_PREFIXES = ("api_", "cli_", "console_", "views_", "test")
# Adapter and tooling packages: not domain apps (their writes go through the apps' services).
SKIP_APPS = {"console", "portal_views", "locale", "migrations", "templates", "static"}


def service_modules() -> list[str]:
    root = pathlib.Path(laoke.__file__).parent
    names = []
    for app in sorted(p for p in root.iterdir() if (p / "__init__.py").exists()):
        if app.name in SKIP_APPS:
            continue
        for f in sorted(app.rglob("*.py")):
            rel = f.relative_to(app)
            if "migrations" in rel.parts or f.stem in SKIP_STEMS or f.stem.startswith(SKIP_PREFIXES):
                continue
            if f.stem.startswith("services") or "durable=True" in f.read_text(encoding="utf-8"):
                names.append(".".join(("laoke", app.name, *rel.with_suffix("").parts)))
    return names


def public_services() -> dict[str, object]:
    """{"<app>.<module>.<function>": function} of every public function of every service module
    (and of what those modules re-export from their own app)."""
    found: dict[str, object] = {}
    for modname in service_modules():
        module = importlib.import_module(modname)
        app = modname.split(".")[1]
        for name, obj in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(obj):
                continue
            if not obj.__module__.startswith(f"laoke.{app}."):
                continue
            key = f"{obj.__module__.removeprefix('laoke.')}.{obj.__qualname__}"
            found.setdefault(key, obj)
    return found
