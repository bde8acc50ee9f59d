"""Journal test kit: PostgreSQL URLs with a unique schema (dropped after use), a tamper tool, and a format-1
journal (what isomargin <= 0.1 wrote) built by hand.

PostgreSQL is the real server at 127.0.0.1:5432 (trust auth, database `test`; override the URL with
ISOMARGIN_TEST_PG); tests that need it skip, saying why, only when nothing listens on that port.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sqlite3
import struct
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


# -- a journal as isomargin <= 0.1 wrote it (format 1), built by hand -----------------------------------------------
FORMAT1_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE records (seq {int} PRIMARY KEY, ts {int} NOT NULL, kind TEXT NOT NULL, idem_key TEXT,"
    " payload {blob} NOT NULL, events {blob}, checksum {blob} NOT NULL)",
    "CREATE TABLE snapshots (seq {int} PRIMARY KEY, hash TEXT NOT NULL, data {blob} NOT NULL,"
    " checksum {blob} NOT NULL)",
)
# format 1 stored commands with "@v": 1 and events as the old engine's to_dict() (a dataclass per event)
FORMAT1_RECORD = (
    1,
    1700000000000,
    "command",
    None,
    b'{"@type":"ListInstrument","@v":1,"maker_fee":null,"price_band":"0.05","symbol":"BTCUSDT","taker_fee":null,'
    b'"ts":1700000000000,"venue":"binance"}',
    b'[{"event":"InstrumentListed","maker_fee":"0.0002","min_notional":"100","settle":"USDT","step_size":"0.001",'
    b'"symbol":"BTCUSDT","taker_fee":"0.0005","tick_size":"0.10","venue":"binance"}]',
)


def format1_checksum(seq: int, ts: int, kind: str, key: str | None, payload: bytes, events: bytes | None) -> bytes:
    """The format-1 record checksum: SHA-256 over a v1 tag and the length-prefixed fields."""
    h = hashlib.sha256(b"isomargin.record.v1")
    h.update(struct.pack(">qq", seq, ts))
    for value in (kind.encode(), None if key is None else key.encode(), payload, events):
        h.update(b"\x00" if value is None else b"\x01" + struct.pack(">Q", len(value)) + value)
    return h.digest()


def write_old_journal(target: str, format_value: str = "isomargin-journal-1") -> None:
    """Create, behind the journal's back, a journal in the on-disk shape of format 1 with one record."""
    row = (*FORMAT1_RECORD, format1_checksum(*FORMAT1_RECORD))
    if target.startswith("postgresql://"):
        from isomargin.journal.postgres import split_url

        conninfo, schema = split_url(target)
        with psycopg.connect(conninfo, autocommit=True) as db, db.transaction():
            db.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            db.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            for ddl in FORMAT1_SCHEMA:
                db.execute(ddl.format(int="bigint", blob="bytea").encode())
            db.execute("INSERT INTO meta VALUES ('format', %s)", (format_value,))
            db.execute("INSERT INTO records VALUES (%s, %s, %s, %s, %s, %s, %s)", row)
        return
    with contextlib.closing(sqlite3.connect(target)) as lite:
        lite.execute("PRAGMA journal_mode=WAL")
        for ddl in FORMAT1_SCHEMA:
            lite.execute(ddl.format(int="INTEGER", blob="BLOB"))
        lite.execute("INSERT INTO meta VALUES ('format', ?)", (format_value,))
        lite.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        lite.commit()


def stored_format(target: str) -> tuple[str, int]:
    """(meta format, record count) read behind the journal's back."""
    if target.startswith("postgresql://"):
        from isomargin.journal.postgres import split_url

        conninfo, schema = split_url(target)
        with psycopg.connect(conninfo, autocommit=True) as db:
            s = sql.Identifier(schema)
            fmt = db.execute(sql.SQL("SELECT value FROM {}.meta WHERE key = 'format'").format(s)).fetchone()
            n = db.execute(sql.SQL("SELECT count(*) FROM {}.records").format(s)).fetchone()
    else:
        with contextlib.closing(sqlite3.connect(target)) as lite:
            fmt = lite.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            n = lite.execute("SELECT count(*) FROM records").fetchone()
    assert fmt is not None and n is not None
    return str(fmt[0]), int(n[0])


def set_high_water(target: str, seq: int) -> None:
    """Write the SQLite journal's high-water mark as its writer would (PostgreSQL keeps none: no-op). A test that
    tears records on purpose lowers it to say those records' groups never returned: they were not acknowledged."""
    if target.startswith("postgresql://"):
        return
    from pathlib import Path

    from isomargin.journal.sqlite import HWM_SUFFIX, HighWater

    mark = HighWater(Path(target + HWM_SUFFIX), writable=True)
    mark.mark(seq)
    mark.close()
