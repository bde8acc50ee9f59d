"""The storage interface every journal backend implements, and the URL that picks one.

A backend stores records and snapshot rows and makes an appended group durable with one sync before
`append` returns. It does not judge what it stores: checksums and ordering are checked by `Journal`. Every backend
stamps its store with the journal format (`FORMAT_VERSION`) and refuses, at open, a format this build does not read.
A backend may keep a seq high-water mark (`high_water`) so an open can tell that acknowledged records were lost.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

from isomargin.journal.errors import JournalCode, JournalError
from isomargin.journal.record import Record, SnapshotRow

DEFAULT_FILE = "journal.sqlite3"
PAGE = 4096
FORMAT_VERSION = 2  # 2: engine v2 events ({"@type", **raw}), commands "@v": 2; 1: isomargin <= 0.1
READS = (2,)  # journal formats this build opens
_FORMAT_PREFIX = "isomargin-journal-"
FORMAT = f"{_FORMAT_PREFIX}{FORMAT_VERSION}"  # the value a store's meta row `format` holds


def check_format(stored: str | None, location: str) -> None:
    """Refuse a store this build cannot read: not an isomargin journal, or a journal format it does not read."""
    if stored is None or not stored.startswith(_FORMAT_PREFIX):
        found = "no isomargin journal" if stored is None else f"format {stored!r}"
        raise JournalError(JournalCode.NOT_A_JOURNAL, f"{location} holds {found}; expected {FORMAT}")
    version = stored.removeprefix(_FORMAT_PREFIX)
    if not version.isdigit() or int(version) not in READS:
        reads = ", ".join(map(str, READS))
        hint = (
            "replay it with isomargin <= 0.1 or start a new journal"
            if version == "1"
            else "open it with the isomargin build that wrote it"
        )
        raise JournalError(
            JournalCode.JOURNAL_FORMAT, f"{location}: journal format {version}, this build reads {reads}: {hint}"
        )


class Backend(ABC):
    """Durable storage for records (by seq) and snapshots (by the seq they cover)."""

    name: str
    location: str
    keeps_high_water = False  # whether `high_water` can ever say something

    @abstractmethod
    def append(self, records: Sequence[Record]) -> None:
        """Store every record in one transaction; durable (synced) when this returns."""

    @abstractmethod
    def page(self, after: int, limit: int = PAGE) -> list[Record]:
        """Up to `limit` records with seq > `after`, in seq order."""

    @abstractmethod
    def get(self, seq: int) -> Record | None: ...

    @abstractmethod
    def delete_after(self, seq: int) -> int:
        """Remove records with seq > `seq` (and snapshots beyond it); returns how many records went."""

    @abstractmethod
    def put_snapshot(self, row: SnapshotRow) -> None: ...

    @abstractmethod
    def snapshot_seqs(self) -> list[int]:
        """Seqs of stored snapshots, newest first."""

    @abstractmethod
    def get_snapshot(self, seq: int) -> SnapshotRow | None: ...

    @abstractmethod
    def close(self) -> None: ...

    def high_water(self) -> int | None:
        """The highest seq this store's writers recorded as durable, as read at open; None if it keeps no mark."""
        return None

    def high_water_note(self) -> str | None:
        """Why a mark that exists could not be read (it is then ignored), or None."""
        return None

    def records(self, after: int = 0) -> Iterator[Record]:
        while True:
            batch = self.page(after)
            if not batch:
                return
            yield from batch
            after = batch[-1].seq


def open_backend(target: str | Path, *, read_only: bool = False, create: bool = True) -> Backend:
    """`postgresql://…` (optionally `?schema=name`), `sqlite:///path`, or a path (a directory means
    `<dir>/journal.sqlite3`, the venue data directory's default journal)."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from isomargin.journal.postgres import PostgresBackend

        return PostgresBackend(text, read_only=read_only, create=create)
    if text.startswith("sqlite://"):
        text = text.removeprefix("sqlite://")
        if not text:
            raise JournalError(
                JournalCode.BAD_JOURNAL_URL, "sqlite:// needs a path, e.g. sqlite:///var/venue/journal.sqlite3"
            )
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise JournalError(
            JournalCode.BAD_JOURNAL_URL,
            f"unknown journal scheme {scheme!r}: use a path, sqlite:///path or postgresql://…",
        )
    path = Path(text)
    if path.is_dir():
        path = path / DEFAULT_FILE
    from isomargin.journal.sqlite import SQLiteBackend

    return SQLiteBackend(path, read_only=read_only, create=create)
