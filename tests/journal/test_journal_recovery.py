"""Loud recovery: the report an open gives (records read, snapshot, torn tail with its bytes, high-water mark,
time), and the SQLite high-water mark that refuses a journal which lost acknowledged records (journal_behind)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from journalkit import get_column, set_high_water, tamper

from isomargin.journal import DurableEngine, JournalCode, JournalError, open_journal, rebuild
from isomargin.journal.crashchild import seeded_stream
from isomargin.journal.replay import TailAction
from isomargin.journal.sqlite import HWM_SUFFIX

N = 60
STREAM = seeded_stream(11, N)


def fill(target: str, snapshot_every: int = 0) -> None:
    with DurableEngine.open(target, snapshot_every=snapshot_every) as venue:
        for i in range(0, N, 10):
            venue.submit_batch(STREAM[i : i + 10])


def column_bytes(target: str, seq: int, column: str) -> bytes:
    value = get_column(target, seq, column)
    assert value is None or isinstance(value, bytes | memoryview)
    return b"" if value is None else bytes(value)


def test_a_clean_open_reports_every_figure(target: str) -> None:
    fill(target, snapshot_every=25)  # snapshots after the groups ending at 30 and 60 (every ≥ 25 commands)
    with DurableEngine.open(target) as venue:
        rep = venue.recovery.report()
    assert (rep.records_read, rep.last_seq, rep.rebuilt_to) == (N, N, N)
    assert rep.snapshot_seq == 60 and rep.replayed == 0
    assert rep.torn_from is None and rep.tail is TailAction.NONE and rep.lost == 0
    text = rep.describe()
    assert f"read {N} record(s)" in text and "snapshot 60 + 0 replayed" in text and "No torn tail" in text
    if target.startswith("postgresql://"):
        assert rep.high_water is None and not rep.high_water_kept and "keeps none" in text
    else:
        assert rep.high_water == N and f"High-water mark {N} ≤ {N}" in text


def test_a_torn_unacknowledged_tail_is_reported_with_its_bytes(target: str) -> None:
    fill(target)
    tamper(target, N, "payload", lambda raw: raw[:7])
    set_high_water(target, N - 1)  # the group holding seq N never returned
    payload, events, checksum = (column_bytes(target, N, c) for c in ("payload", "events", "checksum"))
    key = get_column(target, N, "idem_key")
    assert key is None or isinstance(key, str)
    stored = len(payload) + len(events) + len(checksum) + len("command") + len((key or "").encode())
    with DurableEngine.open(target) as venue:
        rep = venue.recovery.report()
    assert (rep.records_read, rep.last_seq, rep.torn_from, rep.torn_records) == (N, N - 1, N, 1)
    assert rep.torn_bytes == stored and rep.tail is TailAction.TRUNCATED and rep.lost == 0
    assert f"1 bad record(s) from seq {N} ({stored} bytes) truncated, none of them acknowledged" in rep.describe()


def test_a_torn_acknowledged_record_is_journal_behind_and_nothing_is_truncated(sqlite_target: str) -> None:
    fill(sqlite_target)
    tamper(sqlite_target, N, "checksum", lambda raw: bytes(len(raw)))
    with pytest.raises(JournalError) as err:
        DurableEngine.open(sqlite_target)
    assert err.value.code is JournalCode.JOURNAL_BEHIND
    assert f"ends at seq {N - 1} (then 1 bad record(s) from seq {N})" in err.value.message
    assert f"high-water mark says seq {N} was acknowledged" in err.value.message
    with open_journal(sqlite_target, read_only=True) as j:  # the evidence is still there
        rb = rebuild(j)
    rep = rb.report()
    assert rep.lost == 1 and rep.tail is TailAction.IGNORED and "LOST" in rep.describe()


def test_records_gone_without_a_trace_are_journal_behind(sqlite_target: str) -> None:
    """What a WAL cut after a kill looks like from inside: the last groups are simply not there."""
    fill(sqlite_target)
    with contextlib.closing(sqlite3.connect(sqlite_target)) as lite:
        lite.execute("DELETE FROM records WHERE seq > ?", (N - 15,))
        lite.commit()
    with pytest.raises(JournalError) as err:
        DurableEngine.open(sqlite_target)
    assert err.value.code is JournalCode.JOURNAL_BEHIND and "15 acknowledged record(s) are lost" in err.value.message


def test_a_deleted_database_with_its_mark_left_is_journal_behind(tmp_path: Path) -> None:
    target = str(tmp_path / "journal.sqlite3")
    fill(target)
    for suffix in ("", "-wal", "-shm"):
        Path(target + suffix).unlink(missing_ok=True)
    with pytest.raises(JournalError) as err:
        DurableEngine.open(target)
    assert err.value.code is JournalCode.JOURNAL_BEHIND and "ends at seq 0 but" in err.value.message


@pytest.mark.parametrize("garbage", [b"", b"\x01\x02\x03", b"\xff" * 16])
def test_a_damaged_mark_is_ignored_and_said_so(sqlite_target: str, garbage: bytes) -> None:
    fill(sqlite_target)
    Path(sqlite_target + HWM_SUFFIX).write_bytes(garbage)
    with DurableEngine.open(sqlite_target) as venue:
        rep = venue.recovery.report()
        assert venue.seq == N and rep.high_water is None
        venue.submit(STREAM[0])  # a new durable group rewrites the mark
    if garbage:
        assert any("high-water mark ignored" in n for n in rep.notes)
    with open_journal(sqlite_target, read_only=True) as j:
        assert j.backend.high_water() == N + 1


def test_a_fresh_sqlite_journal_says_it_has_no_mark_yet(sqlite_target: str) -> None:
    with DurableEngine.open(sqlite_target) as venue:
        text = venue.recovery.report().describe()
    assert "read 0 record(s)" in text and "No high-water mark yet" in text


def test_the_mark_follows_every_durable_group(sqlite_target: str) -> None:
    with DurableEngine.open(sqlite_target) as venue:
        for i in range(0, 30, 10):
            venue.submit_batch(STREAM[i : i + 10])
            with open_journal(sqlite_target, read_only=True) as j:
                assert j.backend.high_water() == i + 10
