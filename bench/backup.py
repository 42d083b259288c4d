"""Backup and restore of a shop with 200,000 members (``laoke.ops.backup``: the archive with its
manifest of every table's row count and checksums, and the verified restore into an empty
database), next to the bare tool underneath in the same run — SQLite's online backup API alone
and a file copy; ``pg_dump -Fc`` alone and ``pg_restore`` alone.

    .venv/bin/python -m bench.backup [--members 200000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laoke_bench .venv/bin/python -m bench.backup

Set-up (not timed): the members bulk-inserted into a migrated database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import fresh_database, machine, run_child, targets


def _pg_env(db: dict) -> tuple[list[str], dict]:
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres"]
    return args, {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}


def child(n: int) -> dict:
    fresh_database()
    import psycopg
    from django.db import connection

    from laoke.core import clock
    from laoke.members.models import Member
    from laoke.ops.backup import backup_create, backup_restore

    now = clock.now()
    Member.objects.bulk_create(
        [Member(code=f"B{i:09d}", registered_at=now, created_at=now, updated_at=now) for i in range(n)],
        batch_size=5_000,
    )
    db = dict(connection.settings_dict)
    work = Path(tempfile.mkdtemp(prefix="laoke-bench-backup-"))
    t = time.perf_counter()
    result = backup_create(output_dir=work / "archives", now=now)
    backup_s = time.perf_counter() - t
    archive = Path(result.path)
    out = {
        "members": n,
        "rows": result.rows,
        "backup_s": round(backup_s, 2),
        "archive_mb": round(archive.stat().st_size / 1e6, 1),
    }
    if connection.vendor == "sqlite":
        t = time.perf_counter()
        with sqlite3.connect(db["NAME"]) as src, sqlite3.connect(work / "raw.sqlite3") as dst:
            src.backup(dst)
        out["base_backup_s"] = round(time.perf_counter() - t, 2)
        target = {**db, "NAME": str(work / "restored" / "laoke.sqlite3")}
        t = time.perf_counter()
        backup_restore(archive=archive, db=target, data_dir=work / "restored")
        out["restore_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        shutil.copyfile(work / "raw.sqlite3", work / "copy.sqlite3")
        out["base_restore_s"] = round(time.perf_counter() - t, 2)
        out["base"] = "sqlite3 backup API / file copy"
    else:
        args, env = _pg_env(db)
        t = time.perf_counter()
        subprocess.run(
            ["pg_dump", "-Fc", *args, "-f", str(work / "raw.dump"), db["NAME"]], env=env, check=True
        )
        out["base_backup_s"] = round(time.perf_counter() - t, 2)
        base = f"postgresql://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        names = (f"{db['NAME']}_restore_a", f"{db['NAME']}_restore_b")
        with psycopg.connect(base + "/postgres", autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            t = time.perf_counter()
            backup_restore(archive=archive, db={**db, "NAME": names[0]}, data_dir=work / "restored")
            out["restore_s"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            subprocess.run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--single-transaction",
                    *args,
                    "-d",
                    names[1],
                    str(work / "raw.dump"),
                ],
                env=env,
                check=True,
            )
            out["base_restore_s"] = round(time.perf_counter() - t, 2)
        finally:
            with psycopg.connect(base + "/postgres", autocommit=True) as conn:
                for name in names:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        out["base"] = "pg_dump -Fc / pg_restore"
    shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--members", type=int, default=200_000)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.members)))
        return 0
    print(f"backup: backup + verified restore of {args.members:,} members, {machine()}")
    ok = True
    for name, env in targets():
        r = run_child("bench.backup", ["--members", str(args.members)], database=name, extra_env=env)
        if r is None:
            ok = False
            continue
        print(
            f"  {name:10s} laoke backup {r['backup_s']:.2f} s ({r['rows']:,} rows, {r['archive_mb']} MB archive) vs "
            f"{r['base_backup_s']:.2f} s; laoke restore (checked) {r['restore_s']:.2f} s vs "
            f"{r['base_restore_s']:.2f} s — baseline: {r['base']}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
