"""Drill 4: the embedded SQLite database turns read-only, or fills up.

The suite's database is in memory, so the drill copies its migrated schema to a FILE database in
a temporary LAOKE_DATA_DIR and runs a child process on the real settings (WAL, IMMEDIATE
transactions) with ``laoke.core.storage_errors.StorageErrorMiddleware`` added as settings.py
will list it (tests/drills/_sqlite_child.py). There an API write (en, zh-hans), a console form
write and an htmx write meet a read-only database (``mode=ro``; as root, who runs CI, chmod would
not stop a write) and a full one (``PRAGMA max_page_count``, writes until one fails).

Expected: 503 with ``STORAGE_READ_ONLY`` / ``STORAGE_FULL`` and a message in the caller's
language (JSON for the API and htmx, a small page for the console) instead of a 500 traceback;
nothing of a failed write in the database (no member, no audit row, no idempotency record) while
the writes before the disk filled are all there; writable again → the next write succeeds.
Negative control (same child run): with the mapping switched off the same failures are 500s.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.drills.common import figure

# transaction=True: the schema is copied with SQLite's backup API from the test connection, which
# must not hold an open (IMMEDIATE) transaction — the backup would wait for it forever.
pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CODES = {"readonly": "STORAGE_READ_ONLY", "full": "STORAGE_FULL"}
ZH = {"readonly": "只读", "full": "已满"}


@pytest.fixture(autouse=True)
def _sqlite_only(transactional_db):
    if connection.vendor != "sqlite":
        pytest.skip("the embedded SQLite database's drill (PostgreSQL: drill 1 and STORAGE_* mapping)")


def _run_child(mode: str, tmp_path: Path) -> dict:
    data = tmp_path / mode
    data.mkdir()
    connection.ensure_connection()
    with sqlite3.connect(data / "laoke.sqlite3") as target:
        connection.connection.backup(target)  # the migrated schema, nothing else
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(LAOKE_DATA_DIR=str(data), LAOKE_TESTING="1")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.drills._sqlite_child", mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("DRILL-RESULT ")]
    assert proc.returncode == 0 and lines, (proc.stdout[-3000:], proc.stderr[-3000:])
    out = json.loads(lines[-1].split(" ", 1)[1])
    out["child_seconds"] = time.monotonic() - t0
    return out


@pytest.mark.parametrize("mode", ["readonly", "full"])
def test_read_only_or_full_sqlite_answers_503_with_a_stable_code_and_writes_nothing(mode, tmp_path):
    out = _run_child(mode, tmp_path)
    api_en, api_zh, console, htmx = out["results"]
    for r in (api_en, api_zh):
        assert (r["kind"], r["status"], r["code"]) == ("api", 503, CODES[mode]), r
    assert "nothing was saved" in api_en["message"]
    assert ZH[mode] in api_zh["message"] and "未保存任何更改" in api_zh["message"]
    assert console["status"] == 503 and CODES[mode] in console["text"] and ZH[mode] in console["text"]
    assert console["content_type"].startswith("text/html")
    assert htmx["status"] == 503 and json.loads(htmx["text"])["code"] == CODES[mode]
    assert "Traceback" not in console["text"]
    # Nothing half-written; what was written before the disk filled is all there.
    assert out["leftovers"] == {"members": 0, "idempotency": 0, "audit": 0}
    assert out["succeeded_present"] == out["succeeded"]
    assert out["writable_again"] == 201
    # Negative control: without the mapping the same failures are bare 500s.
    assert [r["status"] for r in out["negative"]] == [500, 500]
    assert out["negative"][0]["code"] == "INTERNAL_ERROR"

    figure(f"sqlite-{mode}", "API write → 503 (ms)", api_en["ms"])
    figure(f"sqlite-{mode}", "console form write → 503 (ms)", console["ms"])
    if mode == "full":
        figure("sqlite-full", "API writes that fit before SQLITE_FULL", api_en["succeeded_before"])
        figure("sqlite-full", "max_page_count (pages of 4 KiB)", out["max_page_count"])
    figure(f"sqlite-{mode}", "child process incl. setup (s)", out["child_seconds"])
