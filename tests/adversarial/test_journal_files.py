"""A real `isomargin serve` started on damaged journal files: the database cut mid-page, garbage bytes at random
offsets, a zero-length file, a file that is not SQLite, the WAL cut after acknowledged orders, another format,
a damaged snapshot, a torn last record, a read-only database file. Each start either recovers loudly and exactly
(its printed recovery names the good prefix, and the journal's state hash equals a clean replay of the
surviving prefix of the undamaged copy) or refuses with one line `error: <code>: …` and exit 2; never a
traceback, never a silent loss."""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from isomargin.engine import Engine, state_hash
from isomargin.journal import command_from_bytes, open_journal, rebuild
from isomargin.journal.sqlite import HWM_SUFFIX, HighWater
from isomargin.server.testing import RunningVenue, free_port, signed
from tmpfs import small_tmpfs

SERVE = [sys.executable, "-m", "isomargin.server.cli", "serve"]
ARGS = ("--no-feed", "--no-market-maker", "--rate-limit", "0")
DB = "journal.sqlite3"
ORDERS = 30  # crossing orders, two accounts: fills, not only resting orders
PREFIX = re.compile(r"good prefix 1\.\.(\d+)")


@dataclass(slots=True)
class Attempt:
    code: int | None  # None: it came up and served (then stopped with SIGTERM)
    out: str
    err: str


def attempt(data: Path) -> Attempt:
    """Start `serve` on `data`: its exit if it refused, else its output once it served."""
    port = free_port()
    proc = subprocess.Popen([*SERVE, "--port", str(port), "--data", str(data), *ARGS], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "ISOMARGIN_ADMIN_KEY": "k"})  # fmt: skip
    deadline = time.time() + 30
    while proc.poll() is None and time.time() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
            proc.send_signal(signal.SIGTERM)
            break
        time.sleep(0.1)
    out, err = proc.communicate(timeout=30)
    return Attempt(None if proc.returncode in (-signal.SIGTERM, 0) else proc.returncode, out, err)


def build(data: Path, kill: bool = False) -> int:
    """A venue journal with two accounts and crossing orders; returns its last seq. `kill` leaves it as a
    kill -9 does (the WAL not checkpointed into the database)."""
    v = RunningVenue(data, *ARGS)
    a, b = v.new_account("10000000"), v.new_account("10000000")
    for i in range(ORDERS):
        who, side = (a, "SELL") if i % 2 else (b, "BUY")
        params = {"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
                  "price": str(60000 + i % 3)}  # fmt: skip
        status, body = signed(v.base, "/fapi/v1/order", who["apiKey"], who["secret"], "POST", params=params)
        assert status == 200, body
    if kill:
        os.kill(v.proc.pid, signal.SIGKILL)
        v.proc.wait()
        v.log.close()
        # (opening the journal would checkpoint the WAL away: the mark says what was acknowledged)
        seq = HighWater(Path(f"{data / DB}{HWM_SUFFIX}"), writable=False).at_open
        assert seq is not None
        return seq
    v.stop()
    with open_journal(data, read_only=True) as j:
        return rebuild(j).last_seq


def refused(run: Attempt, *codes: str) -> str:
    """One line `error: <code>: …` (code among `codes`), exit 2, nothing on stdout, no traceback."""
    assert run.code == 2, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.err, run.err
    assert any(lines[0].startswith(f"error: {c}: ") for c in codes), lines[0]
    assert run.out == ""
    return lines[0]


def recovered_exactly(run: Attempt, data: Path, pristine: Path, expect_last: int) -> str:
    """It served; its recovery paragraph names the good prefix 1..expect_last, and the journal's records and
    state up to there are the undamaged copy's (state hash of a clean replay of those commands)."""
    assert run.code is None and "Traceback" not in run.err, (run.code, run.err)
    paragraph = run.out.splitlines()[0]
    m = PREFIX.search(paragraph)
    assert m is not None and int(m.group(1)) == expect_last, paragraph
    with open_journal(pristine, read_only=True) as p, open_journal(data, read_only=True) as j:
        good = list(p.records(upto=expect_last))
        assert [r.payload for r in j.records(upto=expect_last)] == [r.payload for r in good]
        engine = Engine()
        for rec in good:
            engine.apply(command_from_bytes(rec.payload))
        assert state_hash(rebuild(j, upto=expect_last).engine) == state_hash(engine)
    return paragraph


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[tuple[Path, Path, int]]:
    """(data dir, an undamaged copy of it, last seq) after a clean stop."""
    data = tmp_path / "data"
    last = build(data)
    pristine = tmp_path / "pristine"
    shutil.copytree(data, pristine)
    yield data, pristine, last


def test_an_undamaged_journal_recovers_loudly(venue: tuple[Path, Path, int]) -> None:
    data, pristine, last = venue
    paragraph = recovered_exactly(attempt(data), data, pristine, last)
    assert f"read {last} record(s)" in paragraph and f"High-water mark {last} ≤ {last}" in paragraph


def test_the_database_cut_mid_page_is_refused(venue: tuple[Path, Path, int]) -> None:
    data, _, _ = venue
    db = data / DB
    size = db.stat().st_size
    os.truncate(db, size - 4096 - 1000)  # the last page gone and the one before it cut in the middle
    refused(attempt(data), "journal_unreadable", "journal_behind", "journal_corrupt")


@pytest.mark.parametrize("seed", range(6))
def test_garbage_bytes_at_random_offsets_recover_exactly_or_are_refused(
    venue: tuple[Path, Path, int], seed: int
) -> None:
    data, pristine, last = venue
    rng = random.Random(seed)
    db = data / DB
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        for _ in range(3):
            fh.seek(rng.randrange(size))
            fh.write(rng.randbytes(rng.randint(1, 64)))
    run = attempt(data)
    if run.code is None:  # the bytes landed in free space or unused slack: nothing lost, and said so
        recovered_exactly(run, data, pristine, last)
    else:
        refused(run, "journal_unreadable", "journal_corrupt", "journal_behind", "not_a_journal")


def test_a_zero_length_database_is_journal_behind(venue: tuple[Path, Path, int]) -> None:
    data, _, last = venue
    os.truncate(data / DB, 0)
    line = refused(attempt(data), "journal_behind")
    assert f"ends at seq 0 but its high-water mark says seq {last}" in line


def test_a_file_that_is_not_sqlite_is_refused(venue: tuple[Path, Path, int]) -> None:
    data, _, _ = venue
    (data / DB).write_bytes(b"%PDF-1.4 not a database at all\n" * 300)
    refused(attempt(data), "journal_unreadable", "not_a_journal")


def test_the_wal_cut_after_acknowledged_orders_is_journal_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    last = build(data, kill=True)  # every order acknowledged; the WAL holds the commits
    wal = data / f"{DB}-wal"
    assert wal.stat().st_size > 32 + 10 * 4120, "the WAL should hold the acknowledged commits"
    os.truncate(wal, 32 + (wal.stat().st_size - 32) // 2)  # header + the first half of the frames
    line = refused(attempt(data), "journal_behind")
    assert f"high-water mark says seq {last} was acknowledged" in line


def test_another_journal_format_is_refused(venue: tuple[Path, Path, int]) -> None:
    data, _, _ = venue
    with contextlib.closing(sqlite3.connect(data / DB)) as lite:
        lite.execute("UPDATE meta SET value = 'isomargin-journal-3' WHERE key = 'format'")
        lite.commit()
    line = refused(attempt(data), "journal_format")
    assert "journal format 3, this build reads 2" in line


def test_a_damaged_snapshot_is_skipped_and_said_so(venue: tuple[Path, Path, int]) -> None:
    data, pristine, last = venue
    with open_journal(data) as j:
        j.write_snapshot(last, rebuild(j).engine)
    with contextlib.closing(sqlite3.connect(data / DB)) as lite:
        (blob,) = lite.execute("SELECT data FROM snapshots WHERE seq = ?", (last,)).fetchone()
        lite.execute("UPDATE snapshots SET data = ? WHERE seq = ?", (bytes(blob[:-3]) + b"\x00\x00\x00", last))
        lite.commit()
    paragraph = recovered_exactly(attempt(data), data, pristine, last)
    assert f"snapshot {last} fails its checksum; skipped" in paragraph and "from empty" in paragraph


def test_a_torn_last_record_never_acknowledged_is_truncated_loudly(venue: tuple[Path, Path, int]) -> None:
    data, pristine, last = venue
    with contextlib.closing(sqlite3.connect(data / DB)) as lite:
        lite.execute("UPDATE records SET payload = substr(payload, 1, 9) WHERE seq = ?", (last,))
        lite.commit()
    mark = HighWater(Path(f"{data / DB}{HWM_SUFFIX}"), writable=True)
    mark.mark(last - 1)  # as if the kill came between the last COMMIT and its acknowledgement
    mark.close()
    paragraph = recovered_exactly(attempt(data), data, pristine, last - 1)
    assert f"Torn tail: 1 bad record(s) from seq {last}" in paragraph and "truncated" in paragraph


def test_a_torn_acknowledged_record_is_journal_behind(venue: tuple[Path, Path, int]) -> None:
    data, _, last = venue
    with contextlib.closing(sqlite3.connect(data / DB)) as lite:
        lite.execute("UPDATE records SET checksum = zeroblob(32) WHERE seq = ?", (last,))
        lite.commit()
    line = refused(attempt(data), "journal_behind")
    assert f"ends at seq {last - 1} (then 1 bad record(s) from seq {last})" in line


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="needs root to bind-mount a file")
def test_a_read_only_database_file_is_journal_read_only(venue: tuple[Path, Path, int]) -> None:
    data, _, _ = venue
    db = str(data / DB)
    if subprocess.run(["mount", "--bind", db, db], capture_output=True).returncode:
        pytest.skip("this container may not bind-mount")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", db], check=True)
        refused(attempt(data), "journal_read_only")
    finally:
        subprocess.run(["umount", "-l", db], check=False)


def test_a_full_disk_is_503_then_a_fail_stop_and_a_restart_loses_nothing(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "2m") as mnt:
        data = mnt / "data"
        v = RunningVenue(data, *ARGS)
        a, b = v.new_account("10000000"), v.new_account("10000000")
        filler = -1
        acked: list[tuple[dict[str, str], int]] = []
        answer: tuple[int, object] = (200, None)
        for i in range(20_000):  # after the first 20 the disk is full; the WAL's spare pages may last a while
            if i == 20:
                filler = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
                with contextlib.suppress(OSError):
                    while os.write(filler, b"\0" * 65536):
                        pass
            who, side = (a, "SELL") if i % 2 else (b, "BUY")
            params = {"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
                      "price": "60000"}  # fmt: skip
            answer = signed(v.base, "/fapi/v1/order", who["apiKey"], who["secret"], "POST", params=params)
            if answer[0] != 200:
                break
            acked.append((who, answer[1]["orderId"]))  # type: ignore[index]
        status, body = answer
        assert status == 503 and "journal_full" in str(body), answer
        assert v.proc.wait(30) == 3  # fail-stop: the venue stops, a restart recovers
        v.log.close()
        log = (mnt / "data-server.log").read_text()
        assert "Traceback" not in log and log.splitlines()[-1].startswith("error: journal_full: "), log[-2000:]
        os.close(filler)
        (mnt / "filler").unlink()
        with RunningVenue(data, *ARGS) as back:
            lost = [oid for who, oid in acked
                    if signed(back.base, "/fapi/v1/order", who["apiKey"], who["secret"],
                              params={"symbol": "BTCUSDT", "orderId": oid})[0] != 200]  # fmt: skip
        assert len(acked) >= 20 and lost == []
