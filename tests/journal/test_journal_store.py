"""Checksums and ordering: a torn or corrupt tail is detected and truncated past the last good record;
damage followed by good records refuses to start. Every column of every record is covered, on SQLite and
on PostgreSQL."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path

import pytest
from journalkit import put_column, set_high_water, stored_format, tamper, write_old_journal

from isomargin.engine import Engine, state_hash
from isomargin.journal import DurableEngine, JournalError, open_journal, rebuild
from isomargin.journal.crashchild import seeded_stream

N = 40
COLUMNS = ("payload", "events", "checksum", "ts", "kind", "idem_key")


def fill(target: str, n: int = N) -> str:
    with DurableEngine.open(target) as venue:
        for i in range(0, n, 7):
            venue.submit_batch(seeded_stream(5, n)[i : i + 7])
        return venue.state_hash()


def clean_hash(n: int) -> str:
    engine = Engine()
    for cmd in seeded_stream(5, N)[:n]:
        engine.apply(cmd)
    return state_hash(engine)


def flip(rng: random.Random):  # type: ignore[no-untyped-def]
    def change(raw: bytes) -> bytes:
        if not raw:
            return b"x"
        i = rng.randrange(len(raw))
        return raw[:i] + bytes([raw[i] ^ (1 << rng.randrange(8))]) + raw[i + 1 :]

    return change


def keyed_seqs(target: str) -> list[int]:
    with open_journal(target) as j:
        return [r.seq for r in j.records() if r.key is not None]


def test_clean_journal_scans_clean(target: str) -> None:
    fill(target)
    with open_journal(target) as j:
        scan = j.scan()
        assert scan.last_seq == N and not scan.torn


def test_torn_tail_is_truncated_past_last_good(target: str) -> None:
    h = fill(target)
    tamper(target, N, "payload", lambda raw: raw[: len(raw) // 2])  # the last record, cut mid-record
    set_high_water(target, N - 1)  # torn before its group returned: never acknowledged
    with DurableEngine.open(target) as venue:
        assert venue.seq == N - 1
        assert venue.recovery.scan.bad_tail == [N] and venue.recovery.scan.truncated == 1
        assert any("torn tail" in note for note in venue.recovery.notes)
        assert venue.state_hash() == clean_hash(N - 1) != h
    with open_journal(target) as j:
        assert j.scan().last_seq == N - 1 and not j.scan().torn  # repaired for good


def test_two_bad_records_at_the_tail_are_both_truncated(target: str) -> None:
    fill(target)
    tamper(target, N - 1, "checksum", lambda raw: bytes(32))
    tamper(target, N, "payload", lambda raw: raw + b" ")
    set_high_water(target, N - 2)
    with DurableEngine.open(target) as venue:
        assert venue.seq == N - 2 and venue.recovery.scan.truncated == 2


def test_read_only_reports_but_does_not_truncate(target: str) -> None:
    fill(target)
    tamper(target, N, "payload", lambda raw: raw[:3])
    with open_journal(target, read_only=True) as j:
        rb = rebuild(j)
        assert rb.last_seq == N - 1 and rb.scan.bad_tail == [N] and rb.scan.truncated == 0
    with open_journal(target, read_only=True) as j:
        assert j.scan().bad_tail == [N]


@pytest.mark.parametrize("column", COLUMNS)
def test_bit_flips_are_detected_every_time(target: str, column: str) -> None:
    """Flip one random bit of one column: at the tail it is truncated, anywhere else start-up refuses."""
    fill(target)
    rng = random.Random(column)
    seqs = keyed_seqs(target) if column == "idem_key" else list(range(1, N + 1))
    for trial in range(8):
        seq = seqs[-1] if trial == 0 else rng.choice(seqs[:-1])
        old = tamper(target, seq, column, flip(rng))
        with open_journal(target, read_only=True) as j:
            if seq == N:
                assert j.scan().bad_tail == [N], (column, seq)
            else:
                with pytest.raises(JournalError) as exc:
                    j.scan()
                assert exc.value.code == "journal_corrupt"
                assert f"record {seq} fails its checksum" in exc.value.message
        put_column(target, seq, column, old)
        with open_journal(target, read_only=True) as j:
            assert j.scan().last_seq == N


def test_corruption_in_the_middle_refuses_to_start(target: str) -> None:
    fill(target)
    tamper(target, 17, "payload", flip(random.Random(1)))
    with pytest.raises(JournalError) as exc:
        DurableEngine.open(target)
    assert exc.value.code == "journal_corrupt"
    assert "record 17 fails its checksum but valid record 18 follows" in exc.value.message
    assert "refusing to start" in exc.value.message


def test_a_missing_record_in_the_middle_refuses_to_start(sqlite_target: str) -> None:
    fill(sqlite_target)
    with contextlib.closing(sqlite3.connect(sqlite_target)) as lite:
        lite.execute("DELETE FROM records WHERE seq = 12")
        lite.commit()
    with pytest.raises(JournalError) as exc:
        DurableEngine.open(sqlite_target)
    assert exc.value.code == "journal_corrupt" and "records 12..12 are missing" in exc.value.message


def test_open_errors_have_codes(tmp_path: Path, sqlite_target: str) -> None:
    cases = {
        "bad_journal_url": "mysql://x/y",
        "journal_missing": str(tmp_path / "nope.sqlite3"),
    }
    for code, where in cases.items():
        with pytest.raises(JournalError) as exc:
            open_journal(where, read_only=True)
        assert exc.value.code == code
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError) as exc:
        open_journal(junk)
    assert exc.value.code == "journal_unreadable"
    other = tmp_path / "other.sqlite3"
    with contextlib.closing(sqlite3.connect(other)) as lite:
        lite.execute("CREATE TABLE t (x)")
    with pytest.raises(JournalError) as exc:
        open_journal(other)
    assert exc.value.code == "not_a_journal"


def test_directory_means_the_default_file(tmp_path: Path) -> None:
    with open_journal(tmp_path) as j:
        assert j.location.endswith("journal.sqlite3")
    assert (tmp_path / "journal.sqlite3").exists()


def test_one_writer_at_a_time(target: str) -> None:
    with open_journal(target), pytest.raises(JournalError) as exc:
        open_journal(target)
    assert exc.value.code == "journal_locked"
    with open_journal(target), open_journal(target, read_only=True) as reader:
        assert reader.scan().last_seq == 0


def test_sqlite_is_wal_and_synchronous_full(sqlite_target: str) -> None:
    with open_journal(sqlite_target) as j:
        db = j.backend.db  # type: ignore[attr-defined]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_pg_bad_schema_and_unreachable() -> None:
    with pytest.raises(JournalError) as exc:
        open_journal("postgresql://127.0.0.1:5432/test?schema=Bad-Name")
    assert exc.value.code == "bad_journal_url"
    with pytest.raises(JournalError) as exc:
        open_journal("postgresql://127.0.0.1:1/test")
    assert exc.value.code == "journal_unreachable"


@pytest.mark.parametrize(("stored", "number"), [("isomargin-journal-1", "1"), ("isomargin-journal-3", "3")])
def test_a_journal_of_another_format_is_refused_at_open(target: str, stored: str, number: str) -> None:
    """Format 1 (isomargin <= 0.1) holds the old engine's events: refused, for writing and for reading, with
    both format numbers named, and left exactly as it was."""
    write_old_journal(target, stored)
    for attempt in (
        lambda: open_journal(target),
        lambda: open_journal(target, read_only=True),
        lambda: DurableEngine.open(target),
    ):
        with pytest.raises(JournalError) as exc:
            attempt()
        assert exc.value.code == "journal_format"
        assert f"journal format {number}, this build reads 2" in exc.value.message
        if number == "1":
            assert "isomargin <= 0.1" in exc.value.message
    assert stored_format(target) == (stored, 1)  # nothing truncated, nothing rewritten
