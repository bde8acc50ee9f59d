"""A full disk under the SQLite journal (a 2 MB tmpfs, mounted when running as root): the append fails with
journal_full, nothing of that group is acknowledged, the instance stops, and once space is back a reopen
recovers exactly the acknowledged commands (no journal_behind: the high-water mark never ran ahead)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from isomargin.engine import Engine, state_hash
from isomargin.journal import DurableEngine, JournalCode, JournalError, open_journal
from isomargin.journal.crashchild import seeded_stream
from tmpfs import small_tmpfs

STREAM = seeded_stream(13, 6000)


def fill_disk(path: Path) -> None:
    """Take every free byte of the file system that holds `path`."""
    with open(path, "wb", buffering=0) as fh:  # unbuffered: nothing left to fail at close
        chunk = b"\0" * 65536
        try:
            while True:
                fh.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        while len(chunk) > 1:  # the last partial pages
            chunk = chunk[: len(chunk) // 2]
            with contextlib.suppress(OSError):
                fh.write(chunk)


def test_a_full_disk_is_journal_full_and_acknowledges_nothing_of_the_group(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt") as mnt:
        target = str(mnt / "journal.sqlite3")
        venue = DurableEngine.open(target)
        venue.submit_batch(STREAM[:200])
        acked = venue.seq
        fill_disk(mnt / "filler")
        failure: JournalError | None = None
        for i in range(acked, len(STREAM), 50):  # the WAL's spare pages fill first
            try:
                venue.submit_batch(STREAM[i : i + 50])
            except JournalError as exc:
                failure = exc
                break
            acked = venue.seq
        assert failure is not None, "the journal never ran out of space"
        assert failure.code is JournalCode.JOURNAL_FULL and "disk is full" in failure.message, failure
        with pytest.raises(JournalError) as again:  # fail-stop: the instance refuses from now on
            venue.submit(STREAM[acked])
        assert again.value.code is JournalCode.JOURNAL_FULL  # the operator's cue: free space, then restart
        venue.close()
        (mnt / "filler").unlink()
        with DurableEngine.open(target) as back:
            assert back.seq == acked and back.recovery.report().lost == 0
            ref = Engine()
            for cmd in STREAM[:acked]:
                ref.apply(cmd)
            assert back.state_hash() == state_hash(ref)


def test_the_backend_append_itself_says_journal_full(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt") as mnt:
        target = str(mnt / "journal.sqlite3")
        with DurableEngine.open(target) as venue:
            venue.submit_batch(STREAM[:100])
            records = [venue.journal.get(seq) for seq in range(1, 101)]
        with open_journal(target) as j:
            fill_disk(mnt / "filler")
            copies = [r for r in records if r is not None]
            with pytest.raises(JournalError) as err:
                for n in range(1, 10_000):  # the same records again under new seqs, until the disk refuses
                    j.backend.append([type(r)(r.seq + 100 * n, r.ts, r.kind, r.payload, None, r.events, r.checksum)
                                      for r in copies])  # fmt: skip
            assert err.value.code is JournalCode.JOURNAL_FULL and "disk is full" in err.value.message
            assert not j.backend.db.in_transaction  # type: ignore[attr-defined]  # rolled back, usable again


def test_opening_on_a_full_disk_is_journal_full(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt") as mnt:
        target = str(mnt / "journal.sqlite3")
        with DurableEngine.open(target) as venue:
            venue.submit_batch(STREAM[:100])
        fill_disk(mnt / "filler")
        with pytest.raises(JournalError) as err:
            DurableEngine.open(target)
        assert err.value.code is JournalCode.JOURNAL_FULL, err.value


def test_postgresql_disk_full_is_journal_full_and_a_reopen_recovers() -> None:
    """The journal's tables in a tablespace on a 1 MB tmpfs (the server is local): SQLSTATE 53100 disk_full."""
    from journalkit import PG_BASE, drop_schema, pg_reachable

    if not pg_reachable():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    import psycopg
    from psycopg import sql

    tablespace = "isomargin_tiny"
    base = Path(tempfile.mkdtemp(prefix="isomargin-pg-"))  # the server's user must reach it: not under tmp_path
    base.chmod(0o755)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, base, ignore_errors=True)
        mnt = cleanup.enter_context(small_tmpfs(base / "pg", size="1m"))
        owner = subprocess.run(["id", "-u", "postgres"], capture_output=True, text=True)
        if owner.returncode:
            pytest.skip("no local postgres user to own the tablespace directory")
        os.chown(mnt, int(owner.stdout), -1)
        try:
            with psycopg.connect(PG_BASE, autocommit=True) as db:
                db.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(
                    sql.Identifier(tablespace), sql.Literal(str(mnt))))  # fmt: skip
        except psycopg.Error as exc:
            pytest.skip(f"cannot create a tablespace on the tmpfs (is the server on this machine?): {exc}")
        schema = f"full_{os.getpid()}"
        url = f"{PG_BASE}?schema={schema}&options=-c%20default_tablespace%3D{tablespace}"
        try:
            venue = DurableEngine.open(url)
            acked, failure = 0, None
            for i in range(0, len(STREAM), 50):
                try:
                    venue.submit_batch(STREAM[i : i + 50])
                except JournalError as exc:
                    failure = exc
                    break
                acked = venue.seq
            venue.close()
            assert failure is not None and "journal_full" in failure.message, failure
            assert "No space left on device" in failure.message
            subprocess.run(["mount", "-o", "remount,size=16m", str(mnt)], check=True)  # space is back
            with DurableEngine.open(url) as back:
                assert back.seq == acked > 0
                ref = Engine()
                for cmd in STREAM[:acked]:
                    ref.apply(cmd)
                assert back.state_hash() == state_hash(ref)
        finally:
            drop_schema(schema)
            with psycopg.connect(PG_BASE, autocommit=True) as db:
                db.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(sql.Identifier(tablespace)))
