"""THE RESTORE DRILL (docs/decisions/0038-backups.md), on the engine the suite runs on.

Real activity through the services (members, points earned and spent, wallets topped up and spent,
a prepaid card recharged, coupons issued and redeemed, orders settled, one refunded), committed;
its fingerprint — every table's row count from Django's introspection and every ledger account's
balance from the ledger's read functions — is taken in this process. Then, as a user would, with
the real ``laoke`` command in subprocesses:

1. the backup of the test database is restored with ``laoke restore FILE`` into target A — on
   SQLite a LAOKE_DATA_DIR that was never initialised, on PostgreSQL a new, empty database;
2. ``laoke backup --output D`` of A, then (SQLite) ``laoke restore`` of that archive into target B,
   again never initialised — on PostgreSQL that third database is left out to keep the test near
   a minute (its pg_restore and DROP DATABASE take ~30 s on a loaded machine; same code path);
3. A's (and B's) fingerprint, read by a subprocess on each, must equal the original's: every table,
   every balance, the ledger check line and the secret key.

Negative controls: restoring into A again without --force is refused (BACKUP_TARGET_NOT_EMPTY);
with --force it is accepted and verified (on PostgreSQL: pg_restore --clean over the tables); after
one row is deleted from A, both the restore's own verification (``counts_compare`` of the manifest
against the database) and the drill's fingerprint comparison report the difference.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.db import connection

from laoke.core.errors import DomainError
from laoke.ops.backup import backup_create, backup_restore, counts_compare, target_counts
from tests.conftest import is_postgres
from tests.ops._activity import populate
from tests.ops._fingerprint import fingerprint
from tests.orders.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.django_db(transaction=True)


def _env(data_dir: Path, database_url: str | None) -> dict:
    env = {**os.environ, "LAOKE_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "laoke.settings"}
    for key in ("DATABASE_URL", "LAOKE_TESTING", "LAOKE_BACKUP_DIR", "LAOKE_FROZEN_NOW"):
        env.pop(key, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


class Target:
    """A place to restore into that was never initialised: a fresh data dir, and on PostgreSQL a
    new empty database (created from template0 here, dropped at the end)."""

    def __init__(self, tmp_path: Path, name: str):
        self.data_dir = tmp_path / f"data-{name}"
        self.data_dir.mkdir()
        self.dbname = None
        self.url = None
        if is_postgres():
            self.dbname = f"laoke_drill_{name}_{uuid.uuid4().hex[:10]}"
            s = connection.settings_dict
            auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
            self.url = f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{self.dbname}"
            with connection.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.dbname}" TEMPLATE template0')

    @property
    def db(self) -> dict:
        if self.dbname:
            return {**connection.settings_dict, "NAME": self.dbname}
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(self.data_dir / "laoke.sqlite3")}

    def laoke(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [BIN / "laoke", *args],
            env=_env(self.data_dir, self.url),
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert out.returncode == 0, out.stdout + out.stderr[-3000:]
        return out

    def fingerprint(self) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "tests.ops._fingerprint"],
            env=_env(self.data_dir, self.url),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    def delete_one_row(self, table: str) -> None:
        if self.dbname:
            import psycopg

            with psycopg.connect(self.url) as conn:
                conn.execute(f'DELETE FROM "{table}" WHERE id = (SELECT MAX(id) FROM "{table}")')
        else:
            with sqlite3.connect(self.db["NAME"]) as conn:
                conn.execute(f'DELETE FROM "{table}" WHERE id = (SELECT MAX(id) FROM "{table}")')
            conn.close()

    def drop(self) -> None:
        if self.dbname:
            with connection.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')


@pytest.mark.timeout(600)
def test_restore_drill(tmp_path):
    activity = populate()
    assert activity == {"members": 4, "orders": 5}
    expected = fingerprint()
    # the drill is only worth something if the ledger and the order tables hold rows
    for table in (
        "ledger_transfer",
        "ledger_account",
        "orders_order",
        "orders_refund",
        "orders_ordercoupon",
        "points_pointsspend",
        "points_pointsearning",
        "cards_card",
        "promotions_coupon",
    ):
        assert expected["tables"][table] > 0, table
    assert len(expected["balances"]) >= 10 and any(v != 0 for v in expected["balances"].values())

    first = backup_create(output_dir=tmp_path / "backups-1", now=NOW)  # what `laoke backup` runs
    assert first.manifest["tables"] == expected["tables"]

    a = Target(tmp_path, "a")
    b = None
    try:
        out = a.laoke("restore", str(first.path))
        assert "match the manifest — OK" in out.stdout, out.stdout
        got_a = a.fingerprint()
        assert got_a == expected

        out = a.laoke("backup", "--output", str(tmp_path / "backups-2"))
        second = Path(out.stdout.splitlines()[0])
        assert second.parent == tmp_path / "backups-2" and second.exists()
        assert f"{len(expected['tables'])} tables, {sum(expected['tables'].values())} rows" in out.stdout
        with tarfile.open(second, "r:gz") as tar:
            assert json.loads(tar.extractfile("manifest.json").read())["tables"] == expected["tables"]
        if not is_postgres():  # on PostgreSQL a third database costs ~30 s (restore, DROP DATABASE)
            b = Target(tmp_path, "b")
            b.laoke("restore", str(second))
            assert b.fingerprint() == expected

        # negative controls: a target with data is refused without --force …
        with pytest.raises(DomainError) as refused:
            backup_restore(archive=second, db=a.db, data_dir=a.data_dir)
        assert refused.value.code == "BACKUP_TARGET_NOT_EMPTY"
        # … and accepted with force (PostgreSQL: pg_restore --clean over the existing tables)
        forced = backup_restore(archive=second, db=a.db, data_dir=a.data_dir, force=True)
        assert forced.mismatches == [] and forced.rows == sum(expected["tables"].values())
        # … and a lost row is reported by the restore's check and by the drill's comparison
        a.delete_one_row("core_auditentry")
        n = expected["tables"]["core_auditentry"]
        assert counts_compare(first.manifest["tables"], target_counts(a.db)) == [
            ("core_auditentry", n, n - 1)
        ]
        assert a.fingerprint() != expected
    finally:
        a.drop()
        if b is not None:
            b.drop()
