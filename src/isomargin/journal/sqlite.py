"""SQLite journal backend (the default): one file, WAL mode, synchronous=FULL, one fsync per group.

A group of records is one transaction, so commands arriving together share one WAL sync. An exclusive
lock file beside the database keeps a second writer out; readers (replay, inspect) need no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from isomargin.journal.backend import FORMAT, PAGE, Backend, check_format
from isomargin.journal.errors import JournalCode, JournalError
from isomargin.journal.record import Record, SnapshotRow

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    idem_key TEXT,
    payload BLOB NOT NULL,
    events BLOB,
    checksum BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_idem_key ON records (idem_key) WHERE idem_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS snapshots (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    data BLOB NOT NULL,
    checksum BLOB NOT NULL
);
"""
_COLS = "seq, ts, kind, idem_key, payload, events, checksum"


def _record(row: tuple[Any, ...]) -> Record:
    seq, ts, kind, key, payload, events, checksum = row
    return Record(seq, ts, kind, bytes(payload), key, None if events is None else bytes(events), bytes(checksum))


@contextlib.contextmanager
def _guard(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise JournalError(JournalCode.JOURNAL_UNREADABLE, f"{path}: SQLite says: {exc}") from None


class SQLiteBackend(Backend):
    name = "sqlite"

    def __init__(self, path: Path, *, read_only: bool = False, create: bool = True) -> None:
        self.location = str(path)
        self.path = path
        self._lock_fd: int | None = None
        if not path.exists():
            if read_only or not create:
                raise JournalError(JournalCode.JOURNAL_MISSING, f"no journal at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
        if not read_only:
            self._lock()
        try:
            self._open(read_only)
        except BaseException:
            self.close()
            raise

    def _open(self, read_only: bool) -> None:
        path = self.path
        with _guard(path):
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if read_only:
                self._check_format()
                return
            mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self.db.execute("PRAGMA synchronous=FULL")
            sync = self.db.execute("PRAGMA synchronous").fetchone()[0]
            if mode != "wal" or sync != 2:
                raise JournalError(
                    JournalCode.JOURNAL_UNSAFE, f"{path}: could not set WAL + synchronous=FULL ({mode}, {sync})"
                )
            fresh = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            if fresh:
                self.db.executescript("BEGIN;" + _SCHEMA + "COMMIT;")
                self.db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            self._check_format()

    def _lock(self) -> None:
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError(
                JournalCode.JOURNAL_LOCKED, f"{self.path} is open for writing by another process"
            ) from None
        self._lock_fd = fd

    def _check_format(self) -> None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.OperationalError:
            row = None
        check_format(None if row is None else str(row[0]), str(self.path))

    def append(self, records: Sequence[Record]) -> None:
        rows = [(r.seq, r.ts, r.kind, r.key, r.payload, r.events, r.checksum) for r in records]
        with _guard(self.path):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany(f"INSERT INTO records ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")  # WAL + synchronous=FULL: the WAL is fsynced before COMMIT returns

    def page(self, after: int, limit: int = PAGE) -> list[Record]:
        with _guard(self.path):
            cur = self.db.execute(f"SELECT {_COLS} FROM records WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
            return [_record(row) for row in cur]

    def get(self, seq: int) -> Record | None:
        with _guard(self.path):
            row = self.db.execute(f"SELECT {_COLS} FROM records WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else _record(row)

    def delete_after(self, seq: int) -> int:
        with _guard(self.path):
            self.db.execute("BEGIN IMMEDIATE")
            n = self.db.execute("DELETE FROM records WHERE seq > ?", (seq,)).rowcount
            self.db.execute("DELETE FROM snapshots WHERE seq > ?", (seq,))
            self.db.execute("COMMIT")
        return int(n)

    def put_snapshot(self, row: SnapshotRow) -> None:
        with _guard(self.path):
            self.db.execute(
                "INSERT OR REPLACE INTO snapshots (seq, hash, data, checksum) VALUES (?, ?, ?, ?)",
                (row.seq, row.hash, row.data, row.checksum),
            )

    def snapshot_seqs(self) -> list[int]:
        with _guard(self.path):
            return [r[0] for r in self.db.execute("SELECT seq FROM snapshots ORDER BY seq DESC")]

    def get_snapshot(self, seq: int) -> SnapshotRow | None:
        with _guard(self.path):
            row = self.db.execute("SELECT seq, hash, data, checksum FROM snapshots WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else SnapshotRow(row[0], row[1], bytes(row[2]), bytes(row[3]))

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
