"""SQLite journal backend (the default): one file, WAL mode, synchronous=FULL, one fsync per group.

A group of records is one transaction, so commands arriving together share one WAL sync. An exclusive
lock file beside the database keeps a second writer out; readers (replay, inspect) need no lock. A seq
high-water mark beside the database (`<db>-hwm`) lets an open notice a journal that lost acknowledged records.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
import struct
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
HWM_SUFFIX = "-hwm"
_HWM = struct.Struct("<QQ")  # the seq, then the seq xor _HWM_CHECK: a stray write cannot pass for a mark
_HWM_CHECK = 0x49534F4D_48574D21
# SQLite's primary result codes (sqlite3.h) that are not damage: the disk or quota is full, the file is read-only
_SQLITE_FULL = 13
_SQLITE_IOERR = 10
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14


def _blob(value: Any) -> bytes:
    """A BLOB column as bytes. SQLite enforces no type on read, so a damaged page can hand back NULL, a number or
    text where a BLOB was stored; those become bytes that fail the record's checksum rather than a TypeError."""
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    return b"" if value is None else repr(value).encode()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _record(row: tuple[Any, ...]) -> Record:
    seq, ts, kind, key, payload, events, checksum = row
    return Record(
        seq,
        ts if type(ts) is int else -1,  # (damaged: the checksum covers ts, so the record fails it)
        kind if isinstance(kind, str) else repr(kind),
        _blob(payload),
        key if key is None or isinstance(key, str) else repr(key),
        None if events is None else _blob(events),
        _blob(checksum),
    )


def _classify(path: Path, exc: sqlite3.Error) -> JournalError:
    """The JournalError for an SQLite failure: full and read-only stores have their own codes (an operator can fix
    them and restart); anything else means the file cannot be read as a journal."""
    primary = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # extended codes carry the primary one in the low byte
    if primary == _SQLITE_FULL or (primary == _SQLITE_IOERR and _no_space(path)):
        # SQLite reports ENOSPC on its shared-memory or WAL files as a plain I/O error: the free space tells
        return JournalError(JournalCode.JOURNAL_FULL, f"{path}: the disk is full (SQLite says: {exc})")
    if primary == _SQLITE_READONLY:
        return JournalError(JournalCode.JOURNAL_READ_ONLY, f"{path} cannot be written (SQLite says: {exc})")
    if primary == _SQLITE_CANTOPEN:
        return JournalError(JournalCode.JOURNAL_UNREADABLE, f"{path} cannot be opened (SQLite says: {exc})")
    return JournalError(JournalCode.JOURNAL_UNREADABLE, f"{path}: SQLite says: {exc}")


def _no_space(path: Path) -> bool:
    try:
        return os.statvfs(path.parent).f_bavail == 0
    except OSError:
        return False


@contextlib.contextmanager
def _guard(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise _classify(path, exc) from None


class HighWater:
    """The highest seq known durable, kept in `<db>-hwm` with one `pwrite` per group and deliberately no fsync.

    It is written only after the group's COMMIT (WAL fsynced) returned, so it is never ahead of the synced
    journal: it cannot raise a false alarm. Without an fsync it survives a killed process (the page cache
    holds it) but not always a power cut, so it catches what a kill plus a damaged or lost WAL file loses."""

    def __init__(self, path: Path, writable: bool) -> None:
        self.path = path
        self.fd: int | None = None
        self.unreadable: str | None = None  # why a mark file that exists could not be read
        self.at_open = self._read()
        self.failed: str | None = None  # why the last mark could not be written (the detector is then stale)
        if writable:
            try:
                self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
                if self.at_open is None:  # allocate the 16 bytes now, so a later full disk cannot refuse a mark
                    os.pwrite(self.fd, _HWM.pack(0, _HWM_CHECK), 0)
            except OSError as exc:
                self.close()
                code = JournalCode.JOURNAL_FULL if exc.errno == errno.ENOSPC else JournalCode.JOURNAL_READ_ONLY
                raise JournalError(code, f"cannot write {path}: {exc.strerror}") from None

    def _read(self) -> int | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.unreadable = f"{self.path}: {exc.strerror}"
            return None
        if not raw:
            return None  # created, never written: no group was durable yet
        if len(raw) != _HWM.size:
            self.unreadable = f"{self.path} holds {len(raw)} bytes, not {_HWM.size}"
            return None
        seq, check = _HWM.unpack(raw)
        if seq ^ _HWM_CHECK != check:
            self.unreadable = f"{self.path} fails its check"
            return None
        return int(seq)

    def mark(self, seq: int) -> None:
        """Record `seq` as durable: one syscall, 16 bytes overwritten in place (allocated at open)."""
        if self.fd is None:
            return
        try:
            os.pwrite(self.fd, _HWM.pack(seq, seq ^ _HWM_CHECK), 0)
        except OSError as exc:  # the group is durable already: a stale mark only weakens the check, never lies
            self.failed = f"{self.path}: {exc.strerror}"

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class SQLiteBackend(Backend):
    name = "sqlite"
    keeps_high_water = True

    def __init__(self, path: Path, *, read_only: bool = False, create: bool = True) -> None:
        self.location = str(path)
        self.path = path
        self._lock_fd: int | None = None
        self.hwm: HighWater | None = None
        if not path.exists():
            if read_only or not create:
                raise JournalError(JournalCode.JOURNAL_MISSING, f"no journal at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not read_only and not os.access(path, os.W_OK):
            # SQLite would open it read-only without a word and fail at the first append, after the venue started
            raise JournalError(JournalCode.JOURNAL_READ_ONLY, f"{path} is not writable")
        if not read_only:
            self._lock()
        try:
            self.hwm = HighWater(Path(f"{path}{HWM_SUFFIX}"), writable=not read_only)
            self._open(read_only)
        except BaseException:
            self.close()
            raise

    def _open(self, read_only: bool) -> None:
        path = self.path
        with _guard(path):
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # damaged TEXT (kind, idempotency key) decodes with U+FFFD instead of raising: its record then fails
            # the checksum and is judged like any other bad record
            self.db.text_factory = _text
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
        try:
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            code = JournalCode.JOURNAL_FULL if exc.errno == errno.ENOSPC else JournalCode.JOURNAL_READ_ONLY
            raise JournalError(code, f"cannot create the lock file {self.path}.lock: {exc.strerror}") from None
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
                self.db.execute("COMMIT")  # WAL + synchronous=FULL: the WAL is fsynced before COMMIT returns
            except BaseException:
                # a COMMIT refused for a full disk leaves the transaction open; the error is the thing to report
                if self.db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise
        if self.hwm is not None and rows:
            self.hwm.mark(rows[-1][0])

    def high_water(self) -> int | None:
        return None if self.hwm is None else self.hwm.at_open

    def high_water_note(self) -> str | None:
        return None if self.hwm is None else self.hwm.unreadable

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
        if row is None:
            return None
        return SnapshotRow(row[0], row[1] if isinstance(row[1], str) else repr(row[1]), _blob(row[2]), _blob(row[3]))

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        if self.hwm is not None:
            self.hwm.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
