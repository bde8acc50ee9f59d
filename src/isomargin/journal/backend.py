"""The storage interface every journal backend implements, and the URL that picks one.

A backend stores records and snapshot rows and makes an appended group durable with one sync before
`append` returns. It does not judge what it stores: checksums and ordering are checked by `Journal`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

from isomargin.journal.errors import JournalError
from isomargin.journal.record import Record, SnapshotRow

DEFAULT_FILE = "journal.sqlite3"
PAGE = 4096


class Backend(ABC):
    """Durable storage for records (by seq) and snapshots (by the seq they cover)."""

    name: str
    location: str

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
            raise JournalError("bad_journal_url", "sqlite:// needs a path, e.g. sqlite:///var/venue/journal.sqlite3")
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise JournalError(
            "bad_journal_url", f"unknown journal scheme {scheme!r}: use a path, sqlite:///path or postgresql://…"
        )
    path = Path(text)
    if path.is_dir():
        path = path / DEFAULT_FILE
    from isomargin.journal.sqlite import SQLiteBackend

    return SQLiteBackend(path, read_only=read_only, create=create)
