"""The storage-error classifier behind the drills (laoke.core.storage_errors): driver errors as
Django raises them (wrapped, the driver's error as ``__cause__``) → stable codes; anything else
stays unclassified (a bare 500 as before), including errors that only look similar."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from django.db import IntegrityError, InterfaceError, OperationalError
from psycopg import errors as pg

from laoke.core.storage_errors import storage_error


def _wrapped(driver_exc: BaseException, django_cls=OperationalError) -> BaseException:
    try:
        try:
            raise driver_exc
        except BaseException as exc:
            raise django_cls(*exc.args) from exc
    except BaseException as outer:
        return outer


def _sqlite(sql: str, *, uri: str = ":memory:", setup=()) -> sqlite3.Error:
    con = sqlite3.connect(uri, uri=uri.startswith("file:"))
    for s in setup:
        con.execute(s)
    try:
        con.execute(sql)
    except sqlite3.Error as exc:
        return exc
    raise AssertionError(f"{sql} did not fail")


def test_sqlite_read_only_and_full(tmp_path):
    path = tmp_path / "x.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (a)").connection.commit()
    ro = _sqlite("INSERT INTO t VALUES (1)", uri=f"file:{path}?mode=ro")
    assert storage_error(_wrapped(ro)).code == "STORAGE_READ_ONLY"
    full = _sqlite(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 50) "
        "INSERT INTO t SELECT randomblob(4000) FROM n",
        setup=["CREATE TABLE t (a)", "PRAGMA max_page_count = 3"],
    )
    assert full.sqlite_errorname == "SQLITE_FULL"
    assert storage_error(_wrapped(full)).code == "STORAGE_FULL"


def test_sqlite_other_errors_are_not_storage_errors():
    locked = sqlite3.OperationalError("no such table: t")
    assert storage_error(_wrapped(locked)) is None
    unique = _sqlite(
        "INSERT INTO t VALUES (1)", setup=["CREATE TABLE t (a UNIQUE)", "INSERT INTO t VALUES (1)"]
    )
    assert storage_error(_wrapped(unique, IntegrityError)) is None


@pytest.mark.parametrize(
    ("sqlstate", "code"),
    [
        ("25006", "STORAGE_READ_ONLY"),
        ("53100", "STORAGE_FULL"),
        ("57P01", "STORAGE_UNAVAILABLE"),
        ("08006", "STORAGE_UNAVAILABLE"),
        ("40001", None),  # serialization failure: a real answer from a live server
        ("57014", None),  # statement timeout
        ("23505", None),  # unique violation
    ],
)
def test_postgresql_sqlstates(sqlstate, code):
    err = storage_error(_wrapped(pg.lookup(sqlstate)("x")))
    assert (err.code if err else None) == code


def test_a_broken_connection_without_sqlstate_and_djangos_closed_connection():
    assert storage_error(_wrapped(psycopg.OperationalError("server closed the connection"))).code == (
        "STORAGE_UNAVAILABLE"
    )
    assert storage_error(InterfaceError("connection already closed")).code == "STORAGE_UNAVAILABLE"
    assert storage_error(ValueError("closed")) is None
    assert storage_error(RuntimeError("database or disk is full")) is None  # not a driver error


def test_the_body_is_bilingual_and_retryable():
    err = storage_error(_wrapped(pg.lookup("25006")("x")))
    assert err.status == 503 and err.as_body("en")["details"] == {"retryable": True}
    assert "只读" in err.message("zh-hans") and "read-only" in err.message("en")
