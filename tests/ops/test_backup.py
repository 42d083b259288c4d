"""Backups: the archive's integrity checks, the refusals of a restore, retention by the clock and
the daily tick (docs/decisions/0038-backups.md). The restore drill is test_restore_drill.py.

The archive and restore tests use a small SQLite database made here with sqlite3 (no Django
tables), so they run the same on both CI lanes; every refusal is checked to leave the target
untouched."""

from __future__ import annotations

import gzip
import io
import json
import os
import sqlite3
import tarfile
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.ops import backup as bk
from laoke.ops.backup import (
    archive_name,
    backup_create,
    backup_prune,
    backup_restore,
    backup_tick,
    backups_list,
    counts_compare,
    target_counts,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def sqlite_db(path: Path) -> dict:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}


@pytest.fixture
def source(tmp_path):
    """A small SQLite database in WAL mode, as the app runs it: two tables, 30 and 7 rows."""
    path = tmp_path / "src" / "laoke.sqlite3"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE shop_member (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE ledger_entry (id INTEGER PRIMARY KEY, amount INTEGER)")
    conn.executemany("INSERT INTO shop_member (name) VALUES (?)", [(f"m{i}",) for i in range(30)])
    conn.executemany("INSERT INTO ledger_entry (amount) VALUES (?)", [(i * 100,) for i in range(7)])
    conn.commit()
    conn.close()
    return sqlite_db(path)


@pytest.fixture
def archive(source, tmp_path):
    return backup_create(output_dir=tmp_path / "out", now=NOW, db=source).path


def restore(archive, tmp_path, name="target", **kw):
    target = sqlite_db(tmp_path / name / "laoke.sqlite3")
    result = backup_restore(archive=archive, db=target, data_dir=tmp_path / name, **kw)
    return target, result


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def repack(archive: Path, dest: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in files.items():  # manifest first, as backup_create writes it
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def code_of(excinfo) -> str:
    return excinfo.value.code


# --- the archive ------------------------------------------------------------------------------


def test_archive_holds_manifest_database_and_checksums(archive, source):
    assert archive.name == "laoke-backup-20260310T020000Z-sqlite.tar.gz"
    assert archive.stat().st_mode & 0o777 == 0o600
    files = members(archive)
    assert next(iter(files)) == "manifest.json"
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == 1 and manifest["engine"] == "sqlite"
    assert manifest["created_at"] == "2026-03-10T02:00:00Z"
    assert manifest["tables"] == {"ledger_entry": 7, "shop_member": 30}
    assert manifest["totals"] == {"tables": 2, "rows": 37}
    assert manifest["migrations"] == []
    import hashlib

    for name, meta in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == meta["sha256"]
        assert len(files[name]) == meta["size"]
    # the database member is a complete SQLite file on its own (no -wal beside it)
    copy = archive.parent / "copy.sqlite3"
    copy.write_bytes(files["database.sqlite3"])
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT SUM(amount) FROM ledger_entry").fetchone() == (2100,)
    conn.close()
    # no temporary file left behind
    assert sorted(p.name for p in archive.parent.iterdir()) == ["copy.sqlite3", archive.name]


def test_backup_of_a_missing_database_is_an_error_and_creates_nothing(tmp_path):
    missing = tmp_path / "never" / "laoke.sqlite3"
    with pytest.raises(DomainError) as exc:
        backup_create(output_dir=tmp_path / "out", now=NOW, db=sqlite_db(missing))
    assert code_of(exc) == "BACKUP_TOOL_FAILED"
    assert not missing.exists() and list((tmp_path / "out").iterdir()) == []


def test_two_backups_in_the_same_second_keep_both(source, tmp_path):
    first = backup_create(output_dir=tmp_path / "o", now=NOW, db=source).path
    second = backup_create(output_dir=tmp_path / "o", now=NOW, db=source).path
    assert first.name == "laoke-backup-20260310T020000Z-sqlite.tar.gz"
    assert second.name == "laoke-backup-20260310T020000Z.1-sqlite.tar.gz"
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [first.name, second.name]
    assert [p for _, p in backups_list(tmp_path / "o")] == [first, second]


def test_secret_key_included_unless_it_comes_from_the_environment(source, tmp_path, monkeypatch, settings):
    settings.DATA_DIR = tmp_path / "keys"
    settings.DATA_DIR.mkdir()
    (settings.DATA_DIR / "secret_key").write_text("the-generated-key")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with_key = backup_create(output_dir=tmp_path / "o1", now=NOW, db=source)
    assert members(with_key.path)["secret_key"] == b"the-generated-key"
    _, result = restore(with_key.path, tmp_path, "t1")
    assert result.secret_key == "restored"
    assert (tmp_path / "t1" / "secret_key").read_text() == "the-generated-key"

    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    _, result = restore(with_key.path, tmp_path, "t2")  # the environment's key wins; no file written
    assert result.secret_key == "kept SECRET_KEY from the environment"
    assert not (tmp_path / "t2" / "secret_key").exists()
    without = backup_create(output_dir=tmp_path / "o2", now=NOW, db=source)
    assert "secret_key" not in members(without.path)
    assert json.loads(members(without.path)["manifest.json"])["secret_key_included"] is False


def test_backup_is_consistent_while_another_connection_writes(source, tmp_path):
    """WAL: an open write transaction elsewhere does not block the backup, and its uncommitted
    rows are not in it."""
    writer = sqlite3.connect(source["NAME"], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO shop_member (name) VALUES ('uncommitted')")
    try:
        result = backup_create(output_dir=tmp_path / "out", now=NOW, db=source)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.manifest["tables"]["shop_member"] == 30
    target, _ = restore(result.path, tmp_path)
    assert target_counts(target)["shop_member"] == 30


# --- restore and its refusals ----------------------------------------------------------------


def test_restore_into_a_never_initialised_data_dir(archive, tmp_path):
    target, result = restore(archive, tmp_path, "fresh/nested")
    assert (result.tables, result.rows, result.mismatches) == (2, 37, [])
    assert target_counts(target) == {"ledger_entry": 7, "shop_member": 30}


def test_restore_refuses_a_target_with_data_unless_forced(archive, source, tmp_path):
    target, _ = restore(archive, tmp_path)
    conn = sqlite3.connect(target["NAME"])
    conn.execute("INSERT INTO shop_member (name) VALUES ('written after the restore')")
    conn.commit()
    conn.close()
    with pytest.raises(DomainError) as exc:
        restore(archive, tmp_path)
    assert code_of(exc) == "BACKUP_TARGET_NOT_EMPTY"
    assert target_counts(target)["shop_member"] == 31  # untouched
    _, result = restore(archive, tmp_path, force=True)
    assert result.mismatches == []
    assert target_counts(target)["shop_member"] == 30


def test_a_changed_byte_is_refused(archive, tmp_path):
    """A flipped bit anywhere after gzip's header — in the compressed data, the tar padding and
    end blocks, gzip's CRC or length — is refused and nothing is written, unless it changed
    nothing: deflate has a few slack bits (a flip there decompresses to the very same bytes,
    which gzip itself, the oracle here, accepts)."""
    original = archive.read_bytes()
    content = gzip.decompress(original)
    positions = [*range(80, len(original), max(1, len(original) // 60)), len(original) - 5, len(original) - 1]
    refused = harmless = 0
    damaged = tmp_path / "damaged.tar.gz"
    for pos in positions:
        data = bytearray(original)
        data[pos] ^= 0x04
        damaged.write_bytes(bytes(data))
        try:
            unchanged = gzip.decompress(bytes(data)) == content
        except (OSError, EOFError, zlib.error):
            unchanged = False
        if unchanged:
            harmless += 1
            continue
        with pytest.raises(DomainError) as exc:
            restore(damaged, tmp_path)
        assert code_of(exc) in {"BACKUP_INVALID", "BACKUP_CHECKSUM_MISMATCH"}, pos
        assert not (tmp_path / "target" / "laoke.sqlite3").exists()
        refused += 1
    assert refused >= len(positions) - 5 and harmless <= 5, (refused, harmless)
    # negative control: the unchanged bytes restore
    damaged.write_bytes(original)
    assert restore(damaged, tmp_path)[1].mismatches == []


def test_a_changed_database_member_fails_its_checksum(archive, tmp_path):
    files = members(archive)
    db = bytearray(files["database.sqlite3"])
    db[-100] ^= 0xFF  # a valid tar and gzip; only the checksum can tell
    files["database.sqlite3"] = bytes(db)
    with pytest.raises(DomainError) as exc:
        restore(repack(archive, tmp_path / "altered.tar.gz", files), tmp_path)
    assert code_of(exc) == "BACKUP_CHECKSUM_MISMATCH"
    assert not (tmp_path / "target" / "laoke.sqlite3").exists()
    # negative control: the same repacking without the change restores fine
    _, result = restore(repack(archive, tmp_path / "same.tar.gz", members(archive)), tmp_path)
    assert result.mismatches == []


def test_unknown_format_other_engine_and_newer_schema_are_refused(archive, tmp_path):
    files = members(archive)
    manifest = json.loads(files["manifest.json"])

    def variant(name, **change):
        return repack(
            archive, tmp_path / name, {**files, "manifest.json": json.dumps({**manifest, **change}).encode()}
        )

    with pytest.raises(DomainError) as exc:
        restore(variant("v2.tar.gz", format=2), tmp_path)
    assert code_of(exc) == "BACKUP_FORMAT_UNSUPPORTED"

    pg_files = {"database.pgdump": manifest["files"]["database.sqlite3"]}
    pg = repack(
        archive,
        tmp_path / "pg.tar.gz",
        {
            "manifest.json": json.dumps({**manifest, "engine": "postgresql", "files": pg_files}).encode(),
            "database.pgdump": files["database.sqlite3"],
        },
    )
    with pytest.raises(DomainError) as exc:
        restore(pg, tmp_path)
    assert code_of(exc) == "BACKUP_ENGINE_MISMATCH"
    assert "cross-engine restore is not supported" in exc.value.message("en")

    with pytest.raises(DomainError) as exc:
        restore(variant("newer.tar.gz", migrations=["core.9999_from_the_future"]), tmp_path)
    assert code_of(exc) == "BACKUP_SCHEMA_NEWER"
    assert not (tmp_path / "target" / "laoke.sqlite3").exists()

    with pytest.raises(DomainError) as exc:
        restore(
            repack(archive, tmp_path / "x.tar.gz", {"database.sqlite3": b"", "manifest.json": b"{}"}),
            tmp_path,
        )
    assert code_of(exc) == "BACKUP_INVALID"  # the manifest must come first


def test_restore_detects_row_counts_that_differ(archive, tmp_path):
    # a manifest that promises one row more than the dump holds: the check after restoring says so
    files = members(archive)
    manifest = json.loads(files["manifest.json"])
    manifest["tables"]["ledger_entry"] = 8
    lying = repack(
        archive, tmp_path / "lying.tar.gz", {**files, "manifest.json": json.dumps(manifest).encode()}
    )
    with pytest.raises(DomainError) as exc:
        restore(lying, tmp_path)
    assert code_of(exc) == "BACKUP_VERIFY_FAILED"
    assert exc.value.details["mismatches"] == [["ledger_entry", 8, 7]]
    # the comparison itself: a deleted row, a missing table and an extra table are all reported
    expected = {"a": 3, "b": 2}
    assert counts_compare(expected, {"a": 3, "b": 2}) == []
    assert counts_compare(expected, {"a": 2, "b": 2}) == [("a", 3, 2)]
    assert counts_compare(expected, {"a": 3, "c": 0}) == [("b", 2, None), ("c", None, 0)]


# --- retention --------------------------------------------------------------------------------


def local(y, m, d, hh=3):
    return datetime(y, m, d, hh, 0, tzinfo=SHANGHAI)


def test_retention_after_ninety_simulated_days(tmp_path, settings):
    """One backup a day at 03:00 Shanghai (19:00 UTC the day before), 1 January to 31 March 2026,
    each followed by the prune as the tick runs it; keep 7 daily, 4 weekly, 12 monthly. Survivors,
    worked out by hand: the last 7 days (25–31 March); the ISO weeks before them whose newest
    backup is not already kept — 16–22 March (the 22nd), 9–15 (15th), 2–8 (8th), 23 Feb–1 March
    (1st); the months not yet represented — February (the 28th), January (the 31st)."""
    settings.LAOKE = {
        **settings.LAOKE,
        "BACKUP": {**settings.LAOKE["BACKUP"], "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12},
    }
    (tmp_path / "notes.txt").write_text("not ours")
    (tmp_path / "laoke-backup-garbage.tar.gz").write_text("not ours either")
    day = date(2026, 1, 1)
    while day <= date(2026, 3, 31):
        at = local(day.year, day.month, day.day)
        (tmp_path / archive_name(at, "sqlite")).write_bytes(b"x")
        backup_prune(directory=tmp_path, now=at + timedelta(minutes=1))
        day += timedelta(days=1)
    survivors = sorted(at.astimezone(SHANGHAI).date() for at, _ in backups_list(tmp_path))
    expected = [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 1),
        date(2026, 3, 8),
        date(2026, 3, 15),
        date(2026, 3, 22),
    ] + [date(2026, 3, d) for d in range(25, 32)]
    assert survivors == expected
    assert (tmp_path / "notes.txt").exists() and (tmp_path / "laoke-backup-garbage.tar.gz").exists()
    # the names are UTC: the 31 March backup is named after 30 March 19:00 UTC
    assert (tmp_path / "laoke-backup-20260330T190000Z-sqlite.tar.gz").exists()


def test_retention_keeps_the_newest_and_what_is_dated_after_now(tmp_path, settings):
    settings.LAOKE = {
        **settings.LAOKE,
        "BACKUP": {**settings.LAOKE["BACKUP"], "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
    }
    stamps = [local(2026, 3, d) for d in (1, 2, 3)] + [local(2026, 4, 1)]
    for at in stamps:
        (tmp_path / archive_name(at, "postgresql")).write_bytes(b"x")
    deleted = backup_prune(directory=tmp_path, now=local(2026, 3, 3, 12))
    assert sorted(p.name for p in deleted) == sorted(archive_name(s, "postgresql") for s in stamps[:2])
    assert [at for at, _ in backups_list(tmp_path)] == [stamps[2], stamps[3]]


def test_prune_removes_a_crashed_backups_leftovers_after_a_day(tmp_path, settings):
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    old, fresh = (now - timedelta(days=2)).timestamp(), (now - timedelta(hours=1)).timestamp()
    partial = tmp_path / ".laoke-backup-20261129T190000Z-sqlite.tar.gz.4242.partial"
    staging = tmp_path / ".laoke-backup-ab12cd_9"
    running = tmp_path / ".laoke-backup-20261130T190000Z-postgresql.tar.gz.777.partial"
    foreign = [
        tmp_path / ".laoke-backup-notes",
        tmp_path / "my.partial",
        tmp_path / ".laoke-backup-ab12cd_9x",
    ]
    partial.write_bytes(b"x")
    staging.mkdir()
    (staging / "database.sqlite3").write_bytes(b"x")
    running.write_bytes(b"x")
    for p in foreign:
        p.write_bytes(b"x")
    for p in (partial, staging, *foreign):
        os.utime(p, (old, old))
    os.utime(running, (fresh, fresh))
    deleted = backup_prune(directory=tmp_path, now=now)
    assert sorted(p.name for p in deleted) == sorted([partial.name, staging.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, *(p.name for p in foreign)])


# --- the daily tick (a real backup of the test database) -----------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
def test_backup_tick_once_per_shop_day_from_the_hour(tmp_path, settings):
    settings.LAOKE = {**settings.LAOKE, "BACKUP": {**settings.LAOKE["BACKUP"], "dir": tmp_path, "hour": 3}}
    early = local(2026, 3, 10, 2).replace(minute=59)
    assert backup_tick(early)["created"] is None  # before 03:00 Shanghai
    assert backups_list(tmp_path) == []
    first = backup_tick(local(2026, 3, 10, 3))
    assert first["created"]
    assert backup_tick(local(2026, 3, 10, 23))["reason"] == "already backed up today"
    # 00:30 on the 11th in Shanghai is still the 10th in UTC: a new shop day, but before the hour
    assert backup_tick(local(2026, 3, 11, 0).replace(minute=30))["created"] is None
    second = backup_tick(local(2026, 3, 11, 4))
    assert second["created"] and second["created"] != first["created"]
    assert [p.name for _, p in backups_list(tmp_path)] == [
        Path(first["created"]).name,
        Path(second["created"]).name,
    ]
    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    assert Path(second["created"]).name == f"laoke-backup-20260310T200000Z-{vendor}.tar.gz"
    manifest = json.loads(members(Path(second["created"]))["manifest.json"])
    assert "django_migrations" in manifest["tables"] and len(manifest["migrations"]) > 50


def test_frozen_clock_is_what_the_task_passes(monkeypatch):
    seen = []
    monkeypatch.setattr("laoke.ops.tasks.backup_tick", seen.append)
    from laoke.ops.tasks import backup_tick_periodic

    with clock.frozen(NOW):
        backup_tick_periodic.call_local()
    assert seen == [NOW]


def test_only_our_names_are_recognised():
    assert bk.archive_time("laoke-backup-20260310T020000Z-sqlite.tar.gz") == NOW
    assert bk.archive_time("laoke-backup-20260310T020000Z.1-postgresql.tar.gz") == NOW
    for name in (
        "laoke-backup-20260310T020000Z-mysql.tar.gz",
        "x-laoke-backup-20260310T020000Z-sqlite.tar.gz",
        "laoke-backup-20260310T020000Z-sqlite.tar.gz.partial",
        ".laoke-backup-20260310T020000Z-sqlite.tar.gz.partial",
    ):
        assert bk.archive_time(name) is None, name


def test_cli_restore_refuses_a_damaged_archive_with_exit_code_2(archive, tmp_path, capsys):
    from laoke.cli import main

    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])  # cut short
    assert main(["restore", str(damaged)]) == 2
    body = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert body["code"] == "BACKUP_INVALID"


def test_in_memory_targets_are_refused(archive):
    with pytest.raises(ValueError, match="in-memory"):
        backup_restore(archive=archive, db=sqlite_db("file:memorydb_default?mode=memory&cache=shared"))
