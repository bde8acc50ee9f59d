"""Journal test kit: PostgreSQL URLs with a unique schema (dropped after use) and a tamper tool.

PostgreSQL is the real server at 127.0.0.1:5432 (trust auth, database `test`; override the URL with
ISOMARGIN_TEST_PG); tests that need it skip, saying why, only when nothing listens on that port.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import uuid
from collections.abc import Callable

import psycopg
from psycopg import sql

PG_BASE = os.environ.get("ISOMARGIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def new_pg_url() -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    sep = "&" if "?" in PG_BASE else "?"
    return f"{PG_BASE}{sep}schema={schema}", schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_BASE, autocommit=True) as db:
        db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def tamper(target: str, seq: int, column: str, change: Callable[[bytes], bytes]) -> object:
    """Rewrite one stored column of record `seq` behind the journal's back (what a bad disk would do);
    returns the value it had, for `put_column` to restore."""
    old = get_column(target, seq, column)
    put_column(target, seq, column, _apply(old, change))
    return old


def get_column(target: str, seq: int, column: str) -> object:
    if target.startswith("postgresql://"):
        conninfo, table = _pg(target)
        with psycopg.connect(conninfo, autocommit=True) as db:
            query = sql.SQL("SELECT {} FROM {} WHERE seq = %s").format(sql.Identifier(column), table)
            row = db.execute(query, (seq,)).fetchone()
    else:
        with contextlib.closing(sqlite3.connect(target)) as lite:
            row = lite.execute(f"SELECT {column} FROM records WHERE seq = ?", (seq,)).fetchone()
    assert row is not None, f"no record {seq}"
    return row[0]


def put_column(target: str, seq: int, column: str, value: object) -> None:
    if target.startswith("postgresql://"):
        conninfo, table = _pg(target)
        with psycopg.connect(conninfo, autocommit=True) as db:
            query = sql.SQL("UPDATE {} SET {} = %s WHERE seq = %s").format(table, sql.Identifier(column))
            db.execute(query, (value, seq))
        return
    with contextlib.closing(sqlite3.connect(target)) as lite:
        lite.execute(f"UPDATE records SET {column} = ? WHERE seq = ?", (value, seq))
        lite.commit()


def _pg(target: str) -> tuple[str, sql.Composed]:
    from isomargin.journal.postgres import split_url

    conninfo, schema = split_url(target)
    return conninfo, sql.SQL("{}.records").format(sql.Identifier(schema))


def _apply(value: object, change: Callable[[bytes], bytes]) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return int.from_bytes(change(value.to_bytes(8, "big", signed=True)), "big", signed=True)
    if isinstance(value, str):
        return change(value.encode()).decode("latin-1")
    assert isinstance(value, bytes | memoryview), value
    return change(bytes(value))
