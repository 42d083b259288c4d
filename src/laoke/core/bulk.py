"""Fast inserts of many rows for chunked jobs (campaign waves, imports): ``INSERT … ON CONFLICT
DO NOTHING`` run by ``executemany``, bypassing model instances.

Django's ``bulk_create`` builds a model instance per row and prepares every value through the
field (≈ 30 µs a row); a campaign chunk of 2,000 messages and 2,000 contacts spends most of its
time there. Rows here are plain tuples in the order of ``columns``; datetimes are adapted the way
the ORM writes them (text on SQLite), so rows written here read back through the ORM unchanged.
Only uniqueness conflicts are skipped: the upsert clause does not cover NOT NULL or CHECK, so a
bad row still fails loudly (unlike ``bulk_create(ignore_conflicts=True)`` on SQLite, whose
``INSERT OR IGNORE`` silently drops a row with a NULL in a NOT NULL column).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from django.db import connection


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Insert ``rows`` into ``table`` ignoring rows that conflict with a unique constraint.
    Returns the number of rows offered (not all databases report how many were inserted).

    PostgreSQL: ``COPY`` into a session temp table shaped like the columns, then one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (COPY is the fastest way in, and the upsert keeps
    the target's constraints). SQLite: ``executemany`` of one single-row upsert (sqlite3 loops in
    C; a giant multi-row VALUES costs more to parse than to run)."""
    if not rows:
        return 0
    quote = connection.ops.quote_name
    cols = ", ".join(quote(c) for c in columns)
    # Identifiers come from model metadata and are quoted; every value is a parameter.
    if connection.vendor == "postgresql":
        tmp = quote(f"_bulk_{table}")
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {tmp} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {cols} FROM {quote(table)} WITH NO DATA"
            )
            with cur.cursor.copy(f"COPY {tmp} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            upsert = f"INSERT INTO {quote(table)} ({cols}) SELECT {cols} FROM {tmp} ON CONFLICT DO NOTHING"  # noqa: S608
            cur.execute(upsert)
            cur.execute(f"DELETE FROM {tmp}")  # noqa: S608
        return len(rows)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(table)} ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608
    with connection.cursor() as cur:
        cur.executemany(sql, _sqlite_datetimes(rows))
    return len(rows)


def _sqlite_datetimes(rows: Sequence[Sequence]) -> list[tuple]:
    """The rows with their datetimes as the ORM writes them on SQLite (text). Columns are
    transposed once so that only the columns holding datetimes are touched (a chunk's rows share
    a few instants: each is adapted once)."""
    columns = list(zip(*rows, strict=True))
    adapted: dict[datetime, str] = {}

    def value(v):
        if v is None:
            return None
        text = adapted.get(v)
        if text is None:
            # What Django's SQLite backend writes (adapt_datetimefield_value): UTC, naive, str().
            text = adapted[v] = str(v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v)
        return text

    touched = False
    for i, col in enumerate(columns):
        if any(issubclass(t, datetime) for t in set(map(type, col))):
            columns[i] = tuple(map(value, col))
            touched = True
    return list(zip(*columns, strict=True)) if touched else [tuple(r) for r in rows]


def update_rows(table: str, keys: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence]) -> int:
    """``UPDATE table SET columns… WHERE keys…`` for each row (``(*column values, *key values)``).
    PostgreSQL: ``COPY`` into a temp table, then one ``UPDATE … FROM`` (an executemany would cost
    a round trip a row); SQLite: ``executemany``. Call inside a transaction. Returns the rows
    offered."""
    if not rows:
        return 0
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        tmp = quote(f"_upd_{table}")
        names = [*columns, *keys]
        cols = ", ".join(quote(c) for c in names)
        sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in columns)
        where = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in keys)
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {tmp} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {cols} FROM {quote(table)} WITH NO DATA"
            )
            with cur.cursor.copy(f"COPY {tmp} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"UPDATE {quote(table)} AS t SET {sets} FROM {tmp} AS s WHERE {where}")  # noqa: S608
            cur.execute(f"DELETE FROM {tmp}")  # noqa: S608
        return len(rows)
    sets = ", ".join(f"{quote(c)} = %s" for c in columns)
    where = " AND ".join(f"{quote(k)} = %s" for k in keys)
    sql = f"UPDATE {quote(table)} SET {sets} WHERE {where}"  # noqa: S608 - identifiers from model metadata
    with connection.cursor() as cur:
        cur.executemany(sql, _sqlite_datetimes(rows))
    return len(rows)


class JsonText(str):
    """A JSON value serialised already (the same for every row: serialise it once)."""


def model_rows(model, values: Sequence[dict]) -> tuple[list[str], list[tuple]]:
    """Columns and plain tuples for ``insert_rows`` from per-row ``{attname: value}`` dicts; every
    other concrete field (the primary key excepted) takes its model default. JSON values are
    serialised here, so the rows suit both databases."""
    if not values:
        return [], []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname in values[0]]
    pairs = [(f.attname, f.get_default()) for f in fields]  # "" for text fields, as the ORM
    json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
    rows = []
    for v in values:
        get = v.get
        row = [get(a, d) for a, d in pairs]
        for i in json_at:
            x = row[i]
            row[i] = (
                x if x.__class__ is JsonText else ("{}" if x == {} else json.dumps(x, ensure_ascii=False))
            )
        rows.append(tuple(row))
    return [f.column for f in fields], rows


def values_in(model, key: str, keys: Sequence, columns: Sequence[str], *, chunk: int = 2000) -> list[tuple]:
    """``SELECT columns FROM model WHERE key IN keys`` as plain tuples, ``chunk`` keys a query —
    for lookups of thousands of keys, where the ORM spends more time preparing each value of an
    ``__in`` list than the database spends answering. Column names are the model's db columns;
    only plain values (numbers, text) come back as the ORM would return them."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    cols = ", ".join(quote(c) for c in columns)
    wanted = list(dict.fromkeys(keys))
    out: list[tuple] = []
    with connection.cursor() as cur:
        for i in range(0, len(wanted), chunk):
            part = wanted[i : i + chunk]
            if connection.vendor == "postgresql":
                cur.execute(f"SELECT {cols} FROM {table} WHERE {quote(key)} = ANY(%s)", [part])  # noqa: S608
            else:
                marks = ", ".join(["%s"] * len(part))
                cur.execute(f"SELECT {cols} FROM {table} WHERE {quote(key)} IN ({marks})", part)  # noqa: S608
            out.extend(cur.fetchall())
    return out
