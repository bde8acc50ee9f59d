"""`isomargin replay` and `isomargin journal inspect`: figures that match a clean replay; one-line errors."""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
from pathlib import Path

import pytest
from journalkit import tamper, write_old_journal
from typer.testing import CliRunner

from isomargin.cli import app
from isomargin.engine import Engine, state_hash
from isomargin.journal import DurableEngine, open_journal, rebuild
from isomargin.journal.crashchild import seeded_stream

runner = CliRunner()
STREAM = seeded_stream(9, 900)


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    with DurableEngine.open(tmp_path, snapshot_every=300) as venue:
        for i in range(0, len(STREAM), 25):
            venue.submit_batch(STREAM[i : i + 25])
    return tmp_path


def clean() -> Engine:
    e = Engine()
    for c in STREAM:
        e.apply(c)
    return e


def test_replay_json(journal: Path) -> None:
    res = runner.invoke(app, ["replay", str(journal), "--json", "--full"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["hash"] == state_hash(clean())
    assert data["seq"] == data["records"] == 900 and data["replayed"] == 900 and data["divergent"] == []
    assert sum(data["commands"].values()) == 900 and data["rejected"] > 0
    assert set(data["balances"]["assets"]["USDT"]) >= {"wallet", "external", "residual"}
    assert data["balances"]["residual"] == "0"  # the ledger conserves exactly
    assert data["state"]["accounts"] == 6  # five, and the stream's risky one


def test_replay_text_uses_the_snapshot(journal: Path) -> None:
    res = runner.invoke(app, ["replay", str(journal)], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "from snapshot 900" in res.output and state_hash(clean()) in res.output
    assert "conservation residual" in res.output


def test_replay_upto(journal: Path) -> None:
    res = runner.invoke(app, ["replay", str(journal), "--json", "--upto", "123"])
    e = Engine()
    for c in STREAM[:123]:
        e.apply(c)
    assert json.loads(res.output)["hash"] == state_hash(e)


def test_inspect(journal: Path) -> None:
    res = runner.invoke(app, ["journal", "inspect", str(journal), "--json", "--from", "10", "--limit", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["count"] == 900 and data["bad"] == [] and data["snapshots"] == [300, 600, 900]
    assert [r["seq"] for r in data["records"]] == [10, 11, 12] and all(r["ok"] for r in data["records"])
    text = runner.invoke(app, ["journal", "inspect", str(journal), "--limit", "2", "--events"])
    assert text.exit_code == 0 and "ListInstrument" in text.output and "InstrumentListed" in text.output


def test_inspect_events_are_the_engines_dicts(journal: Path) -> None:
    """Events are shown as Event.to_dict(): with the seq and ts of their record, the command and their index."""
    res = runner.invoke(app, ["journal", "inspect", str(journal), "--json", "--events", "--from", "1", "--limit", "3"])
    listed, created, deposit = json.loads(res.output)["records"]
    (event,) = listed["event_list"]
    assert event["event"] == "InstrumentListed" and event["seq"] == 1 and event["index"] == 0
    assert event["command"] == "ListInstrument" and event["ts"] == STREAM[0].ts and event["tick_size"] == "0.10"
    assert created["event_list"][0] == {
        "event": "AccountCreated",
        "seq": 2,
        "ts": STREAM[1].ts,
        "command": "CreateAccount",
        "cause_account": 1,
        "cause_client_order_id": None,
        "index": 0,
        "account": 1,
        "hedge_mode": False,
    }
    (posted,) = deposit["event_list"]
    assert posted["postings"] == [["external:USDT", "wallet:1:USDT", "USDT", "1000000", "deposit"]]


def test_inspect_shows_bad_records_and_replay_reports_the_torn_tail(journal: Path) -> None:
    tamper(str(journal / "journal.sqlite3"), 900, "payload", lambda raw: raw[:10])
    data = json.loads(runner.invoke(app, ["journal", "inspect", str(journal), "--json"]).output)
    assert data["bad"] == [900]
    rep = json.loads(runner.invoke(app, ["replay", str(journal), "--json"]).output)
    assert rep["seq"] == 899 and rep["bad_tail"] == [900] and "torn tail" in rep["notes"][0]
    with open_journal(journal, read_only=True) as j:
        assert j.scan().bad_tail == [900]  # replay is read-only: nothing truncated


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["replay", "/nonexistent/journal.sqlite3"], "journal_missing"),
        (["replay", "ftp://x/y"], "bad_journal_url"),
        (["journal", "inspect", "postgresql://127.0.0.1:1/test"], "journal_unreachable"),
    ],
)
def test_errors_are_one_line_exit_2(args: list[str], code: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {code}: ")


def test_a_format_1_journal_is_a_one_line_error(tmp_path: Path) -> None:
    write_old_journal(str(tmp_path / "journal.sqlite3"))
    for args in (["replay", str(tmp_path)], ["journal", "inspect", str(tmp_path)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and res.output.startswith("error: journal_format: ")
        assert "journal format 1, this build reads 2" in res.output and len(res.output.strip().splitlines()) == 1


def test_corrupt_middle_is_a_one_line_error(journal: Path) -> None:
    tamper(str(journal / "journal.sqlite3"), 450, "payload", lambda raw: raw.replace(b"U", b"V", 1))
    res = runner.invoke(app, ["replay", str(journal)])
    assert res.exit_code == 2 and res.output.startswith("error: journal_corrupt: ")
    assert "record 450 fails its checksum" in res.output


def test_snapshot_replay_reproduces_the_journaled_events(journal: Path) -> None:
    """A restored snapshot must behave exactly like the live engine: same events, not just the same hash."""
    with open_journal(journal, read_only=True) as j:
        assert rebuild(j, upto=900, verify_events=True).divergent == []
        rng = random.Random(1)
        for _ in range(3):
            upto = rng.randint(300, 900)
            assert rebuild(j, upto=upto, verify_events=True).divergent == []


def test_replay_and_inspect_tell_the_recovery_and_the_mark(journal: Path) -> None:
    rep = json.loads(runner.invoke(app, ["replay", str(journal), "--json"]).output)
    rec = rep["recovery"]
    assert (rec["records_read"], rec["last_seq"], rec["high_water"], rec["lost"], rec["tail"]) == (
        900,
        900,
        900,
        0,
        "none",
    )
    assert rec["snapshot_seq"] == 900 and "High-water mark 900 ≤ 900" in rep["recovery_text"]
    text = runner.invoke(app, ["replay", str(journal)]).output
    assert "read 900 record(s)" in text and "from snapshot 900 + 0 replayed" in text
    tamper(str(journal / "journal.sqlite3"), 900, "checksum", lambda raw: bytes(len(raw)))
    rec = json.loads(runner.invoke(app, ["replay", str(journal), "--json"]).output)["recovery"]
    assert (rec["last_seq"], rec["torn_from"], rec["tail"], rec["lost"]) == (899, 900, "ignored", 1)
    with contextlib.closing(sqlite3.connect(journal / "journal.sqlite3")) as lite:  # records gone without a trace
        lite.execute("DELETE FROM records WHERE seq > 895")
        lite.commit()
    data = json.loads(runner.invoke(app, ["journal", "inspect", str(journal), "--json"]).output)
    assert (data["last_seq"], data["high_water"]) == (895, 900)
    out = runner.invoke(app, ["journal", "inspect", str(journal)], env={"COLUMNS": "250"}).output
    assert "high-water mark 900" in out and "journal behind: seqs 896..900 were acknowledged and are gone" in out
