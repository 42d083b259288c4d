"""What every benchmark does the same way: the databases to measure (SQLite in a fresh data dir,
PostgreSQL too when ``BENCH_DATABASE_URL`` is set) and a child process per database with the
production settings (``LAOKE_TESTING`` unset: real hashers and scrypt, Huey on disk), whose last
stdout line is its figures as JSON."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_pg_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def targets() -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = [("sqlite", {})]
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        ensure_pg_database(url)
        out.append(("postgresql", {"DATABASE_URL": url}))
    return out


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run_child(module: str, args: list[str], *, database: str, extra_env: dict[str, str]) -> dict | None:
    """``python -m module --child *args`` on one database; its figures, or None (stderr shown)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "laoke.settings",
        "LAOKE_DATA_DIR": tempfile.mkdtemp(prefix="laoke-bench-"),
        **extra_env,
    }
    env.pop("LAOKE_TESTING", None)
    env.pop("LAOKE_FROZEN_NOW", None)
    if database == "sqlite":
        env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", module, "--child", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0:
        print(out.stderr[-3000:])
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_database() -> None:
    """In a child: Django set up on the database of the environment, migrated, and emptied on
    PostgreSQL (the bench database is reused between runs; SQLite gets a fresh data dir)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laoke.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    if connection.vendor == "postgresql":
        call_command("flush", verbosity=0, interactive=False)
