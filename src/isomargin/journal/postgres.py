"""PostgreSQL journal backend (psycopg 3), selected by `postgresql://…[?schema=name]`.

Tables live in their own schema (default `isomargin`), created if absent. A group of records is one
transaction whose COMMIT waits for the WAL flush (synchronous_commit must be on); a session advisory
lock keeps a second writer out of the same schema.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from isomargin.journal.backend import FORMAT, PAGE, Backend, check_format
from isomargin.journal.errors import JournalCode, JournalError
from isomargin.journal.record import Record, SnapshotRow

DEFAULT_SCHEMA = "isomargin"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_COLS = sql.SQL("seq, ts, kind, idem_key, payload, events, checksum")


def split_url(url: str) -> tuple[str, str]:
    """(conninfo URL without our `schema` parameter, schema name)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = DEFAULT_SCHEMA
    rest = []
    for k, v in query:
        if k == "schema":
            schema = v
        else:
            rest.append((k, v))
    if not _NAME.match(schema):
        raise JournalError(
            JournalCode.BAD_JOURNAL_URL, f"schema {schema!r} must match [a-z_][a-z0-9_]* (≤ 63 characters)"
        )
    # libpq decodes %XX but not "+" in a URI, so spaces (e.g. in `options=-c name=value`) must go as %20
    return urlunsplit(parts._replace(query=urlencode(rest, quote_via=quote))), schema


def _record(row: tuple[Any, ...]) -> Record:
    seq, ts, kind, key, payload, events, checksum = row
    return Record(seq, ts, kind, bytes(payload), key, None if events is None else bytes(events), bytes(checksum))


# SQLSTATEs that are not a database error of ours: the server's disk is full (class 53: insufficient resources,
# 53100 disk_full), or the server only reads (25006 read_only_sql_transaction, e.g. a hot standby)
_SQLSTATE_CODES = {"53100": JournalCode.JOURNAL_FULL, "25006": JournalCode.JOURNAL_READ_ONLY}


@contextlib.contextmanager
def _guard(where: str) -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        code = _SQLSTATE_CODES.get(exc.sqlstate or "", JournalCode.JOURNAL_DB_ERROR)
        raise JournalError(code, f"{where}: {first}") from None


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False, create: bool = True) -> None:
        conninfo, self.schema = split_url(url)
        parts = urlsplit(conninfo)
        self.location = f"postgresql://{parts.hostname or ''}:{parts.port or 5432}{parts.path}?schema={self.schema}"
        try:
            self.db = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise JournalError(JournalCode.JOURNAL_UNREACHABLE, f"cannot connect to {self.location}: {msg}") from None
        except (ValueError, psycopg.ProgrammingError) as exc:
            raise JournalError(JournalCode.BAD_JOURNAL_URL, f"{self.location}: {exc}") from None
        try:
            with _guard(self.location):
                self._setup(read_only, create)
        except BaseException:
            self.db.close()
            raise

    def _t(self, table: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(table))

    def _setup(self, read_only: bool, create: bool) -> None:
        if self.db.execute("SHOW synchronous_commit").fetchone() == ("off",):
            raise JournalError(
                JournalCode.JOURNAL_UNSAFE, f"{self.location}: synchronous_commit is off; commits would not be durable"
            )
        if not read_only and self.db.execute("SHOW fsync").fetchone() == ("off",):
            # the server acknowledges COMMITs it never flushed: an OS crash loses them and nothing could tell
            raise JournalError(
                JournalCode.JOURNAL_UNSAFE,
                f"{self.location}: the server runs with fsync=off; commits would not be durable",
            )
        exists = self.db.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'meta'", (self.schema,)
        ).fetchone()
        if not exists and (read_only or not create):
            raise JournalError(JournalCode.JOURNAL_MISSING, f"no journal in {self.location}")
        if not read_only:
            got = self.db.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (f"isomargin:{self.schema}",)).fetchone()
            if not got or not got[0]:
                raise JournalError(
                    JournalCode.JOURNAL_LOCKED, f"{self.location} is open for writing by another process"
                )
        if not exists:
            with self.db.transaction():
                self.db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
                self.db.execute(
                    sql.SQL("CREATE TABLE {} (key text PRIMARY KEY, value text NOT NULL)").format(self._t("meta"))
                )
                self.db.execute(
                    sql.SQL(
                        "CREATE TABLE {} (seq bigint PRIMARY KEY, ts bigint NOT NULL, kind text NOT NULL,"
                        " idem_key text, payload bytea NOT NULL, events bytea, checksum bytea NOT NULL)"
                    ).format(self._t("records"))
                )
                self.db.execute(
                    sql.SQL("CREATE INDEX ON {} (idem_key) WHERE idem_key IS NOT NULL").format(self._t("records"))
                )
                self.db.execute(
                    sql.SQL(
                        "CREATE TABLE {} (seq bigint PRIMARY KEY, hash text NOT NULL, data bytea NOT NULL,"
                        " checksum bytea NOT NULL)"
                    ).format(self._t("snapshots"))
                )
                self.db.execute(sql.SQL("INSERT INTO {} VALUES ('format', %s)").format(self._t("meta")), (FORMAT,))
        row = self.db.execute(sql.SQL("SELECT value FROM {} WHERE key = 'format'").format(self._t("meta"))).fetchone()
        check_format(None if row is None else str(row[0]), self.location)

    def append(self, records: Sequence[Record]) -> None:
        rows = [(r.seq, r.ts, r.kind, r.key, r.payload, r.events, r.checksum) for r in records]
        query = sql.SQL("INSERT INTO {} ({}) VALUES (%s, %s, %s, %s, %s, %s, %s)").format(self._t("records"), _COLS)
        with _guard(self.location), self.db.transaction(), self.db.cursor() as cur:
            cur.executemany(query, rows)
        # leaving the transaction block ran COMMIT, which returns after the WAL flush (synchronous_commit=on)

    def page(self, after: int, limit: int = PAGE) -> list[Record]:
        query = sql.SQL("SELECT {} FROM {} WHERE seq > %s ORDER BY seq LIMIT %s").format(_COLS, self._t("records"))
        with _guard(self.location):
            return [_record(row) for row in self.db.execute(query, (after, limit))]

    def get(self, seq: int) -> Record | None:
        query = sql.SQL("SELECT {} FROM {} WHERE seq = %s").format(_COLS, self._t("records"))
        with _guard(self.location):
            row = self.db.execute(query, (seq,)).fetchone()
        return None if row is None else _record(row)

    def delete_after(self, seq: int) -> int:
        with _guard(self.location), self.db.transaction():
            n = self.db.execute(sql.SQL("DELETE FROM {} WHERE seq > %s").format(self._t("records")), (seq,)).rowcount
            self.db.execute(sql.SQL("DELETE FROM {} WHERE seq > %s").format(self._t("snapshots")), (seq,))
        return n

    def put_snapshot(self, row: SnapshotRow) -> None:
        query = sql.SQL(
            "INSERT INTO {} (seq, hash, data, checksum) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (seq) DO UPDATE SET hash = EXCLUDED.hash, data = EXCLUDED.data, checksum = EXCLUDED.checksum"
        ).format(self._t("snapshots"))
        with _guard(self.location):
            self.db.execute(query, (row.seq, row.hash, row.data, row.checksum))

    def snapshot_seqs(self) -> list[int]:
        with _guard(self.location):
            cur = self.db.execute(sql.SQL("SELECT seq FROM {} ORDER BY seq DESC").format(self._t("snapshots")))
            return [r[0] for r in cur]

    def get_snapshot(self, seq: int) -> SnapshotRow | None:
        query = sql.SQL("SELECT seq, hash, data, checksum FROM {} WHERE seq = %s").format(self._t("snapshots"))
        with _guard(self.location):
            row = self.db.execute(query, (seq,)).fetchone()
        return None if row is None else SnapshotRow(row[0], row[1], bytes(row[2]), bytes(row[3]))

    def drop(self) -> None:
        """Remove the whole schema (tests and benchmarks clean up with this)."""
        with _guard(self.location):
            self.db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.db.close()
