"""The ``laoke backup`` and ``laoke restore`` commands: thin adapters over laoke.ops.backup.

``laoke restore`` opens no Django database connection before it restores and never migrates: it
works in a data dir that was never initialised (no ``laoke init`` first).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from laoke.core import clock

from .backup import backup_create, backup_restore


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return f"{n} B"


def backup_command(args) -> int:
    output = Path(args.output) if args.output else Path(settings.LAOKE["BACKUP"]["dir"])
    result = backup_create(output_dir=output, now=clock.now())
    m = result.manifest
    print(result.path)
    print(
        f"backup written: {result.path.name} ({_size(result.size)}, {result.size} bytes); engine {result.engine}; "
        f"{result.tables} tables, {result.rows} rows; {len(m['migrations'])} migrations applied; "
        f"secret key {'included' if m['secret_key_included'] else 'not included (SECRET_KEY from the environment)'}"
    )
    return 0


def restore_command(args) -> int:
    result = backup_restore(archive=Path(args.file), force=args.force)
    print(
        f"restored {result.archive.name} (taken {result.created_at}, Laoke {result.laoke_version}, "
        f"engine {result.engine}) into {_target_label()}: {result.tables} tables, {result.rows} rows; "
        f"secret key: {result.secret_key}"
    )
    print(f"verification: the row counts of all {result.tables} tables match the manifest — OK")
    if result.pending_migrations:
        print(
            f"{len(result.pending_migrations)} migrations of this version are not applied yet: "
            "run `laoke init` before serving"
        )
    return 0


def _target_label() -> str:
    from django.db import connection

    db = connection.settings_dict
    if "sqlite3" in db["ENGINE"]:
        return str(db["NAME"])
    return f"postgresql database {db['NAME']} on {db.get('HOST') or 'localhost'}"
