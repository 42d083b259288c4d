"""The two engines' side of backups (laoke.ops.backup): the consistent dump, the restore, and the
tables and row counts of a database — all on raw connections built from a DATABASES entry, never
Django's connection (a restore target has no migrated schema; a backup must not run inside a
caller's transaction). See docs/decisions/0038-backups.md."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

from laoke.core.error_codes import BACKUP_TOOL_FAILED
from laoke.core.errors import DomainError

# libpq parameters that may sit in DATABASES OPTIONS and are passed on to psycopg / the pg tools
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
}


def engine_of(db: dict) -> str:
    name = db["ENGINE"]
    if "sqlite3" in name:
        return "sqlite"
    if "postgresql" in name:
        return "postgresql"
    raise ValueError(f"unsupported database engine {name}")


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    ).fetchall()
    return sorted(r[0] for r in rows)


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in _sqlite_tables(conn)}  # noqa: S608


def _sqlite_migrations(conn: sqlite3.Connection) -> list[str]:
    if "django_migrations" not in _sqlite_tables(conn):
        return []
    return [f"{a}.{n}" for a, n in conn.execute("SELECT app, name FROM django_migrations ORDER BY id")]


def _sqlite_dump(db: dict, dest: Path) -> tuple[dict[str, int], list[str]]:
    """Online backup into ``dest``; the counts and migrations are read from the copy itself."""
    if connection.settings_dict["NAME"] == db["NAME"] and connection.is_in_memory_db():
        # the test database lives in memory, reachable only through Django's connection
        if connection.in_atomic_block:  # SQLite's backup would wait for ever on its own write lock
            raise RuntimeError("backing up the in-memory test database needs a test without a transaction")
        connection.ensure_connection()
        source = connection.connection
        close_source = False
    else:
        path = Path(db["NAME"]).resolve()
        try:  # mode=rw: a missing database is an error, not a new empty file
            source = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=30)
        except sqlite3.OperationalError as exc:
            raise DomainError(BACKUP_TOOL_FAILED, tool="SQLite", reason=f"{path}: {exc}") from exc
        close_source = True
    target = sqlite3.connect(dest)
    try:
        source.backup(target)  # pages=-1: one step, one read snapshot of the whole database
    finally:
        target.close()
        if close_source:
            source.close()
    copy = sqlite3.connect(dest)
    try:
        copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        return _sqlite_counts(copy), _sqlite_migrations(copy)
    finally:
        copy.close()


def _sqlite_target_tables(db: dict) -> list[str]:
    if in_memory(db):
        raise ValueError("cannot restore into an in-memory database")
    path = Path(db["NAME"])
    if not path.exists() or path.stat().st_size == 0:
        return []
    conn = sqlite3.connect(path, timeout=30)
    try:
        return _sqlite_tables(conn)
    finally:
        conn.close()


def in_memory(db: dict) -> bool:
    name = str(db["NAME"])
    return name == ":memory:" or name.startswith("file:")


def _sqlite_restore(db: dict, source: Path) -> None:
    """Copy the restored file into the configured path with the backup API: it takes SQLite's locks
    and rewrites a WAL database correctly, so it is safe even over an existing file (``force``)."""
    if in_memory(db):
        raise ValueError("cannot restore into an in-memory database")
    path = Path(db["NAME"])
    path.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(path, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _sqlite_target_counts(db: dict) -> dict[str, int]:
    conn = sqlite3.connect(db["NAME"], timeout=30)
    try:
        return _sqlite_counts(conn)
    finally:
        conn.close()


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_params(db: dict) -> dict:
    params = {
        "dbname": db.get("NAME") or "",
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "host": db.get("HOST") or "",
        "port": str(db.get("PORT") or ""),
    }
    for key in _LIBPQ_OPTIONS:
        if (db.get("OPTIONS") or {}).get(key) not in (None, ""):
            params[key] = str(db["OPTIONS"][key])
    return {k: v for k, v in params.items() if v}


def _pg_env(db: dict) -> dict:
    """Connection for pg_dump/pg_restore through libpq's environment: the password never appears
    on a command line (visible in ps)."""
    env = {**os.environ}
    for key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", *_LIBPQ_OPTIONS.values()):
        env.pop(key, None)
    params = _pg_params(db)
    names = {"dbname": "PGDATABASE", "user": "PGUSER", "password": "PGPASSWORD", "host": "PGHOST"}
    names.update({"port": "PGPORT", **_LIBPQ_OPTIONS})
    for key, value in params.items():
        env[names[key]] = value
    return env


def _pg_connect(db: dict):
    import psycopg

    try:
        return psycopg.connect(**_pg_params(db))
    except psycopg.OperationalError as exc:  # no such database, refused, bad password: say so plainly
        raise DomainError(BACKUP_TOOL_FAILED, tool="PostgreSQL", reason=str(exc).strip()) from exc


_PG_TABLES = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 1"
)


def _pg_counts(cur) -> dict[str, int]:
    from psycopg import sql

    cur.execute(_PG_TABLES)
    tables = [r[0] for r in cur.fetchall()]
    counts = {}
    for t in tables:
        cur.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(t)))
        counts[t] = cur.fetchone()[0]
    return counts


def _pg_migrations(cur, tables) -> list[str]:
    if "django_migrations" not in tables:
        return []
    cur.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return [f"{a}.{n}" for a, n in cur.fetchall()]


def _run_tool(tool: str, args: list[str], env: dict) -> None:
    exe = shutil.which(tool)
    if exe is None:
        raise DomainError(
            BACKUP_TOOL_FAILED, tool=tool, reason="not installed (apt install postgresql-client)"
        )
    try:
        out = subprocess.run([exe, *args], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        raise DomainError(BACKUP_TOOL_FAILED, tool=tool, reason=str(exc)) from exc
    if out.returncode != 0:
        raise DomainError(BACKUP_TOOL_FAILED, tool=tool, reason=(out.stderr or out.stdout).strip()[-2000:])


def _pg_dump(db: dict, dest: Path) -> tuple[dict[str, int], list[str]]:
    """pg_dump on the snapshot of our own REPEATABLE READ transaction: the counts we read in it and
    the rows in the dump are the same state, however busy the server is."""
    from psycopg import IsolationLevel

    with _pg_connect(db) as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            counts = _pg_counts(cur)
            migrations = _pg_migrations(cur, counts)
            _run_tool("pg_dump", ["-Fc", f"--snapshot={snapshot}", "--file", str(dest)], _pg_env(db))
        conn.rollback()
    return counts, migrations


def _pg_target_tables(db: dict) -> list[str]:
    with _pg_connect(db) as conn, conn.cursor() as cur:
        cur.execute(_PG_TABLES)
        return [r[0] for r in cur.fetchall()]


def _pg_restore(db: dict, source: Path) -> None:
    # one transaction: a failed restore leaves the target as it was
    args = ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction"]
    _run_tool("pg_restore", [*args, "--dbname", db["NAME"], str(source)], _pg_env(db))


def _pg_target_counts(db: dict) -> dict[str, int]:
    with _pg_connect(db) as conn, conn.cursor() as cur:
        return _pg_counts(cur)


# --- the interface backup.py uses --------------------------------------------------------------


def dump(db: dict, dest: Path) -> tuple[dict[str, int], list[str]]:
    """A consistent copy of the database into ``dest``, with the row counts and the applied
    migrations of exactly that copy."""
    return _sqlite_dump(db, dest) if engine_of(db) == "sqlite" else _pg_dump(db, dest)


def restore(db: dict, source: Path) -> None:
    if engine_of(db) == "sqlite":
        _sqlite_restore(db, source)
    else:
        _pg_restore(db, source)


def counts(db: dict) -> dict[str, int]:
    return _sqlite_target_counts(db) if engine_of(db) == "sqlite" else _pg_target_counts(db)


def tables(db: dict) -> list[str]:
    return _sqlite_target_tables(db) if engine_of(db) == "sqlite" else _pg_target_tables(db)
