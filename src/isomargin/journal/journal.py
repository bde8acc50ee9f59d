"""The journal: a backend plus the checks that make it trustworthy.

`scan()` verifies every record's checksum and that seqs run 1, 2, 3… without a gap. Bad records at the
end (a torn or corrupt tail) are reported and, when writing, truncated past the last good record; a bad
record followed by good ones is corruption in the middle and refuses to start, and so does a journal that
ends before the backend's high-water mark (acknowledged records lost). Snapshots are stored here too,
each covering the records up to its seq (the restored engine's `seq` must say the same).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from isomargin.engine import Engine
from isomargin.engine.snapshot import canonical, restore, snapshot, state_hash
from isomargin.journal.backend import Backend, open_backend
from isomargin.journal.errors import JournalCode, JournalError
from isomargin.journal.keys import KeyIndex
from isomargin.journal.record import Record, SnapshotRow


@dataclass(slots=True)
class Scan:
    """What `Journal.scan` found: the good prefix 1..last_seq and what lay beyond it."""

    last_seq: int = 0
    keys: KeyIndex | None = None  # the idempotency keys of the good prefix's retention window, when asked for
    bad_tail: list[int] = field(default_factory=list)  # seqs of bad records past the good prefix
    bad_tail_bytes: int = 0  # stored bytes (payload, events, checksum) of those records
    truncated: int = 0  # records removed by `repair`
    read: int = 0  # records read, good and bad
    high_water: int | None = None  # the backend's durable-seq mark at open (None: it keeps none, or none yet)
    high_water_kept: bool = False  # whether the backend keeps such a mark at all
    high_water_note: str | None = None  # why a mark that exists was ignored

    @property
    def torn(self) -> bool:
        return bool(self.bad_tail)

    @property
    def behind(self) -> int:
        """How many acknowledged seqs (by the high-water mark) the good prefix lacks: 0 unless records were lost."""
        return 0 if self.high_water is None else max(0, self.high_water - self.last_seq)


class Journal:
    """Records and snapshots in one backend; see `open_journal`."""

    def __init__(self, backend: Backend, *, read_only: bool = False) -> None:
        self.backend = backend
        self.read_only = read_only

    @property
    def location(self) -> str:
        return f"{self.backend.name}:{self.backend.location}"

    def scan(self, keys: KeyIndex | None = None) -> Scan:
        """Verify every record; raise `journal_corrupt` on damage followed by good records. Every good record is
        noted in `keys` (if given), which keeps those of its retention window."""
        backend = self.backend
        out = Scan(keys=keys, high_water=backend.high_water(), high_water_kept=backend.keeps_high_water,
                   high_water_note=backend.high_water_note())  # fmt: skip
        note = None if keys is None else keys.note
        expected = 1
        first_bad: tuple[int, str] | None = None
        for rec in self.backend.records():
            out.read += 1
            if first_bad is None:
                if rec.seq == expected and rec.valid:
                    if note is not None:
                        note(rec.seq, rec.ts, rec.key)
                    out.last_seq = expected
                    expected += 1
                    continue
                if rec.seq != expected:
                    first_bad = (expected, f"records {expected}..{rec.seq - 1} are missing")
                    if rec.valid:
                        raise self._corrupt(first_bad, rec.seq)
                else:
                    first_bad = (rec.seq, f"record {rec.seq} fails its checksum")
                out.bad_tail.append(rec.seq)
                out.bad_tail_bytes += _stored_size(rec)
            elif rec.valid:
                raise self._corrupt(first_bad, rec.seq)
            else:
                out.bad_tail.append(rec.seq)
                out.bad_tail_bytes += _stored_size(rec)
        if out.behind and not self.read_only:
            raise self._behind(out)
        return out

    def _behind(self, scan: Scan) -> JournalError:
        torn = f" (then {len(scan.bad_tail)} bad record(s) from seq {scan.bad_tail[0]})" if scan.bad_tail else ""
        return JournalError(
            JournalCode.JOURNAL_BEHIND,
            f"{self.location} ends at seq {scan.last_seq}{torn} but its high-water mark says seq {scan.high_water} "
            f"was acknowledged: {scan.behind} acknowledged record(s) are lost (a WAL file cut or deleted, the "
            "database replaced by an older copy?); refusing to start. Restore the journal from a replica or backup; "
            "only if this journal is meant to go on from here, delete the mark file beside it",
        )

    def _corrupt(self, first_bad: tuple[int, str], good_seq: int) -> JournalError:
        return JournalError(
            JournalCode.JOURNAL_CORRUPT,
            f"{self.location}: {first_bad[1]} but valid record {good_seq} follows, so this is not a torn tail; "
            "refusing to start (restore the journal from a replica or backup)",
        )

    def repair(self, scan: Scan) -> None:
        """Truncate a bad tail past the last good record (no-op when read-only or nothing is bad)."""
        if scan.bad_tail and not self.read_only:
            scan.truncated = self.backend.delete_after(scan.last_seq)

    def append(self, records: list[Record]) -> None:
        if self.read_only:
            raise JournalError(JournalCode.JOURNAL_READ_ONLY, f"{self.location} was opened read-only")
        self.backend.append(records)

    def get(self, seq: int) -> Record | None:
        return self.backend.get(seq)

    def records(self, after: int = 0, upto: int | None = None) -> Iterator[Record]:
        for rec in self.backend.records(after):
            if upto is not None and rec.seq > upto:
                return
            yield rec

    # -- snapshots -------------------------------------------------------------------------------------
    def write_snapshot(self, seq: int, engine: Engine) -> SnapshotRow:
        """Store `engine` as the state after record `seq`."""
        if self.read_only:
            raise JournalError(JournalCode.JOURNAL_READ_ONLY, f"{self.location} was opened read-only")
        if engine.seq != seq:
            raise JournalError(
                JournalCode.SEQ_MISMATCH, f"{self.location}: snapshot for record {seq} of an engine at seq {engine.seq}"
            )
        row = SnapshotRow(seq, state_hash(engine), zlib.compress(canonical(snapshot(engine)), 1)).sealed()
        self.backend.put_snapshot(row)
        return row

    def load_snapshot(self, upto: int, notes: list[str] | None = None) -> tuple[int, Engine] | None:
        """The newest snapshot covering at most `upto` that verifies (checksum, decode, hash); skipped ones
        are described in `notes`."""
        for seq in self.backend.snapshot_seqs():
            if seq > upto:
                continue
            row = self.backend.get_snapshot(seq)
            if row is None:
                continue
            if not row.valid:
                _note(notes, f"snapshot {seq} fails its checksum; skipped")
                continue
            try:
                engine = restore(json.loads(zlib.decompress(row.data)))
            except (ValueError, KeyError, TypeError, AttributeError, zlib.error) as exc:  # incl. SnapshotError
                _note(notes, f"snapshot {seq} does not restore ({exc}); skipped")
                continue
            if state_hash(engine) != row.hash:
                _note(notes, f"snapshot {seq} restores to a different hash; skipped")
                continue
            if engine.seq != seq:
                _note(notes, f"snapshot {seq} restores an engine at seq {engine.seq}; skipped")
                continue
            return seq, engine
        return None

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stored_size(rec: Record) -> int:
    """The bytes a record holds in its variable columns (what truncating it drops, give or take the row header)."""
    key = 0 if rec.key is None else len(rec.key.encode())
    return len(rec.payload) + len(rec.events or b"") + len(rec.checksum) + len(rec.kind) + key


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None:
        notes.append(text)


def open_journal(target: str | Path, *, read_only: bool = False, create: bool = True) -> Journal:
    """Open a journal by path or URL (see `open_backend`)."""
    return Journal(open_backend(target, read_only=read_only, create=create), read_only=read_only)
