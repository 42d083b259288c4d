"""Backups and restores of the database (docs/decisions/0038-backups.md).

One archive per backup, ``laoke-backup-<YYYYmmddTHHMMSSZ>-<engine>.tar.gz``, holding

- ``manifest.json``: format version, engine, creation time (UTC), Laoke version, the applied
  migrations, every table's row count and the sha256 and size of every other member;
- the database: ``database.sqlite3`` (SQLite's online backup API, a consistent copy while the
  server writes — WAL readers do not block the writer) or ``database.pgdump`` (``pg_dump -Fc``
  run on a snapshot exported by our own REPEATABLE READ transaction, so the manifest's row counts
  describe exactly the rows in the dump);
- ``secret_key``: the data dir's generated key when SECRET_KEY does not come from the environment,
  so signed tokens and keyed hashes still verify after a restore.

The archive is written under a temporary name, fsynced and renamed; only names matching
:data:`NAME_RE` are ever pruned. A restore verifies the format version and every checksum before
it touches the target, refuses another engine's backup and a target that already holds tables
(unless ``force``), and after restoring compares every table's row count with the manifest.
All database access here goes through raw connections built from the settings (never Django's
connection), so a restore needs no migrated database and a backup never runs inside a caller's
transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection

from laoke.core import clock
from laoke.core.error_codes import (
    BACKUP_CHECKSUM_MISMATCH,
    BACKUP_ENGINE_MISMATCH,
    BACKUP_FORMAT_UNSUPPORTED,
    BACKUP_INVALID,
    BACKUP_SCHEMA_NEWER,
    BACKUP_TARGET_NOT_EMPTY,
    BACKUP_VERIFY_FAILED,
)
from laoke.core.errors import DomainError

from . import engines
from .engines import engine_of

FORMAT_VERSION = 1
SUPPORTED_FORMATS = (1,)
NAME_RE = re.compile(r"^laoke-backup-(\d{8}T\d{6}Z)(?:\.(\d+))?-(sqlite|postgresql)\.tar\.gz$")
STAMP = "%Y%m%dT%H%M%SZ"
MANIFEST = "manifest.json"
DB_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
KEY_MEMBER = "secret_key"
_CHUNK = 1 << 20


# --- small helpers ----------------------------------------------------------------------------


def _target() -> dict:
    """The configured database (during tests: the test database Django switched to)."""
    return dict(connection.settings_dict)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _laoke_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("laoke")
    except PackageNotFoundError:
        return "unknown"


def _secret_key_file(data_dir: Path) -> Path | None:
    """The generated key file, when SECRET_KEY does not come from the environment (settings._secret_key)."""
    if os.environ.get("SECRET_KEY"):
        return None
    path = Path(data_dir) / "secret_key"
    return path if path.is_file() else None


def archive_name(at: datetime, engine: str, n: int = 0) -> str:
    stamp = at.astimezone(UTC).strftime(STAMP)
    return f"laoke-backup-{stamp}{f'.{n}' if n else ''}-{engine}.tar.gz"


def archive_time(name: str) -> datetime | None:
    m = NAME_RE.match(name)
    return datetime.strptime(m.group(1), STAMP).replace(tzinfo=UTC) if m else None


def backups_list(directory: Path) -> list[tuple[datetime, Path]]:
    """Our archives in ``directory`` (names matching NAME_RE only), oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        at = archive_time(p.name)
        if at is not None and p.is_file():
            found.append((at, p))
    return sorted(found, key=lambda t: (t[0], t[1].name))


# --- backup -----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    engine: str
    tables: int
    rows: int
    manifest: dict


def backup_create(*, output_dir: Path, now: datetime, db: dict | None = None) -> BackupResult:
    """Write one archive of the configured database into ``output_dir`` (created, mode 0700)."""
    db = db or _target()
    engine = engine_of(db)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".laoke-backup-", dir=output_dir))
    partial = None
    try:
        db_file = staging / DB_MEMBER[engine]
        counts, migrations = engines.dump(db, db_file)
        members = [db_file]
        key = _secret_key_file(settings.DATA_DIR)
        if key is not None:
            shutil.copyfile(key, staging / KEY_MEMBER)
            members.append(staging / KEY_MEMBER)
        manifest = {
            "format": FORMAT_VERSION,
            "engine": engine,
            "created_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "laoke_version": _laoke_version(),
            "migrations": migrations,
            "tables": counts,
            "totals": {"tables": len(counts), "rows": sum(counts.values())},
            "secret_key_included": key is not None,
            "files": {p.name: {"sha256": _sha256(p), "size": p.stat().st_size} for p in members},
        }
        partial = output_dir / f".{archive_name(now, engine)}.{os.getpid()}.partial"
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            raw = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(raw), int(now.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(raw))
            for p in members:
                tar.add(p, arcname=p.name, recursive=False, filter=_normalise)
        os.chmod(partial, 0o600)
        with partial.open("rb") as f:
            os.fsync(f.fileno())
        final = _publish(partial, output_dir, now, engine)
        partial = None
        _fsync_dir(output_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if partial is not None:
            partial.unlink(missing_ok=True)
    return BackupResult(
        path=final,
        size=final.stat().st_size,
        engine=engine,
        tables=len(counts),
        rows=sum(counts.values()),
        manifest=manifest,
    )


def _publish(partial: Path, output_dir: Path, now: datetime, engine: str) -> Path:
    """Give the finished file its name without ever replacing another backup: a hard link fails if
    the name exists (a second backup in the same second gets ``.1``), then the temporary name goes."""
    n = 0
    while True:
        final = output_dir / archive_name(now, engine, n)
        try:
            os.link(partial, final)
        except FileExistsError:
            n += 1
            continue
        partial.unlink()
        return final


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


# --- restore ----------------------------------------------------------------------------------


def counts_compare(
    expected: dict[str, int], actual: dict[str, int]
) -> list[tuple[str, int | None, int | None]]:
    """Every table whose row count differs, missing or extra: [(table, expected, actual)]."""
    return [
        (t, expected.get(t), actual.get(t))
        for t in sorted(set(expected) | set(actual))
        if expected.get(t) != actual.get(t)
    ]


def target_counts(db: dict | None = None) -> dict[str, int]:
    """Every table's row count in the configured (or given) database, read on a raw connection."""
    return engines.counts(db or _target())


def target_tables(db: dict | None = None) -> list[str]:
    return engines.tables(db or _target())


@dataclass
class RestoreResult:
    archive: Path
    engine: str
    created_at: str
    laoke_version: str
    tables: int
    rows: int
    secret_key: str  # "restored", "not in backup", "kept SECRET_KEY from the environment"
    pending_migrations: list[str] = field(default_factory=list)
    mismatches: list = field(default_factory=list)


def backup_read(archive: Path, into: Path) -> dict:
    """Open an archive, check its format and every checksum, extract its files into ``into``.
    Returns the manifest. Nothing else is written."""
    archive = Path(archive)
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise DomainError(BACKUP_INVALID, reason=str(exc) or type(exc).__name__) from exc
    try:
        with tar:
            first = tar.next()  # the manifest is written first: read it without a second pass
            if first is None or first.name != MANIFEST or not first.isfile():
                raise DomainError(BACKUP_INVALID, reason="manifest.json is not the first member")
            try:
                manifest = json.loads(tar.extractfile(first).read())
            except ValueError as exc:
                raise DomainError(BACKUP_INVALID, reason="manifest.json is not JSON") from exc
            _manifest_check(manifest)
            version = manifest.get("format")
            if version not in SUPPORTED_FORMATS:
                raise DomainError(
                    BACKUP_FORMAT_UNSUPPORTED,
                    version=version,
                    supported=", ".join(map(str, SUPPORTED_FORMATS)),
                )
            files = manifest.get("files") or {}
            engine = manifest.get("engine")
            if engine not in DB_MEMBER or DB_MEMBER[engine] not in files:
                raise DomainError(BACKUP_INVALID, reason="the manifest names no database file")
            if not set(files) <= {DB_MEMBER[engine], KEY_MEMBER}:
                raise DomainError(BACKUP_INVALID, reason="the manifest names unexpected files")
            seen = set()
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if member.name not in files or not member.isfile() or member.name in seen:
                    raise DomainError(BACKUP_INVALID, reason=f"unexpected member {member.name!r}")
                seen.add(member.name)
                h = hashlib.sha256()
                src = tar.extractfile(member)
                with (into / member.name).open("wb") as out:
                    while chunk := src.read(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                if h.hexdigest() != files[member.name]["sha256"]:
                    raise DomainError(BACKUP_CHECKSUM_MISMATCH, member=member.name)
            # read the gzip stream to its end: only there does gzip check its CRC, which covers
            # the bytes tarfile never looks at (block padding, the end-of-archive blocks)
            while tar.fileobj.read(_CHUNK):
                pass
            missing = set(files) - seen
            if missing:
                raise DomainError(BACKUP_INVALID, reason=f"missing {', '.join(sorted(missing))}")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:  # a damaged gzip stream or tar block
        raise DomainError(BACKUP_INVALID, reason=str(exc) or type(exc).__name__) from exc
    return manifest


def _manifest_check(manifest) -> None:
    """The manifest's shape, before anything in it is trusted (a damaged byte can keep it JSON)."""

    def bad(what):
        raise DomainError(BACKUP_INVALID, reason=f"manifest.json: {what}")

    if not isinstance(manifest, dict):
        bad("not an object")
    if not isinstance(manifest.get("format"), int):
        bad("no format version")
    if not isinstance(manifest.get("engine"), str) or not isinstance(manifest.get("created_at"), str):
        bad("no engine or creation time")
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not all(isinstance(n, int) for n in tables.values()):
        bad("table counts")
    migrations = manifest.get("migrations")
    if not isinstance(migrations, list) or not all(isinstance(m, str) for m in migrations):
        bad("migrations")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(meta, dict)
        and isinstance(meta.get("sha256"), str)
        and re.fullmatch(r"[0-9a-f]{64}", meta["sha256"])
        and isinstance(meta.get("size"), int)
        for meta in files.values()
    ):
        bad("file checksums")


def _unknown_migrations(applied: list[str]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    known = {f"{a}.{n}" for a, n in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    return [m for m in applied if m not in known]


def _pending_migrations(applied: list[str]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    done = set(applied)
    pending = []
    for key, migration in loader.disk_migrations.items():
        name = f"{key[0]}.{key[1]}"
        if name in done:
            continue
        replaces = [f"{a}.{n}" for a, n in (migration.replaces or [])]
        if replaces and all(r in done for r in replaces):
            continue
        pending.append(name)
    return sorted(pending)


def backup_restore(
    *, archive: Path, force: bool = False, db: dict | None = None, data_dir: Path | None = None
) -> RestoreResult:
    """Restore ``archive`` into the configured database (or ``db``) and its data dir's secret key.

    Refuses before writing anything: a damaged or altered archive, an unknown format, another
    engine's backup, migrations this code does not know (unless ``force``), a target that already
    holds tables (unless ``force``). After restoring, every table's row count must equal the
    manifest's, else BACKUP_VERIFY_FAILED (the restored data stay for inspection)."""
    db = db or _target()
    engine = engine_of(db)
    archive = Path(archive)
    data_dir = Path(data_dir or settings.DATA_DIR)
    # SQLite: unpack beside the target (the same file system); in-memory targets are refused below
    staging_parent = Path(db["NAME"]).parent if engine == "sqlite" and not engines.in_memory(db) else None
    if staging_parent is not None:
        staging_parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".laoke-restore-", dir=staging_parent))
    try:
        manifest = backup_read(archive, staging)
        if manifest["engine"] != engine:
            raise DomainError(BACKUP_ENGINE_MISMATCH, backup=manifest["engine"], target=engine)
        unknown = _unknown_migrations(manifest.get("migrations", []))
        if unknown and not force:
            shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
            raise DomainError(
                BACKUP_SCHEMA_NEWER, migrations=shown, version=manifest.get("laoke_version", "?")
            )
        existing = target_tables(db)
        if existing and not force:
            raise DomainError(BACKUP_TARGET_NOT_EMPTY, tables=len(existing))
        if connection.settings_dict.get("NAME") == db.get("NAME"):
            connection.close()  # nothing of ours holds the database while it is replaced
        source = staging / DB_MEMBER[engine]
        engines.restore(db, source)
        key_state = "not in backup"
        if (staging / KEY_MEMBER).exists():
            if os.environ.get("SECRET_KEY"):
                key_state = "kept SECRET_KEY from the environment"
            else:
                _install_secret(staging / KEY_MEMBER, data_dir / "secret_key")
                key_state = "restored"
        expected = manifest["tables"]
        mismatches = counts_compare(expected, target_counts(db))
        result = RestoreResult(
            archive=archive,
            engine=engine,
            created_at=manifest["created_at"],
            laoke_version=manifest.get("laoke_version", "?"),
            tables=len(expected),
            rows=sum(expected.values()),
            secret_key=key_state,
            pending_migrations=_pending_migrations(manifest.get("migrations", [])),
            mismatches=mismatches,
        )
        if mismatches:
            shown = ", ".join(f"{t}: {e} != {a}" for t, e, a in mismatches[:10])
            raise DomainError(
                BACKUP_VERIFY_FAILED,
                count=len(mismatches),
                tables=shown,
                details={"mismatches": [list(m) for m in mismatches]},
            )
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install_secret(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.restore")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, dest)


# --- retention and the daily job ----------------------------------------------------------------


def _retention() -> dict:
    conf = settings.LAOKE["BACKUP"]
    return {k: int(conf[k]) for k in ("keep_daily", "keep_weekly", "keep_monthly")}


def backups_to_keep(
    stamps: list[datetime], now: datetime, *, keep_daily: int, keep_weekly: int, keep_monthly: int
) -> set[datetime]:
    """Which backups retention keeps (borg's rule, in shop time): going from the newest back, the
    newest backup of each day until ``keep_daily`` days are kept, then of each ISO week not yet
    represented until ``keep_weekly``, then of each month until ``keep_monthly``. A period whose
    newest backup was already kept by an earlier rule does not count against the later one. The
    newest backup and any dated after ``now`` (a clock set back) are always kept."""
    tz = clock.shop_tz()
    ordered = sorted((s for s in stamps if s <= now), reverse=True)
    keep: set[datetime] = set()

    def rule(period, n):
        kept, last = 0, None
        for s in ordered:
            if kept >= n:
                break
            p = period(s.astimezone(tz).date())
            if p == last:
                continue
            last = p
            if s not in keep:
                keep.add(s)
                kept += 1

    rule(lambda d: d, keep_daily)
    rule(lambda d: d.isocalendar()[:2], keep_weekly)
    rule(lambda d: (d.year, d.month), keep_monthly)
    keep.update(ordered[:1])
    keep.update(s for s in stamps if s > now)
    return keep


# what a backup killed half-way (power loss, SIGKILL) leaves: its temporary file and staging dir
LEFTOVER_RE = re.compile(
    r"^\.laoke-backup-(\d{8}T\d{6}Z-(sqlite|postgresql)\.tar\.gz\.\d+\.partial|[a-z0-9_]{8})$"
)
LEFTOVER_AGE = timedelta(days=1)


def backup_prune(*, directory: Path, now: datetime) -> list[Path]:
    """Delete the archives in ``directory`` that retention does not keep; returns them. Only files
    whose names match NAME_RE are ever considered — and the leftovers of an interrupted backup
    (LEFTOVER_RE) once they are a day old."""
    found = backups_list(directory)
    keep = backups_to_keep([at for at, _ in found], now, **_retention())
    deleted = []
    for at, path in found:
        if at not in keep:
            path.unlink(missing_ok=True)
            deleted.append(path)
    for path in Path(directory).iterdir() if Path(directory).is_dir() else ():
        if LEFTOVER_RE.match(path.name) and path.stat().st_mtime < (now - LEFTOVER_AGE).timestamp():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def backup_exists_for(directory: Path, day: date) -> bool:
    tz = clock.shop_tz()
    return any(at.astimezone(tz).date() == day for at, _ in backups_list(directory))


def backup_tick(now: datetime) -> dict:
    """The daily job: from LAOKE["BACKUP"]["hour"] (shop time) on, once per shop day, one backup into
    LAOKE["BACKUP"]["dir"], then retention. Running it again the same day does nothing."""
    conf = settings.LAOKE["BACKUP"]
    directory = Path(conf["dir"])
    local = now.astimezone(clock.shop_tz())
    if local.hour < int(conf["hour"]):
        return {"created": None, "reason": "before the backup hour", "pruned": []}
    if backup_exists_for(directory, local.date()):
        return {"created": None, "reason": "already backed up today", "pruned": []}
    result = backup_create(output_dir=directory, now=now)
    pruned = backup_prune(directory=directory, now=now)
    return {"created": str(result.path), "size": result.size, "pruned": [p.name for p in pruned]}
