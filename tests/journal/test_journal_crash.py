"""Kill -9 a real child process journaling a seeded stream, many times: after each restart every
acknowledged command is present and the state hash equals a clean replay of the same prefix.
(The long version, ≥ 1000 kills, is bench/crash_recovery.py.)"""

from __future__ import annotations

from pathlib import Path

from isomargin.journal.crashloop import run_crash_trials


def test_kill_9_sqlite(tmp_path: Path) -> None:
    stats = run_crash_trials(lambda r: str(tmp_path / f"round{r}.sqlite3"), kills=15, count=2500, seed=3)
    assert stats.kills == 15 and stats.recoveries >= 15
    assert stats.lost_acks == 0
    assert stats.hash_mismatches == 0
    assert stats.record_mismatches == 0 and stats.behind_refusals == 0
    assert stats.acked > 0 and stats.fills > 100  # crossing and market orders filled, not only resting ones


def test_kill_9_postgresql(pg_url: str) -> None:
    from journalkit import drop_schema, new_pg_url

    schemas: list[str] = []

    def fresh(_: int) -> str:
        url, schema = new_pg_url()
        schemas.append(schema)
        return url

    try:
        stats = run_crash_trials(fresh, kills=6, count=1500, seed=4, snapshot_every=300)
    finally:
        for schema in schemas:
            drop_schema(schema)
    assert stats.kills == 6
    assert stats.lost_acks == 0 and stats.hash_mismatches == 0 and stats.record_mismatches == 0
